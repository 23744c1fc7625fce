"""``Pager``: the blocking twin of :class:`~kard_async.AsyncPager` (hand-written)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from .._pagination import AsyncPager, PageLike
from ._portal import ClientHandle, current_generation

T = TypeVar("T")


class Pager(Iterator[T]):
    """Iterator over the items of every page; pages are fetched lazily, in order.

    ``for item in pager`` walks items, with one request per page (not per item);
    ``pager.next_page()`` returns the next whole page (None when done), for callers that
    want page-level control. Breaking out of the loop early leaves nothing to clean up and
    makes no further request.
    """

    __slots__ = ("_generation", "_handle", "_index", "_items", "_pager")

    def __init__(self, handle: ClientHandle, pager: AsyncPager[T]) -> None:
        self._handle = handle
        self._pager = pager
        self._items: Sequence[T] = ()
        self._index = 0
        self._generation = current_generation()

    def next_page(self) -> PageLike[T] | None:
        if self._generation != current_generation():
            raise RuntimeError(
                "this iterator was created before fork(); start a new one in this process"
            )
        return self._handle.run(self._pager.next_page())

    def __iter__(self) -> Pager[T]:
        return self

    def __next__(self) -> T:
        while self._index >= len(self._items):
            page = self.next_page()
            if page is None:
                raise StopIteration
            self._items, self._index = page.data, 0
        item = self._items[self._index]
        self._index += 1
        return item
