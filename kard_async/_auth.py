"""Where the bearer token comes from: OAuth client credentials, or a caller-supplied token.

OAuth tokens are fetched lazily, cached, and refreshed shortly before they expire. However
many requests need a token at once, exactly one token request is made (single flight).
"""

from __future__ import annotations

import base64
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol
from urllib.parse import urlencode

import anyio
import msgspec

from ._call import Call

TokenStyle = Literal["json", "basic"]
TokenCallable = Callable[[], str] | Callable[[], Awaitable[str]]
Send = Callable[["Call[TokenResponse]"], Awaitable["TokenResponse"]]

# Refresh this long before expiry (the official SDK uses 120 s); never more than 10% of the
# lifetime, so short-lived tokens are still used for most of their life.
_REFRESH_MARGIN = 120.0
_REFRESH_FRACTION = 0.1


class TokenResponse(msgspec.Struct, gc=False):
    access_token: str
    expires_in: float | str = 3600.0  # some OAuth servers send a numeric string
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return f"TokenResponse(access_token=<redacted>, expires_in={self.expires_in})"


_TOKEN_DECODER = msgspec.json.Decoder(TokenResponse)


class TokenSource(Protocol):
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

    async def get(self) -> str:
        if isinstance(self._token, str):
            return self._token
        value = self._token()
        if inspect.isawaitable(value):
            value = await value
        if not isinstance(value, str) or not value:
            raise TypeError("the token callable must return a non-empty string")
        return value

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
        self._lock: anyio.Lock | None = None
        self.fetches = 0

    async def get(self) -> str:
        token = self._token
        if token is not None and time.monotonic() < self._refresh_at:
            return token
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> bool:
        # Only the token that failed is dropped: when N requests get 401 for the same
        # token, the first invalidates it and the rest find the fresh one.
        if self._token == token:
            self._token = None
        return True

    async def _fetch(self) -> None:
        started = time.monotonic()
        response = await self._send(self._token_call())
        self.fetches += 1
        try:
            lifetime = max(0.0, float(response.expires_in))
        except ValueError:
            lifetime = 0.0  # unusable hint: use the token once, fetch a fresh one next time
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
