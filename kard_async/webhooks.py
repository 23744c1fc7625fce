"""Receiving Kard's webhooks: check the signature, then parse the notification.

Kard signs each notification with the issuer's webhook key: an HMAC-SHA256 of the body, in
the ``notify-signature`` header (API reference §13, §16). Kard's own verification recipe
(Node) recomputes it over ``JSON.stringify(req.body)`` and compares base64 digests. So
:func:`verify_signature` checks, in constant time, the raw body bytes first and then the
compact JavaScript-style re-serialisation of the body, and takes the digest as base64 or hex.

There is no timestamp and no replay protection: remember the ids (``notification.id``) you
have processed, and answer 200 quickly.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import inspect
import logging
import math
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from ._errors import InvalidParameterError, WebhookPayloadError, WebhookSignatureError
from ._validate import require_int
from .models.notifications import Notification, decode_notification

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "SIGNATURE_HEADER",
    "aiohttp_handler",
    "construct_event",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "notify-signature"
#: A notification is a few kilobytes; anything far larger is not one.
DEFAULT_MAX_BODY_SIZE = 1024 * 1024

logger = logging.getLogger("kard_async")


def sign(body: bytes, key: str | bytes) -> str:
    """The ``notify-signature`` Kard sends with ``body``: base64 HMAC-SHA256 under ``key``."""
    digest = hmac.digest(_key_bytes(key), _body_bytes(body), "sha256")
    return base64.b64encode(digest).decode("ascii")


def verify_signature(body: bytes, signature: str | None, key: str | bytes) -> bool:
    """True when ``signature`` (the ``notify-signature`` header) signs ``body`` with ``key``.

    ``body`` must be the raw request bytes. The HMAC-SHA256 of those bytes is compared first;
    if it differs, that of the body re-serialised the way Kard's own recipe does (JavaScript
    ``JSON.stringify``: no spaces, non-ASCII as is, key order kept), which matches even when
    a proxy re-formatted the JSON. The digest may be base64 or hex. Comparisons take
    constant time. A missing or empty signature is False.
    """
    secret = _key_bytes(key)
    data = _body_bytes(body)
    received = _parse_signature(signature)
    if received is None:
        return False
    if hmac.compare_digest(hmac.digest(secret, data, "sha256"), received):
        return True
    compact = _compact(data)
    return (
        compact is not None
        and compact != data
        and hmac.compare_digest(hmac.digest(secret, compact, "sha256"), received)
    )


def construct_event(body: bytes, signature: str | None, key: str | bytes) -> Notification:
    """Verify ``signature`` over ``body`` with ``key``, then parse the notification.

    Returns one of the notification Structs of :mod:`kard_async.models` (an
    ``UnknownNotification`` for a type this version does not know). Its ``id`` is the
    idempotency key: Kard may deliver a notification more than once.

    Raises :class:`~kard_async.WebhookSignatureError` when the signature is missing, empty or
    does not match (answer 401), :class:`~kard_async.WebhookPayloadError` when a correctly
    signed body is not a notification (answer 400), and
    :class:`~kard_async.InvalidParameterError` for a ``body`` that is not bytes or an empty
    ``key``.
    """
    secret = _key_bytes(key)
    data = _body_bytes(body)
    if signature is None or (isinstance(signature, str) and not signature.strip()):
        raise WebhookSignatureError(
            f"the {SIGNATURE_HEADER} header is missing or empty: the request is not signed"
        )
    if not verify_signature(data, signature, secret):
        raise WebhookSignatureError(
            f"the {SIGNATURE_HEADER} header does not match the body (signed with another "
            "key, e.g. sandbox vs production, or the body was changed after signing)"
        )
    try:
        return decode_notification(data)
    except msgspec.DecodeError as error:  # also ValidationError, its subclass
        raise WebhookPayloadError(str(error), body=data) from None


OnEvent = Callable[[Notification], object]
"""Called with each verified notification; may return an awaitable, which is awaited."""


def aiohttp_handler(
    key: str | bytes, on_event: OnEvent, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An ``aiohttp.web`` handler that receives Kard's notifications.

    Route POSTs to it (``app.router.add_post("/kard/webhooks", handler)``). For each request
    it reads the body (at most ``max_body_size`` bytes, else 413), checks the signature (401
    when missing or wrong), parses the notification (400 when the body is not one), calls
    ``on_event(notification)`` and awaits the result if it is awaitable (a sync or an async
    callable), then answers 200. If ``on_event`` raises, the answer is 500 (so Kard may
    deliver it again) and the error is logged on the ``kard_async`` logger; response bodies
    never carry details.

    Keep ``on_event`` quick: store or queue the notification and return, and make it
    idempotent on ``notification.id`` (deliveries may repeat, and nothing prevents a replay).
    A sync ``on_event`` runs on the event loop.
    """
    secret = _key_bytes(key)
    if not callable(on_event):
        raise InvalidParameterError(
            "on_event", on_event, "must be a callable taking the notification (sync or async)"
        )
    limit = require_int("max_body_size", max_body_size, low=1)

    async def handle(request: web.Request) -> web.Response:
        body = await _read_body(request, limit)
        if body is None:
            logger.warning(
                "webhook from %s rejected (413): body over %d bytes", request.remote, limit
            )
            return web.Response(status=413, text="body too large\n")
        try:
            notification = construct_event(body, request.headers.get(SIGNATURE_HEADER), secret)
        except WebhookSignatureError as error:
            logger.warning("webhook from %s rejected (401): %s", request.remote, error)
            return web.Response(status=401, text="invalid signature\n")
        except WebhookPayloadError as error:
            logger.warning("webhook from %s rejected (400): %s", request.remote, error.reason)
            return web.Response(status=400, text="not a Kard notification\n")
        try:
            result = on_event(notification)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception(
                "webhook on_event failed for %s notification %r (answered 500)",
                notification.type,
                notification.id,
            )
            return web.Response(status=500, text="internal error\n")
        return web.Response(status=200, text="ok\n")

    return handle


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


