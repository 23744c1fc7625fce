"""What every resource shares: the client it sends through, and user-scoped paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from .. import _query
from .._call import Call
from .._validate import require_id

if TYPE_CHECKING:
    from .._client import AsyncKard

T = TypeVar("T")


class AsyncResource:
    def __init__(self, client: AsyncKard) -> None:
        self._client = client

    def _user_path(self, user_id: str, *rest: str, organization_id: str | None) -> str:
        organization = self._client._organization(organization_id)
        return _query.path(
            "v2", "issuers", organization, "users", require_id("user_id", user_id), *rest
        )

    async def _send(self, call: Call[T]) -> T:
        return await self._client._send(call)
