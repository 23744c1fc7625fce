"""The blocking twins of :mod:`kard_async._raw`: ``kard.<resource>.with_raw_response``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from .._raw import AsyncRawResponse, AsyncWithRawResponse
from ..models._base import Page
from .pagination import Paginator
from .portal import ClientHandle

T = TypeVar("T")


class RawResponse(Generic[T]):
    """The HTTP response of one API call, not yet decoded (blocking client).

    As :class:`~kard_async.AsyncRawResponse`: ``status``, ``headers``, ``request_id``,
    ``elapsed``, ``content``, and ``parse()``; for a list method ``parse()`` gives a
    :class:`~kard_async.Paginator` (iterate it for every item of every page).
    """

    __slots__ = ("_handle", "_response")

    def __init__(self, handle: ClientHandle, response: AsyncRawResponse[T]) -> None:
        self._handle = handle
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def request_id(self) -> str | None:
        return self._response.request_id

    @property
    def elapsed(self) -> float:
        return self._response.elapsed

    @property
    def content(self) -> bytes:
        return self._response.content

    @property
    def method(self) -> str:
        return self._response.method

    @property
    def path(self) -> str:
        return self._response.path

    def parse(self) -> Any:
        """The decoded body (each call decodes it again); a page comes as a ``Paginator``."""
        value = self._response.parse()
        return Paginator(self._handle, value) if isinstance(value, Page) else value

    def __repr__(self) -> str:
        return "RawResponse" + repr(self._response)[len("AsyncRawResponse") :]


class WithRawResponse:
    """``<resource>.with_raw_response`` on the blocking client: the resource's API methods,
    answering with a :class:`RawResponse` instead of the decoded value."""

    __slots__ = ("_handle", "_path")

    def __init__(self, handle: ClientHandle, path: tuple[str, ...]) -> None:
        self._handle = handle
        self._path = path

    def _target(self) -> AsyncWithRawResponse:
        target: Any = self._handle.client()
        for name in self._path:
            target = getattr(target, name)
        view: AsyncWithRawResponse = target
        return view

    def __getattr__(self, name: str) -> Callable[..., RawResponse[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        call = getattr(self._target(), name)  # AttributeError for what is not an API method
        handle = self._handle

        def run(*args: Any, **kwargs: Any) -> RawResponse[Any]:
            return RawResponse(handle, handle.run(call(*args, **kwargs)))

        run.__name__ = run.__qualname__ = name
        run.__doc__ = call.__doc__
        return run

    def __dir__(self) -> list[str]:
        return dir(self._target())

    def __repr__(self) -> str:
        return repr(self._target())
