"""One paginator for every list endpoint: await it for a page, iterate it for every item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, Generic, TypeVar

from ._errors import APIError
from .models._base import Page

ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT", bound=Page)

FetchPage = Callable[[str | None], Awaitable[PageT]]


class RepeatedCursorError(APIError):
    """The server sent a ``next`` cursor it had already sent: following it would loop forever."""


class AsyncPaginator(Generic[ItemT, PageT]):
    """What a list method returns; its arguments were checked when it was called.

    ``await`` it for one page (a concrete page type such as ``LocationsPage``, with
    ``next_cursor`` and ``await page.next_page()``), or ``async for item in ...`` to walk
    every item of every page, one request per page. Iteration stops with
    :class:`RepeatedCursorError` if the server repeats a cursor. Breaking out of the loop
    early leaves nothing to clean up.
    """

    __slots__ = ("_after", "_fetch", "_path")

    def __init__(self, fetch: FetchPage[PageT], *, after: str | None, path: str) -> None:
        self._fetch = fetch
        self._after = after
        self._path = path

    def __await__(self) -> Generator[Any, None, PageT]:
        return self._page(self._after).__await__()

    def __aiter__(self) -> _Items[ItemT, PageT]:
        return _Items(self)

    async def _page(self, cursor: str | None) -> PageT:
        page = await self._fetch(cursor)
        vars(page)["_kard_next"] = self._page  # how page.next_page() fetches
        return page


class _Items(Generic[ItemT, PageT]):
    __slots__ = ("_cursor", "_index", "_items", "_page", "_paginator", "_seen", "_started")

    def __init__(self, paginator: AsyncPaginator[ItemT, PageT]) -> None:
        self._paginator = paginator
        self._page: PageT | None = None
        self._items: Sequence[ItemT] = ()
        self._index = 0
        self._seen: set[str] = set()
        self._started = False

    def __aiter__(self) -> _Items[ItemT, PageT]:
        return self

    async def __anext__(self) -> ItemT:
        while self._index >= len(self._items):
            page = await self._next_page()
            if page is None:
                raise StopAsyncIteration
            self._items, self._index = page.data, 0
        item = self._items[self._index]
        self._index += 1
        return item

    async def _next_page(self) -> PageT | None:
        paginator = self._paginator
        if not self._started:
            self._started = True
            self._page = await paginator._page(paginator._after)
            return self._page
        page = self._page
        if page is None or not page.has_next_page():
            return None
        cursor = page.next_cursor
        assert cursor is not None
        if cursor in self._seen or cursor == paginator._after:
            self._page = None
            raise RepeatedCursorError(
                f"GET {paginator._path}: the server repeated the cursor {cursor!r}; "
                "stopped instead of looping forever",
                method="GET",
                path=paginator._path,
            )
        self._seen.add(cursor)
        self._page = await paginator._page(cursor)
        return self._page
