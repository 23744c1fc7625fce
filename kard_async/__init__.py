"""kard-async: a fast, safe asyncio client for the Kard Rewards API, with a blocking facade."""

from ._blocking import Paginator, SyncInAsyncWarning
from ._client import ENVIRONMENTS, AsyncKard
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidParameterError,
    KardError,
    MultiStatusError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ResponseValidationError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from ._pagination import AsyncPaginator, RepeatedCursorError
from ._retry import RetryPolicy
from ._sync import Kard
from ._transport import ResponseInfo
from ._version import __version__

__all__ = [
    "ENVIRONMENTS",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncKard",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "InvalidParameterError",
    "Kard",
    "KardError",
    "MultiStatusError",
    "NotFoundError",
    "Paginator",
    "PermissionDeniedError",
    "RateLimitError",
    "RepeatedCursorError",
    "RequestTimeoutError",
    "ResponseInfo",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "SyncInAsyncWarning",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "__version__",
]

from ._blocking import RawResponse
from ._errors import NetworkBlockedError
from ._raw import AsyncRawResponse

__all__ += ["AsyncRawResponse", "NetworkBlockedError", "RawResponse"]  # organizations, ping, raw

from .transfer import FileDownloadError, FileUploadError  # noqa: E402

__all__ += ["FileDownloadError", "FileUploadError"]  # files
