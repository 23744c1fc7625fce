"""Exception hierarchy. Every error the client raises is a :class:`KardError`.

Messages never contain credentials or tokens: they name the request by method
and path only, and carry the server's own error texts.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ErrorObject",
    "ErrorSource",
    "InternalServerError",
    "InvalidParameterError",
    "KardError",
    "MultiStatusError",
    "NetworkBlockedError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "WebhookPayloadError",
    "WebhookSignatureError",
]


class ErrorSource(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Where a JSON:API error points: a JSON pointer, a query parameter or a header."""

    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None


class ErrorObject(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One entry of a JSON:API ``errors`` array.

    ``status`` is always a string (JSON:API says so); a server that sends a number, as some
    do, gets it converted rather than losing every error detail.
    """

    status: str | int | None = None
    title: str | None = None
    detail: str | None = None
    source: ErrorSource | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.status, int):
            self.status = str(self.status)


class KardError(Exception):
    """Base class of every exception raised by kard-async."""


class InvalidParameterError(KardError, ValueError):
    """An argument was rejected before anything was sent.

    ``parameter`` names the argument, ``value`` is what was given and ``allowed``
    describes what would have been accepted.
    """

    def __init__(self, parameter: str, value: object, allowed: str, *, hint: str = "") -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        message = f"invalid {parameter}={value!r}: {allowed}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class APIError(KardError):
    """An API call failed. ``method`` and ``path`` identify the call (no query, no secrets).

    ``outcome_unknown`` is True when the call was a write that the server may have processed
    despite the error (a dropped connection while waiting for the answer, a read timeout, or a
    5xx other than 503): retrying it could duplicate the write.
    """

    outcome_unknown: bool = False
    #: True when the failure happened before the request itself was sent (e.g. fetching the
    #: token), so even a write can safely be retried.
    before_send: bool = False

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a full response arrived.

    ``outcome_unknown`` is True when the request may have reached the server and been
    processed (for example the connection dropped while waiting for the response).
    For writes this means the caller cannot tell whether the write took effect.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        outcome_unknown: bool,
        transient: bool = True,
    ) -> None:
        if outcome_unknown:
            message += "; the request may have been processed (outcome unknown)"
        super().__init__(message, method=method, path=path)
        self.outcome_unknown = outcome_unknown
        #: False for failures that retrying cannot fix, such as a TLS certificate error.
        self.transient = transient


class APITimeoutError(APIConnectionError):
    """The request timed out. ``outcome_unknown`` tells whether it may have been processed."""


class APIStatusError(APIError):
    """The API answered with an error status.

    Carries the status, the parsed JSON:API ``errors``, the request id header and the raw body.
    """

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        errors: list[ErrorObject],
        request_id: str | None,
    ) -> None:
        details = "; ".join(_describe(error) for error in errors) or _excerpt(body)
        message = f"{method} {path} failed with HTTP {status}"
        if details:
            message += f": {details}"
        if request_id:
            message += f" (request id {request_id})"
        super().__init__(message, method=method, path=path)
        self.status = status
        # Case-insensitive, like HTTP headers (servers may send "X-Request-ID").
        self.headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers))
        self.body = body
        self.errors = errors
        self.request_id = request_id
        self.retry_after: float | None = None


class BadRequestError(APIStatusError):
    """HTTP 400: the API rejected the request (see ``errors`` for which field)."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing, invalid or expired credentials."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the credentials may not access this organization or resource."""


class NetworkBlockedError(PermissionDeniedError):
    """HTTP 403 from ``kard.ping()``: Kard refuses requests from this network (an address not
    on your allowlist, for instance). ``message`` is the server's own explanation."""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        errors: list[ErrorObject],
        request_id: str | None,
    ) -> None:
        super().__init__(
            method=method,
            path=path,
            status=status,
            headers=headers,
            body=body,
            errors=errors,
            request_id=request_id,
        )
        try:
            self.message: str = _BLOCKED.decode(body).message
        except (msgspec.ValidationError, msgspec.DecodeError):
            self.message = _excerpt(body)
        text = f"{method} {path}: the network is blocked (HTTP {status}): {self.message}"
        self.args = (text + (f" (request id {request_id})" if request_id else ""),)

    @classmethod
    def from_error(cls, error: APIStatusError) -> NetworkBlockedError:
        blocked = cls(
            method=error.method,
            path=error.path,
            status=error.status,
            headers=error.headers,
            body=error.body,
            errors=error.errors,
            request_id=error.request_id,
        )
        blocked.retry_after = error.retry_after
        return blocked


