"""Auto-pagination: iterate every item of every page, fetching one page at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class PageLike(Protocol[T_co]):
    @property
    def data(self) -> Sequence[T_co]: ...

    @property
    def next_cursor(self) -> str | None: ...


FetchPage = Callable[[str | None], Awaitable[PageLike[T]]]


class AsyncPager(Generic[T]):
    """Async iterator over the items of every page; pages are fetched lazily, in order.

    ``async for item in pager`` walks items; ``await pager.next_page()`` returns the next
    whole page (None when done), for callers that want page-level control. Breaking out of
    the loop early leaves nothing to clean up.
    """

    def __init__(self, fetch_page: FetchPage[T], after: str | None = None) -> None:
        self._fetch_page = fetch_page
        self._cursor = after
        self._done = False
        self._items: Sequence[T] = ()
        self._index = 0

    async def next_page(self) -> PageLike[T] | None:
        if self._done:
            return None
        page = await self._fetch_page(self._cursor)
        self._cursor = page.next_cursor
        if self._cursor is None or not page.data:
            self._done = True
        return page

    def __aiter__(self) -> AsyncPager[T]:
        return self

    async def __anext__(self) -> T:
        while self._index >= len(self._items):
            page = await self.next_page()
            if page is None:
                raise StopAsyncIteration
            self._items, self._index = page.data, 0
        item = self._items[self._index]
        self._index += 1
        return item
