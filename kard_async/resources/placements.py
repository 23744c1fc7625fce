"""Placements (API reference §9.4, §16): where your app shows offers, and how many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from .. import _params as params
from .._pagination import AsyncPaginator
from .._validate import require_id
from ..models._base import ResourceIdentifier
from ..models.organizations import (
    MAX_LIST_PAGE_SIZE,
    Placement,
    PlacementDetail,
    PlacementInclude,
    PlacementsPage,
    PlacementSpec,
    PlacementType,
    check_placement_spec,
    encode_placement,
)
from ._base import AsyncResource

# A placement of any kind: create and update answer with the kind that was sent.
_PLACEMENT = cast("type[Placement]", Placement)


class AsyncPlacements(AsyncResource):
    """``kard.organizations.placements``: where your app shows offers, and how many."""

    def list(
        self,
        *,
        type: PlacementType | None = None,
        name: str | None = None,
        content_strategy_id: str | None = None,
        include: Sequence[PlacementInclude] | None = None,
        page_size: int | None = None,
        after: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[Placement, PlacementsPage]:
        """Your placements, of every kind (``type`` keeps one kind; ``name``: exactly this
        name; ``content_strategy_id``: those linked to it). ``include`` side-loads
        ``"contentStrategy"``, ``"slots"``, ``"slots.placement"`` or
        ``"slots.placement.contentStrategy"`` into ``page.included`` (a dotted path brings
        the resources on its way too). ``await`` for a page (``page_size`` 1 to 200, the
        server's default 200), ``async for`` for all.
        """
        return self._get_page(
            self._org_path("placements", organization_id=organization_id),
            query=[
                ("filter[type]", params.text("type", type)),
                ("filter[name]", params.text("name", name)),
                (
                    "filter[contentStrategyId]",
                    params.text("content_strategy_id", content_strategy_id),
                ),
                ("include", params.csv("include", include)),
                *params.paging(page_size, after, max_size=MAX_LIST_PAGE_SIZE),
            ],
            cast_to=PlacementsPage,
        )

    async def get(
        self,
        placement_id: str,
        *,
        include: Sequence[PlacementInclude] | None = None,
        organization_id: str | None = None,
    ) -> PlacementDetail:
        """One placement (``detail.data``), with what ``include`` asked for (as for
        ``list``) in ``detail.included``. ``NotFoundError`` if there is none with this id."""
        return await self._get(
            self._path(placement_id, organization_id),
            query=[("include", params.csv("include", include))],
            cast_to=PlacementDetail,
        )

    async def create(
        self, placement: PlacementSpec, *, organization_id: str | None = None
    ) -> Placement:
        """Create a placement of the kind of ``placement``: a
        :class:`~kard_async.models.StandardPlacementSpec`, ``EmailPlacementSpec``,
        ``PushNotificationPlacementSpec``, ``BatchActivationPlacementSpec`` or
        ``GroupPlacementSpec``. A ``content_strategy_id`` or a slot's ``placement_id`` that
        does not exist is a ``NotFoundError``.

        Not retried once it may have been processed: a failure then has
        ``outcome_unknown=True`` (look it up by name before creating it again).
        """
        return await self._post(
            self._org_path("placements", organization_id=organization_id),
            body=encode_placement(check_placement_spec(placement, update=False)),
            cast_to=_PLACEMENT,
        )

    async def update(
        self, placement_id: str, placement: PlacementSpec, *, organization_id: str | None = None
    ) -> Placement:
        """Replace a placement: a full replacement (PUT), not a patch. ``placement`` is
        of the placement's kind and holds everything it should keep: a ``display_name`` or
        ``content_strategy_id`` left out is cleared (the strategy is unlinked), slots left
        out are removed, and a slot keeps its id only if you echo its ``slot_id``. Only
        ``status`` left out is kept as it is."""
        return await self._put(
            self._path(placement_id, organization_id),
            body=encode_placement(check_placement_spec(placement, update=True)),
            cast_to=_PLACEMENT,
        )

    async def delete(
        self, placement_id: str, *, organization_id: str | None = None
    ) -> ResourceIdentifier:
        """Delete a placement; returns its ``type`` and ``id``."""
        return await self._delete(
            self._path(placement_id, organization_id), cast_to=ResourceIdentifier, unwrap=True
        )

    def _path(self, placement_id: str, organization_id: str | None) -> str:
        return self._org_path(
            "placements", require_id("placement_id", placement_id), organization_id=organization_id
        )
