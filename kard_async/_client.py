"""AsyncKard: configuration, lifecycle and the resource tree."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import cached_property
from types import TracebackType
from typing import Any, Literal

import aiohttp

from ._auth import ClientCredentials, StaticToken, TokenSource, TokenStyle
from ._errors import InvalidParameterError
from ._requester import Requester
from ._retry import RetryPolicy
from ._transport import RequestOptions, ResponseInfo, Transport
from ._validate import require_choice, require_int
from ._version import __version__
from .resources.files import AsyncFiles
from .resources.users import AsyncUsers

Environment = Literal["production", "sandbox"]
ENVIRONMENTS: dict[str, str] = {
    "production": "https://rewards-api.getkard.com",
    "sandbox": "https://test-rewards-api.getkard.com",
}
DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"kard-async/{__version__}"


def _timeout(value: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    if isinstance(value, aiohttp.ClientTimeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidParameterError("timeout", value, "must be a positive number of seconds")
    return aiohttp.ClientTimeout(total=value, sock_connect=min(10.0, value))


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
    (status, headers, request id, elapsed time) for every API response. A ``session``
    you pass is used as is and never closed by the client (it must belong to the event
    loop the client runs on). Callbacks (``on_response``, a ``token`` callable) run on that
    loop: with the blocking ``Kard``, on its loop thread.
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
    ) -> None:
        if base_url is None and environment is None:
            base_url = os.environ.get("KARD_BASE_URL") or None
        environment = environment or os.environ.get("KARD_ENVIRONMENT") or "production"  # type: ignore[assignment]
        require_choice("environment", environment, tuple(ENVIRONMENTS))
        assert environment is not None
        # An explicit environment= wins over KARD_BASE_URL: credentials go where the code says.
        base = base_url or ENVIRONMENTS[environment]
        if not base.startswith(("https://", "http://")):
            raise InvalidParameterError("base_url", base, "must be an http(s) URL")
        base = base.rstrip("/")
        require_choice("token_style", token_style, ("json", "basic"))
        require_int("max_connections", max_connections, low=1)
        require_int("max_retries", max_retries, low=0)
        policy = replace(retry_policy or RetryPolicy(), max_retries=max_retries)

        transport = Transport(
            base_url=base,
            auth=None,
            user_agent=USER_AGENT,
            max_connections=max_connections,
            session=session,
        )
        transport.auth = self._token_source(
            transport,
            client_id=client_id,
            client_secret=client_secret,
            token=token,
            token_url=token_url or f"{base}/v2/auth/token",
            token_style=token_style,
            target_issuer=target_issuer,
        )
        self._transport = transport
        self._requester = Requester(
            transport,
            RequestOptions(
                timeout=_timeout(timeout),
                retry_policy=policy,
                headers=dict(headers or {}),
                retry_writes=retry_writes,
                on_response=on_response,
            ),
            organization_id or os.environ.get("KARD_ORGANIZATION_ID") or None,
        )

    # --- the resource tree: every top-level namespace is declared here, once ---

    @cached_property
    def users(self) -> AsyncUsers:
        """Calls about one of your users: rewards, attributions."""
        return AsyncUsers(self._requester)

    @cached_property
    def files(self) -> AsyncFiles:
        """The files Kard sends you (reconciliation reports): list, download, stream."""
        return AsyncFiles(self._requester)

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
    ) -> TokenSource:
        if token is not None:
            if not (isinstance(token, str) and token) and not callable(token):
                raise InvalidParameterError(
                    "token", "<hidden>", "must be a non-empty string or a callable returning one"
                )
            return StaticToken(token)
        client_id = client_id or os.environ.get("KARD_CLIENT_ID")
        client_secret = client_secret or os.environ.get("KARD_CLIENT_SECRET")
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
            send=lambda call: transport.send(call, _TOKEN_OPTIONS),
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
            changes["headers"] = {**options.headers, **headers}
        if on_response is not None:
            changes["on_response"] = on_response
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


# One attempt: the token is fetched inside the API call's attempt, so the call's own retry
# loop (the client's policy and max_retries) retries it; retrying here too would multiply.
_TOKEN_OPTIONS = RequestOptions(
    timeout=aiohttp.ClientTimeout(total=30.0, sock_connect=10.0),
    retry_policy=RetryPolicy(max_retries=0),
)
