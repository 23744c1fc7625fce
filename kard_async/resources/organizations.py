"""Organization management (API reference §9): your organization, and the namespaces for
its child organizations, content strategies and placements."""

from __future__ import annotations

from functools import cached_property

from ..models.organizations import Organization
from ._base import AsyncResource
from .children import AsyncChildren
from .placements import AsyncPlacements
from .strategies import AsyncContentStrategies


class AsyncOrganizations(AsyncResource):
    """Your organization, its child organizations, content strategies and placements."""

    @cached_property
    def children(self) -> AsyncChildren:
        return AsyncChildren(self._requester)

    @cached_property
    def content_strategies(self) -> AsyncContentStrategies:
        return AsyncContentStrategies(self._requester)

    @cached_property
    def placements(self) -> AsyncPlacements:
        return AsyncPlacements(self._requester)

    async def get(self) -> Organization:
        """The organization of the credentials (``GET /v2/issuer``: the token says which,
        so this call takes no organization id)."""
        return await self._get("/v2/issuer", cast_to=Organization)
