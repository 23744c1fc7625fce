"""AsyncKard: configuration, lifecycle and the resource tree."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import cached_property
from ssl import SSLContext
from types import TracebackType
from typing import Any, Literal

import aiohttp

from ._auth import ClientCredentials, StaticToken, TokenSource, TokenStyle
from ._errors import InvalidParameterError
from ._raw import AsyncWithRawResponse
from ._requester import Requester
from ._retry import RetryPolicy
from ._transport import RequestOptions, ResponseInfo, Transport
from ._validate import (
    require_choice,
    require_connection_options,
    require_header_value,
    require_headers,
    require_http_url,
    require_id,
    require_int,
    require_positive,
    require_str,
)
from ._version import __version__
from .models.ping import Ping
from .resources.auth import AsyncAuth
from .resources.files import AsyncFiles
from .resources.notifications import AsyncNotifications
from .resources.organizations import AsyncOrganizations
from .resources.ping import AsyncPing
from .resources.transactions import AsyncTransactions
from .resources.users import AsyncUsers

Environment = Literal["production", "sandbox"]
ENVIRONMENTS: dict[str, str] = {
    "production": "https://rewards-api.getkard.com",
    "sandbox": "https://test-rewards-api.getkard.com",
}
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
USER_AGENT = f"kard-async/{__version__}"


def _timeout(value: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    if isinstance(value, aiohttp.ClientTimeout):
        return value
    seconds = require_positive("timeout", value)
    return aiohttp.ClientTimeout(total=seconds, sock_connect=min(10.0, seconds))


class AsyncKard:
    """Async client for the Kard Rewards API.

    Use it as ``async with AsyncKard(...) as kard:`` or call ``await kard.aclose()`` when
    done. Settings not passed are read from ``KARD_CLIENT_ID``, ``KARD_CLIENT_SECRET``,
    ``KARD_ORGANIZATION_ID``, ``KARD_ENVIRONMENT`` and ``KARD_BASE_URL`` when the client is
    built.

    Authentication is OAuth client credentials (``client_id`` + ``client_secret``), fetched
    lazily and refreshed before expiry; ``token_style="basic"`` with ``token_url`` selects
    the Basic-auth form flow of Kard's authentication guide. Alternatively ``token=`` (a
    string, or a sync or async callable returning one) supplies the bearer token directly.

    ``organization_id`` is the default for every call; each method also takes
    ``organization_id=`` to override it. ``timeout`` is per attempt, in seconds (or an
    ``aiohttp.ClientTimeout``). Reads are retried ``max_retries`` times on transient
    failures; writes only when they surely were not processed, unless ``retry_writes=True``
    (at-least-once delivery). ``on_response`` is called with a :class:`ResponseInfo`
    (status, headers, request id, elapsed time) for every API response.

    Connections: ``proxy`` is an ``http://`` proxy URL (HTTPS goes through it with
    CONNECT); ``trust_env=True`` reads ``HTTP(S)_PROXY``/``NO_PROXY`` (and ``~/.netrc``).
    ``ssl`` is an ``ssl.SSLContext`` (e.g. with your own CA), or ``False`` to turn off
    certificate checks (only when you ask: by default certificates are verified). A response
    body larger than ``max_response_size`` bytes (default 64 MiB) raises
    ``ResponseTooLargeError``. A ``session`` you pass is used as is and never closed by the
    client (it must belong to the event loop the client runs on; not with the blocking
    ``Kard``, which makes its own). Callbacks (``on_response``, a ``token`` callable) run on
    that loop: with the blocking ``Kard``, on its loop thread.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        token: str | Callable[[], str] | Callable[[], Awaitable[str]] | None = None,
        organization_id: str | None = None,
        environment: Environment | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        token_style: TokenStyle = "json",
        target_issuer: str | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        retry_writes: bool = False,
        max_connections: int = 100,
        headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        on_response: Callable[[ResponseInfo], None] | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        ssl: SSLContext | bool = True,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        if base_url is None and environment is None:
            base_url = os.environ.get("KARD_BASE_URL") or None
        environment = environment or os.environ.get("KARD_ENVIRONMENT") or "production"  # type: ignore[assignment]
        require_choice("environment", environment, tuple(ENVIRONMENTS))
        assert environment is not None
        # An explicit environment= wins over KARD_BASE_URL: credentials go where the code says.
        base = require_http_url("base_url", base_url or ENVIRONMENTS[environment]).rstrip("/")
        require_choice("token_style", token_style, ("json", "basic"))
        require_int("max_connections", max_connections, low=1)
        require_int("max_retries", max_retries, low=0)
        require_int("max_response_size", max_response_size, low=1)
        require_connection_options(proxy, trust_env, ssl, session)
        policy = replace(retry_policy or RetryPolicy(), max_retries=max_retries)
        request_timeout = _timeout(timeout)

        transport = Transport(
            base_url=base,
            auth=None,
            user_agent=USER_AGENT,
            max_connections=max_connections,
            session=session,
            proxy=proxy,
            ssl=ssl,
            trust_env=trust_env,
            max_response_size=max_response_size,
        )
        transport.auth = self._token_source(
            transport,
            client_id=client_id,
            client_secret=client_secret,
            token=token,
            token_url=require_http_url("token_url", token_url or f"{base}/v2/auth/token"),
            token_style=token_style,
            target_issuer=target_issuer,
            timeout=request_timeout,
        )
        self._transport = transport
        organization_id = organization_id or os.environ.get("KARD_ORGANIZATION_ID") or None
        if organization_id is not None:
            require_id("organization_id", organization_id)
        self._requester = Requester(
            transport,
            RequestOptions(
                timeout=request_timeout,
                retry_policy=policy,
                headers=require_headers("headers", headers or {}),
                retry_writes=retry_writes,
                on_response=on_response,
            ),
            organization_id,
        )

    # --- the resource tree: every top-level namespace is declared here, once ---

    @cached_property
    def users(self) -> AsyncUsers:
        """Your users (enroll, get, update, delete, WebView tokens) and the calls about one
        of them: rewards, attributions, audits."""
        return AsyncUsers(self._requester)

    @cached_property
    def transactions(self) -> AsyncTransactions:
        """Card transactions (which earn rewards), fraud markers and daily transaction
        files."""
        return AsyncTransactions(self._requester)

    @cached_property
    def notifications(self) -> AsyncNotifications:
        """Webhook notification subscriptions (receiving them: :mod:`kard_async.webhooks`)."""
        return AsyncNotifications(self._requester)

    @cached_property
    def organizations(self) -> AsyncOrganizations:
        """Your organization, its child organizations, content strategies and placements."""
        return AsyncOrganizations(self._requester)

    @cached_property
    def auth(self) -> AsyncAuth:
        """The bearer token the client sends, for callers who must hand it on."""
        return AsyncAuth(self._requester)

    @cached_property
    def files(self) -> AsyncFiles:
        """The files Kard sends you (reconciliation reports): list, download, stream."""
        return AsyncFiles(self._requester)

    async def ping(self) -> Ping:
        """Check that the API answers, with this client's token (fetched first if needed):
        ``.message`` (``"Ping successful"``), ``.status`` (``"OK"``) and ``.timestamp`` (the
        server's time, as text). A network Kard refuses raises
        :class:`~kard_async.NetworkBlockedError` (HTTP 403) with the server's message."""
        return await AsyncPing(self._requester).ping()

    @property
    def with_raw_response(self) -> AsyncWithRawResponse:
        """The client's own API calls (``ping``), answering with the HTTP response of the
        call: ``status``, ``headers``, ``request_id``, ``content``, and ``parse()`` for the
        decoded value. Resources have theirs: ``kard.<resource>.with_raw_response``."""
        return AsyncWithRawResponse(AsyncPing(self._requester))

    @staticmethod
    def _token_source(
        transport: Transport,
        *,
        client_id: str | None,
        client_secret: str | None,
        token: str | Callable[[], str] | Callable[[], Awaitable[str]] | None,
        token_url: str,
        token_style: TokenStyle,
        target_issuer: str | None,
        timeout: aiohttp.ClientTimeout,
    ) -> TokenSource:
        if token is not None:
            if not (isinstance(token, str) and token) and not callable(token):
                raise InvalidParameterError(
                    "token", "<hidden>", "must be a non-empty string or a callable returning one"
                )
            if isinstance(token, str):
                require_header_value("token", token, hidden=True)
            return StaticToken(token)
        client_id = client_id or os.environ.get("KARD_CLIENT_ID")
        client_secret = client_secret or os.environ.get("KARD_CLIENT_SECRET")
        if client_id is not None:
            require_str("client_id", client_id)
        if client_secret is not None:
            require_str("client_secret", client_secret, hidden=True)
        if target_issuer is not None:
            require_header_value("target_issuer", target_issuer)
        if not client_id or not client_secret:
            missing = "client_id" if not client_id else "client_secret"
            raise InvalidParameterError(
                missing,
                None,
                "credentials are required: pass client_id and client_secret (or set "
                "KARD_CLIENT_ID and KARD_CLIENT_SECRET), or pass token=",
            )
        return ClientCredentials(
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            style=token_style,
            target_issuer=target_issuer,
            send=lambda call: transport.send(
                call, RequestOptions(timeout=timeout, retry_policy=_ONE_ATTEMPT)
            ),
        )

    # --- configuration ---

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def organization_id(self) -> str | None:
        return self._requester.organization_id

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        retry_writes: bool | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: Callable[[ResponseInfo], None] | None = None,
        organization_id: str | None = None,
    ) -> AsyncKard:
        """A light copy with some settings changed, sharing this client's connection pool
        and token. ``headers`` are added to this client's extra headers. Closing either
        closes the shared pool: close the original when you are done."""
        options = self._requester.options
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = _timeout(timeout)
        if retry_policy is not None or max_retries is not None:
            policy = retry_policy or options.retry_policy
            if max_retries is not None:
                require_int("max_retries", max_retries, low=0)
                policy = replace(policy, max_retries=max_retries)
            changes["retry_policy"] = policy
        if retry_writes is not None:
            changes["retry_writes"] = retry_writes
        if headers:
            changes["headers"] = {**options.headers, **require_headers("headers", headers)}
        if on_response is not None:
            changes["on_response"] = on_response
        if organization_id is not None:
            require_id("organization_id", organization_id)
        copy = object.__new__(AsyncKard)
        copy._transport = self._transport
        copy._requester = self._requester.derive(organization_id=organization_id, **changes)
        return copy

    # --- lifecycle ---

    async def aclose(self) -> None:
        """Close the connection pool (unless you passed your own session). Idempotent."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncKard:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncKard(base_url={self.base_url!r}, organization_id={self.organization_id!r})"


# The token call gets one attempt, with the client's timeout: the token is fetched inside
# the API call's attempt, so the call's own retry loop (the client's policy and max_retries)
# retries it; retrying here too would multiply.
_ONE_ATTEMPT = RetryPolicy(max_retries=0)
