"""``Paginator``: what a blocking list method returns (the twin of ``AsyncPaginator``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._pagination import AsyncPaginator, RepeatedCursorError
from ..models._base import Links, Page
from .portal import ClientHandle, current_generation

ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT", bound=Page)


async def _first(paginator: AsyncPaginator[Any, PageT]) -> PageT:
    return await paginator


class Paginator(Generic[ItemT, PageT]):
    """A page, already fetched, that iterates over every item of every page.

    ``.page`` is the page itself (e.g. a ``LocationsPage``, with ``included`` and ``meta``);
    ``.data``, ``.links``, ``.next_cursor``, ``has_next_page()`` and ``next_page()`` are at
    hand (other attributes are read from the page too, untyped: typed code uses ``.page``).
    ``for item in ...`` walks the items of this page and of every page after it, with one
    request per page (not per item);
    breaking out early makes no further request. A repeated cursor stops the walk with
    :class:`~kard_async.RepeatedCursorError`.
    """

    __slots__ = ("_generation", "_handle", "page")

    def __init__(self, handle: ClientHandle, page: PageT | AsyncPaginator[ItemT, PageT]) -> None:
        self._handle = handle
        self._generation = current_generation()
        self.page: PageT = page if isinstance(page, Page) else handle.run(_first(page))

    @property
    def data(self) -> Sequence[ItemT]:
        items: Sequence[ItemT] = self.page.data
        return items

    @property
    def links(self) -> Links:
        return self.page.links

    @property
    def next_cursor(self) -> str | None:
        return self.page.next_cursor

    @property
    def prev_cursor(self) -> str | None:
        return self.page.prev_cursor

    def has_next_page(self) -> bool:
        return self.page.has_next_page()

    def next_page(self) -> Paginator[ItemT, PageT] | None:
        """The next page, with the same filters; None after the last page."""
        if self._generation != current_generation():
            raise RuntimeError("this page was fetched before fork(); fetch it again")
        page = self._handle.run(self.page.next_page())
        return None if page is None else Paginator(self._handle, page)

    def iter_pages(self) -> Iterator[Paginator[ItemT, PageT]]:
        """This page and every page after it."""
        current: Paginator[ItemT, PageT] | None = self
        seen: set[str] = set()
        while current is not None:
            yield current
            cursor = current.next_cursor
            if current.has_next_page() and cursor is not None:
                if cursor in seen:
                    path = current.links.self_ or "a list"
                    raise RepeatedCursorError(
                        f"GET {path.split('?')[0]}: the server repeated the cursor "
                        f"{cursor!r}; stopped instead of looping forever",
                        method="GET",
                        path=path.split("?")[0],
                    )
                seen.add(cursor)
            current = current.next_page()

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.iter_pages():
            yield from page.data

    if not TYPE_CHECKING:  # for scripts; typed code reads them from ``.page``

        def __getattr__(self, name: str) -> Any:
            return getattr(self.page, name)

    def __repr__(self) -> str:
        return f"Paginator({self.page!r})"
