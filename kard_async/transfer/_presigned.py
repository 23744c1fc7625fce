"""Presigned URLs: calls to them, when they expire, and how the store says it refused one.

A presigned URL is a capability (anyone holding it may use it until it expires), so it is
never logged or shown: calls name only its path, and the query (the signature) stays
inside the request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit

from .._call import BodyStream, Call, StreamingDecoder
from .._errors import APIStatusError
from ..models._base import Decoder

T = TypeVar("T")

EXPIRY_MARGIN = 1.0
"""Seconds before its stated expiry a URL is no longer used to start a request."""

# S3-style error bodies: <Error><Code>AccessDenied</Code><Message>Request has expired</Message>
_CODE = re.compile(rb"<Code>\s*([^<]*?)\s*</Code>")
_MESSAGE = re.compile(rb"<Message>\s*([^<]*?)\s*</Message>")
_EXPIRED_CODES = frozenset({"ExpiredToken", "TokenRefreshRequired", "RequestExpired"})


class _IgnoreBody:
    """The answer to a PUT is an empty body (or S3's): nothing to decode."""

    def decode(self, buf: bytes, /) -> None:
        return None


IGNORE_BODY: Decoder[None] = _IgnoreBody()


def presigned_call(
    method: str,
    url: str,
    decoder: Decoder[T] | StreamingDecoder[T],
    *,
    body: BodyStream | None = None,
    headers: Mapping[str, str] | None = None,
) -> Call[T]:
    """A call to a presigned URL: no bearer token, no Content-Type of ours (the signature
    may not cover one), idempotent as a whole (a failed attempt is repeated from the
    start), and only the URL's path in messages and logs."""
    base, _, query = url.partition("?")
    return Call(
        method,
        base,
        decoder,
        query=query,
        body=body,
        content_type=None,
        headers=dict(headers or {}),
        authenticated=False,
        absolute=True,
    )


def store_error(error: APIStatusError) -> tuple[str, str]:
    """The ``(Code, Message)`` of an S3-style XML error body (empty strings if absent)."""
    code = _CODE.search(error.body)
    message = _MESSAGE.search(error.body)
    return (
        code.group(1).decode("utf-8", "replace") if code else "",
        message.group(1).decode("utf-8", "replace") if message else "",
    )


def refused_as_expired(error: APIStatusError) -> bool:
    """The store refused the URL because it expired (S3: 403 AccessDenied "Request has
    expired", or an expired signing token)."""
    if error.status not in (400, 403):
        return False
    code, message = store_error(error)
    return code in _EXPIRED_CODES or (code == "AccessDenied" and "expired" in message.lower())


def describe(error: APIStatusError) -> str:
    """``HTTP 403 SignatureDoesNotMatch: ...``: the store's own words, nothing more."""
    code, message = store_error(error)
    text = f"HTTP {error.status}"
    if code:
        text += f" {code}"
    if message:
        text += f": {message}"
    return text


class Expiry:
    """When a URL stops being usable, on the monotonic clock."""

    def __init__(self, expires_in: float | None) -> None:
        self._at = None if expires_in is None else time.monotonic() + expires_in - EXPIRY_MARGIN

    @classmethod
    def of_url(cls, url: str) -> Expiry:
        """From an S3-style URL's own ``X-Amz-Date`` and ``X-Amz-Expires`` (unknown when
        it has neither: it is then just tried)."""
        params = dict(parse_qsl(urlsplit(url).query))
        try:
            signed = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            lifetime = float(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            return cls(None)
        left = signed.replace(tzinfo=timezone.utc).timestamp() + lifetime - time.time()
        return cls(left)

    def expired(self) -> bool:
        return self._at is not None and time.monotonic() >= self._at
