"""Where the bearer token comes from: OAuth client credentials, or a caller-supplied token.

OAuth tokens are fetched lazily, cached, and refreshed shortly before they expire. However
many requests need a token at once, exactly one token request is made (single flight), and
its outcome, token or failure, is shared by every request that waited for it.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, Protocol
from urllib.parse import urlencode

import msgspec

from ._call import Call
from ._validate import require_header_value, require_str

TokenStyle = Literal["json", "basic"]
TokenCallable = Callable[[], str] | Callable[[], Awaitable[str]]
Send = Callable[["Call[TokenResponse]"], Awaitable["TokenResponse"]]

# Refresh this long before expiry (the official SDK uses 120 s); never more than 10% of the
# lifetime, so short-lived tokens are still used for most of their life.
_REFRESH_MARGIN = 120.0
_REFRESH_FRACTION = 0.1
# The lifetime assumed when expires_in is unusable (0, negative, "nan", not a number): taken
# literally, every call would fetch a new token first. One revoked sooner gets a 401, which
# refreshes it.
FALLBACK_TOKEN_LIFETIME = 60.0

# Printable ASCII without spaces: what can follow "Bearer " in a header.
_Token = Annotated[str, msgspec.Meta(min_length=1, pattern=r"^[\x21-\x7e]+$")]


class TokenResponse(msgspec.Struct, gc=False):
    access_token: _Token
    expires_in: float | str = 3600.0  # some OAuth servers send a numeric string
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return f"TokenResponse(access_token=<redacted>, expires_in={self.expires_in})"

    def lifetime(self) -> float:
        """Seconds the token may be used: ``expires_in`` when it is a positive number."""
        try:
            seconds = float(self.expires_in)
        except ValueError:
            return FALLBACK_TOKEN_LIFETIME
        return seconds if 0 < seconds < math.inf else FALLBACK_TOKEN_LIFETIME


_TOKEN_DECODER = msgspec.json.Decoder(TokenResponse)


class TokenSource(Protocol):
    def ready(self) -> str | None:
        """The token to send now if it is at hand without waiting, else None (then ``get``)."""
        ...

    async def get(self) -> str:
        """A bearer token to send now."""
        ...

    def invalidate(self, token: str) -> bool:
        """The server refused ``token``; return True when asking again may give a better one."""
        ...


class StaticToken:
    """``token=``: a fixed string, or a sync or async callable asked before every request."""

    def __init__(self, token: str | TokenCallable) -> None:
        self._token = token

    def ready(self) -> str | None:
        return self._token if isinstance(self._token, str) else None

    async def get(self) -> str:
        if isinstance(self._token, str):
            return self._token
        value = self._token()
        if inspect.isawaitable(value):
            value = await value
        # Checked before sending: a callable's token cannot reach a header unchecked.
        return require_header_value("token", require_str("token", value, hidden=True), hidden=True)

    def invalidate(self, token: str) -> bool:
        return not isinstance(self._token, str)

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


class ClientCredentials:
    """OAuth client credentials in either documented style.

    ``"json"`` (the official SDK's): JSON body ``{client_id, client_secret}``.
    ``"basic"`` (the public guide's): HTTP Basic auth with a form body
    ``grant_type=client_credentials``.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        style: TokenStyle,
        target_issuer: str | None,
        send: Send,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self._token_url = token_url
        self._style = style
        self._target_issuer = target_issuer
        self._send = send
        self._token: str | None = None
        self._refresh_at = 0.0
        self._flight: asyncio.Future[None] | None = None
        self.fetches = 0

    def ready(self) -> str | None:
        token = self._token
        return token if token is not None and time.monotonic() < self._refresh_at else None

    async def get(self) -> str:
        while True:
            token = self._token
            if token is not None and time.monotonic() < self._refresh_at:
                return token
            flight = self._flight
            if flight is None:
                await self._lead()
            else:
                # Another request is fetching: wait for its outcome. shield(): our own
                # cancellation must not cancel the flight the others wait for.
                await asyncio.shield(flight)

    def invalidate(self, token: str) -> bool:
        # Only the token that failed is dropped: when N requests get 401 for the same
        # token, the first invalidates it and the rest find the fresh one.
        if self._token == token:
            self._token = None
        return True

    async def _lead(self) -> None:
        """Fetch a token for everyone waiting; they get its failure too (one request, not
        one per waiter in turn). Cancelled, the waiters just try again."""
        flight = self._flight = asyncio.get_running_loop().create_future()
        try:
            await self._fetch()
        except Exception as error:
            flight.set_exception(error)
            flight.exception()  # retrieved: nobody may be waiting, and asyncio would warn
            raise
        except BaseException:
            flight.set_result(None)
            raise
        else:
            flight.set_result(None)
        finally:
            self._flight = None

    async def _fetch(self) -> None:
        started = time.monotonic()
        response = await self._send(self._token_call())
        self.fetches += 1
        lifetime = response.lifetime()
        self._token = response.access_token
        self._refresh_at = started + lifetime - min(_REFRESH_MARGIN, lifetime * _REFRESH_FRACTION)

    def _token_call(self) -> Call[TokenResponse]:
        headers: dict[str, str] = {"Accept": "application/json"}
        if self._target_issuer:
            headers["X-Kard-Target-Issuer"] = self._target_issuer
        if self._style == "basic":
            pair = f"{self.client_id}:{self._secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            body = urlencode({"grant_type": "client_credentials"}).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = msgspec.json.encode({"client_id": self.client_id, "client_secret": self._secret})
            content_type = "application/json"
        return Call(
            method="POST",
            path=self._token_url,
            decoder=_TOKEN_DECODER,
            body=body,
            content_type=content_type,
            headers=headers,
            authenticated=False,
            absolute=True,
        )

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, style={self._style!r})"