class _Blocked(msgspec.Struct, gc=False):
    message: str


_BLOCKED = msgspec.json.Decoder(_Blocked)


class NotFoundError(APIStatusError):
    """HTTP 404: the resource does not exist."""


class RequestTimeoutError(APIStatusError):
    """HTTP 408: the server timed out waiting for the request."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the current state."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests. ``retry_after`` holds the server's hint in seconds, if any."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: the server failed."""


class MultiStatusError(KardError):
    """Raised by ``raise_for_errors()`` of a batch write that partly failed (HTTP 207).

    ``errors`` has one entry per failed item (its ``id``, ``status`` and ``detail``);
    ``succeeded`` counts the items the server accepted (they must not be sent again).
    """

    def __init__(self, errors: list[ErrorObject], *, succeeded: int) -> None:
        shown = "; ".join(f"{e.id}: {_describe(e)}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} items failed, {succeeded} succeeded: {shown}{more}")
        self.errors = errors
        self.succeeded = succeeded


class ResponseValidationError(APIError):
    """The response body does not match the documented schema. ``body_excerpt`` shows its start.

    ``accepted`` is True when the status was 2xx: the server processed the request and only
    its answer could not be read. For a write, that means it took effect: do not send it
    again (its ``outcome_unknown`` is True as well, so code that resends only errors without
    that flag cannot duplicate it).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int,
        body: bytes,
        write: bool = False,
    ) -> None:
        excerpt = _excerpt(body)
        accepted = 200 <= status < 300
        text = (
            f"{method} {path}: unexpected response body (HTTP {status}): {message}; "
            f"body starts with {excerpt!r}"
        )
        if write and accepted:
            text += "; the server accepted the request: do not send it again"
        super().__init__(text, method=method, path=path)
        self.status = status
        self.body = body
        self.body_excerpt = excerpt
        self.accepted = accepted


class ResponseTooLargeError(ResponseValidationError):
    """The response body was larger than the client's ``max_response_size``.

    Reading stopped at the limit and the connection was closed (never reused). ``limit`` is
    that size in bytes; ``body`` holds only the start of what arrived.
    """

    def __init__(
        self, *, method: str, path: str, status: int, limit: int, body: bytes, write: bool = False
    ) -> None:
        super().__init__(
            f"larger than max_response_size={limit} bytes, so reading stopped there",
            method=method,
            path=path,
            status=status,
            body=body,
            write=write,
        )
        self.limit = limit


class WebhookSignatureError(KardError):
    """A webhook's ``notify-signature`` is missing or does not match its body: the request
    may not come from Kard, so nothing in it can be trusted. Answer 401.

    The message never contains the key, the expected digest or the signature received.
    """


class WebhookPayloadError(KardError):
    """A correctly signed webhook body is not a notification (not JSON, or a known type with
    a missing or mistyped field). ``reason`` says what is wrong and where, ``body_excerpt``
    shows the body's start. Answer 400."""

    def __init__(self, reason: str, *, body: bytes) -> None:
        excerpt = _excerpt(body)
        super().__init__(f"not a Kard notification: {reason}; body starts with {excerpt!r}")
        self.reason = reason
        self.body = body
        self.body_excerpt = excerpt


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    if status >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIStatusError)


def _describe(error: ErrorObject) -> str:
    text = error.detail or error.title or ""
    if error.source is not None:
        where = error.source.pointer or error.source.parameter or error.source.header
        if where:
            text = f"{text} [{where}]"
    return text


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return text + ("..." if len(body) > limit else "")
