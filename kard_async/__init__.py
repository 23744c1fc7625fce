"""kard-async: a fast, safe asyncio client for the Kard Rewards API, with a blocking facade."""

from ._client import AsyncKard
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
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ResponseValidationError,
)
from ._pagination import AsyncPager
from ._retry import RetryPolicy
from ._sync import Kard, Pager, SyncInAsyncWarning
from ._transport import ResponseInfo
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncKard",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "InvalidParameterError",
    "Kard",
    "KardError",
    "NotFoundError",
    "Pager",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseInfo",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "SyncInAsyncWarning",
    "__version__",
]
