"""What every resource shares: one method per HTTP verb that describes a call, and paths.

A resource method is a signature, a docstring and one statement, e.g.
``return self._get_page(self._user_path(user_id, "offers"), query=..., cast_to=OffersPage)``.
The response decoder is derived from ``cast_to`` (once, cached); everything else happens in
the transport.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, Generic, TypeVar

from .. import _query
from .._call import Call
from .._pagination import AsyncPaginator
from .._query import QueryValue
from .._raw import AsyncWithRawResponse
from .._requester import Requester
from .._validate import require_id
from ..models._base import Decoder, Page, decoder_for

T = TypeVar("T")
PageT = TypeVar("PageT", bound=Page)
Query = Sequence[tuple[str, QueryValue]]


class AsyncResource:
    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    @property
    def with_raw_response(self) -> AsyncWithRawResponse:
        """The same API methods, answering with the HTTP response of the call: ``status``,
        ``headers``, ``request_id``, ``content``, and ``parse()`` for the decoded value
        (``kard.users.rewards.with_raw_response.offers("u1")``; a list method answers with
        its first page). Errors raise as usual."""
        return AsyncWithRawResponse(self)

    def _with_requester(self, requester: Requester) -> AsyncResource:
        """This resource, sending through ``requester`` (a subclass with other constructor
        arguments overrides this)."""
        return type(self)(requester)

    # --- paths ---

    def _org_path(self, *rest: str, organization_id: str | None = None) -> str:
        """``/v2/issuers/{org}/...``; each segment is checked and fully percent-encoded."""
        return _query.path("v2", "issuers", self._requester.organization(organization_id), *rest)

    def _user_path(self, user_id: str, *rest: str, organization_id: str | None = None) -> str:
        """``/v2/issuers/{org}/users/{user}/...``."""
        return self._org_path(
            "users", require_id("user_id", user_id), *rest, organization_id=organization_id
        )

    # --- calls ---

    async def _get(
        self, path: str, *, query: Query = (), cast_to: type[T], unwrap: bool = False
    ) -> T:
        return await self._requester.send(
            Call("GET", path, decoder_for(cast_to, unwrap=unwrap), query=_query.encode(query))
        )

    async def _post(
        self,
        path: str,
        *,
        query: Query = (),
        body: bytes | None = None,
        cast_to: type[T],
        unwrap: bool = False,
    ) -> T:
        return await self._write("POST", path, query, body, cast_to, unwrap)

    async def _put(
        self, path: str, *, body: bytes | None = None, cast_to: type[T], unwrap: bool = False
    ) -> T:
        return await self._write("PUT", path, (), body, cast_to, unwrap)

    async def _patch(
        self, path: str, *, body: bytes | None = None, cast_to: type[T], unwrap: bool = False
    ) -> T:
        return await self._write("PATCH", path, (), body, cast_to, unwrap)

    async def _delete(self, path: str, *, cast_to: type[T], unwrap: bool = False) -> T:
        return await self._write("DELETE", path, (), None, cast_to, unwrap)

    async def _write(
        self,
        method: str,
        path: str,
        query: Query,
        body: bytes | None,
        cast_to: type[T],
        unwrap: bool,
    ) -> T:
        call = Call(
            method,
            path,
            decoder_for(cast_to, unwrap=unwrap),
            query=_query.encode(query),
            body=body,
            write=True,
        )
        return await self._requester.send(call)

    def _get_page(
        self, path: str, *, query: Query, cast_to: type[PageT]
    ) -> AsyncPaginator[Any, PageT]:
        """A paginated GET: ``query`` holds ``page[after]``/``page[before]`` for the first
        page; later pages replace them with the server's next cursor."""
        fetch = _PageFetch(self._requester, path, query, decoder_for(cast_to))
        return AsyncPaginator(fetch, after=fetch.after, path=path)


class _PageFetch(Generic[PageT]):
    """Fetches one page of a paginated GET: the first with the call's own query (encoded,
    and so checked, when the call is made), a later one with the server's cursor."""

    __slots__ = ("_decoder", "_first", "_path", "_query", "_send", "after")

    def __init__(
        self, requester: Requester, path: str, query: Query, decoder: Decoder[PageT]
    ) -> None:
        self._send = requester.send
        self._path = path
        self._query = query
        self._decoder = decoder
        self._first = _query.encode(query)
        after = dict(query).get("page[after]")
        self.after = after if isinstance(after, str) else None

    def __call__(self, cursor: str | None) -> Coroutine[Any, Any, PageT]:
        if cursor == self.after:
            encoded = self._first
        else:
            rest = [(key, value) for key, value in self._query if key not in _CURSOR_KEYS]
            encoded = _query.encode([*rest, ("page[after]", cursor)])
        # The transport's coroutine itself: no coroutine of ours around it.
        return self._send(Call("GET", self._path, self._decoder, query=encoded))


_CURSOR_KEYS = frozenset({"page[after]", "page[before]"})
