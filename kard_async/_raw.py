"""Per-call raw responses: ``await kard.<resource>.with_raw_response.<method>(...)``.

openai-python's convention, with no per-method code: the view runs the resource method on a
copy of the resource whose requester answers with the HTTP response itself (status,
headers, request id, body) instead of the decoded value. The request takes the one path,
``Transport.send`` (token, retries, errors, ``on_response``); only decoding waits for
``parse()``. A list method answers with its first page, raw; ``parse()`` gives the page, and
its ``next_page()`` continues the list as usual.

Only a method that makes exactly one request can answer raw. A method that would make a
second one (a batch helper) is stopped before that request is sent.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import msgspec

from ._call import Call, StreamingDecoder
from ._errors import ResponseValidationError
from ._pagination import AsyncPaginator
from ._requester import Requester
from ._transport import ResponseInfo
from .models._base import Decoder, Page

if TYPE_CHECKING:
    from .resources._base import AsyncResource

T = TypeVar("T")


class AsyncRawResponse(Generic[T]):
    """The HTTP response of one API call, not yet decoded.

    ``status``, ``headers`` (case-insensitive), ``request_id``, ``elapsed`` (seconds) and
    ``content`` (the body's bytes) describe the response; ``parse()`` decodes the body into
    what the method returns without ``with_raw_response`` (for a list method, its first
    page). Error statuses raise, exactly as without ``with_raw_response``.
    """

    __slots__ = (
        "_decoder",
        "_next_page",
        "content",
        "elapsed",
        "headers",
        "method",
        "path",
        "request_id",
        "status",
    )

    def __init__(self, info: ResponseInfo, content: bytes, decoder: Decoder[T]) -> None:
        self.method = info.method
        self.path = info.path
        self.status = info.status
        self.headers: Mapping[str, str] = info.headers
        self.request_id = info.request_id
        self.elapsed = info.elapsed
        self.content = content
        self._decoder = decoder
        self._next_page: Callable[[str], Awaitable[Any]] | None = None

    def parse(self) -> T:
        """The decoded body (each call decodes it again)."""
        try:
            value = self._decoder.decode(self.content)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise ResponseValidationError(
                str(error),
                method=self.method,
                path=self.path,
                status=self.status,
                body=self.content,
            ) from None
        if self._next_page is not None and isinstance(value, Page):
            vars(value)["_kard_next"] = self._next_page  # how page.next_page() fetches
        return value

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.method} {self.path} -> {self.status}, "
            f"request_id={self.request_id!r})"
        )


class _Keep:
    """A decoder that keeps the body as it came (decoded later, by ``parse()``)."""

    def decode(self, buf: bytes, /) -> bytes:
        return buf


_KEEP = _Keep()


@dataclass
class _Turn:
    """One raw call's progress: its request (at most one) and whether it is over."""

    what: str
    sent: bool = False
    over: bool = False
    response: AsyncRawResponse[Any] | None = None


@dataclass(frozen=True)
class _RawRequester(Requester):
    """Answers the first request with an :class:`AsyncRawResponse`, refuses a second one
    while the method runs, and sends as usual once the raw call is over (later pages)."""

    turn: _Turn = field(default_factory=lambda: _Turn(""))

    async def send(self, call: Call[T]) -> T:
        turn = self.turn
        if turn.over:
            return await super().send(call)
        if turn.sent:
            raise TypeError(
                f"{turn.what}() makes more than one request; with_raw_response applies to "
                "methods that make one (the second request was not sent)"
            )
        if isinstance(call.decoder, StreamingDecoder):
            raise TypeError(
                f"{turn.what}() streams its response; with_raw_response applies to methods "
                "whose response is read whole (nothing was sent)"
            )
        turn.sent = True
        seen: list[ResponseInfo] = []
        hook = self.options.on_response

        def record(info: ResponseInfo) -> None:
            seen.append(info)  # the last one answered: earlier ones were retried
            if hook is not None:
                hook(info)

        options = replace(self.options, on_response=record)
        plain: Call[Any] = call
        body = await self.transport.send(replace(plain, decoder=_KEEP), options)
        turn.response = AsyncRawResponse(seen[-1], cast(bytes, body), call.decoder)
        return cast(T, turn.response)

    def derive(self, *, organization_id: str | None = None, **options: Any) -> Requester:
        # Only batch helpers derive a requester: they make many requests.
        raise TypeError(
            f"{self.turn.what}() makes many requests; with_raw_response applies to methods "
            "that make one (nothing was sent)"
        )


class AsyncWithRawResponse:
    """``<resource>.with_raw_response``: the resource's API methods, answering with an
    :class:`AsyncRawResponse` instead of the decoded value."""

    __slots__ = ("_resource",)

    def __init__(self, resource: AsyncResource) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Callable[..., Awaitable[AsyncRawResponse[Any]]]:
        resource = self._resource
        owner = type(resource)
        method = None if name.startswith("_") else inspect.getattr_static(owner, name, None)
        if isinstance(method, functools.cached_property):
            raise AttributeError(
                f"{name!r} is a namespace, not an API method: use .{name}.with_raw_response"
            )
        if not inspect.isfunction(method) or inspect.isasyncgenfunction(method):
            raise AttributeError(
                f"{owner.__name__} has no API method {name!r} to call with_raw_response"
            )
        function: Callable[..., Any] = method
        what = f"{owner.__name__}.{name}"

        @functools.wraps(getattr(resource, name))  # its signature, without self
        async def call(*args: Any, **kwargs: Any) -> AsyncRawResponse[Any]:
            base = resource._requester
            turn = _Turn(what)
            requester = _RawRequester(base.transport, base.options, base.organization_id, turn)
            result = function(resource._with_requester(requester), *args, **kwargs)
            response: Any
            try:
                if isinstance(result, AsyncPaginator):
                    # The first page, raw; its next_page() fetches through the same
                    # paginator, whose requester answers as usual once this call is over.
                    response = await result._fetch(result._after)
                    response._next_page = result._page
                elif inspect.isawaitable(result):
                    response = await result
                else:
                    response = None
            finally:
                turn.over = True
            made = turn.response
            if made is None or response is not made:
                raise TypeError(
                    f"{what}() does not answer with the response of one API request; "
                    "with_raw_response cannot apply to it"
                )
            return made

        return call

    def __dir__(self) -> list[str]:
        owner = type(self._resource)
        return sorted(
            name
            for name in dir(owner)
            if not name.startswith("_")
            and inspect.isfunction(inspect.getattr_static(owner, name, None))
        )

    def __repr__(self) -> str:
        return f"<{type(self._resource).__name__}.with_raw_response>"
