"""The description of one HTTP call: what resource methods build and the transport executes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .models._base import Decoder

if TYPE_CHECKING:
    import aiohttp

T = TypeVar("T")


class BodyStream(Protocol):
    """A request body produced chunk by chunk (a file, a spooled upload), never held whole.

    The transport calls ``open()`` once per attempt, so a retry sends the body again from
    its start; ``size`` (when known) becomes the ``Content-Length``, without which the body
    is sent chunked.
    """

    @property
    def size(self) -> int | None: ...

    def open(self) -> AsyncIterator[bytes]: ...


class StreamingDecoder(Generic[T]):
    """Consumes a successful response's body as it arrives instead of reading it whole (a
    download). Called once per attempt: an attempt that fails part way is retried from
    the start, so ``consume`` must start over each time."""

    async def consume(self, content: aiohttp.StreamReader, headers: Mapping[str, str]) -> T:
        raise NotImplementedError


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
# which made building a Call cost more than a small request's own work. Never mutated.
@dataclass(slots=True)
class Call(Generic[T]):
    """One API call.

    ``path`` is relative to the base URL (already percent-encoded) unless ``absolute`` is set.
    ``write`` marks a non-idempotent call, which is retried only when it surely was not
    processed. ``authenticated`` is False for calls that must not carry the bearer token
    (the token request itself, presigned file URLs). ``content_type=None`` sends no
    Content-Type of ours (a presigned URL's signature may not cover one).
    """

    method: str
    path: str
    decoder: Decoder[T] | StreamingDecoder[T]
    query: str = ""
    body: bytes | BodyStream | None = None
    content_type: str | None = "application/json"
    headers: Mapping[str, str] | None = None
    write: bool = False
    authenticated: bool = True
    absolute: bool = False