# --- inputs ---


def _key_bytes(key: object) -> bytes:
    # The key itself never goes into an error message, only its type.
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidParameterError(
            "key", f"<{type(key).__name__}>", "must be your webhook key, a str or bytes"
        )
    if not key:
        raise InvalidParameterError("key", "", "must not be empty")
    return bytes(key)


def _body_bytes(body: object) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    shown = f"<str of {len(body)} characters>" if isinstance(body, str) else body
    raise InvalidParameterError(
        "body",
        shown,
        "must be the raw request body as bytes",
        hint="e.g. await request.read(); decoded or re-parsed text may differ from the "
        "signed bytes",
    )


def _parse_signature(signature: object) -> bytes | None:
    """The digest in a ``notify-signature`` value (base64 or hex), or None if there is none."""
    if signature is None:
        return None
    if not isinstance(signature, str):
        raise InvalidParameterError(
            "signature",
            f"<{type(signature).__name__}>",
            f"must be the {SIGNATURE_HEADER} header value, a str, or None",
        )
    text = signature.strip()
    try:
        if len(text) == 64:  # 32 bytes in hex; base64 of 32 bytes is 43 or 44 characters
            return bytes.fromhex(text)
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True) or None
    except (ValueError, binascii.Error):
        return None


# --- the body as JavaScript's JSON.stringify writes it ---


def _js_number(text: str) -> msgspec.Raw:
    """A JSON number with a fraction or exponent, written as JavaScript writes numbers
    (``1.0`` -> ``1``, ``1e21`` -> ``1e+21``, ``1e-7`` -> ``1e-7``, ``-0.0`` -> ``0``)."""
    value = float(text)
    if value == 0 or not math.isfinite(value):
        return msgspec.Raw(b"0" if value == 0 else b"null")
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # value = 0.<digits> * 10**point
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    if len(digits) <= point <= 21:
        written = digits + "0" * (point - len(digits))
    elif 0 < point <= 21:
        written = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        written = "0." + "0" * -point + digits
    else:
        power = point - 1
        written = f"{digits[0]}{'.' + digits[1:] if len(digits) > 1 else ''}e{power:+d}"
    return msgspec.Raw((("-" if value < 0 else "") + written).encode())


_JS_DECODER = msgspec.json.Decoder(float_hook=_js_number)


def _compact(body: bytes) -> bytes | None:
    """``JSON.stringify(JSON.parse(body))``: no spaces, non-ASCII characters as they are, keys
    in their order; None if the body is not JSON."""
    try:
        return msgspec.json.encode(_JS_DECODER.decode(body))
    except msgspec.DecodeError:
        return None
