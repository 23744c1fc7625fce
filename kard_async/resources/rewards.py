"""Offers, locations and placement content for a user (API reference §3)."""

from __future__ import annotations

from collections.abc import Sequence

from .. import _params as params
from .._pagination import AsyncPaginator
from .._validate import require_id
from ..models.rewards import (
    CategoryOption,
    ComponentType,
    Location,
    LocationInclude,
    LocationSort,
    LocationsPage,
    Offer,
    OfferInclude,
    OfferSort,
    OffersPage,
    PlacementContent,
    PurchaseChannel,
    State,
)
from ..models.transactions import (
    EarnedReward,
    EarnedRewardInclude,
    EarnedRewardsPage,
    EarnedRewardsRange,
    EarnedRewardStatus,
)
from ._base import AsyncResource


class AsyncRewards(AsyncResource):
    """``kard.users.rewards``: what a user can earn, and where."""

    def locations(
        self,
        user_id: str,
        *,
        latitude: float | None = None,
        longitude: float | None = None,
        radius: int | None = None,
        name: str | None = None,
        city: str | None = None,
        zip_code: str | None = None,
        state: State | None = None,
        category: CategoryOption | None = None,
        sort: LocationSort | Sequence[LocationSort] | None = None,
        include: Sequence[LocationInclude] | None = None,
        supported_components: Sequence[ComponentType] | None = None,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[Location, LocationsPage]:
        """The locations where ``user_id`` has eligible in-store offers.

        ``await`` the result for one page, or ``async for location in ...`` to walk every
        location of every page. Search by ``latitude`` + ``longitude`` (both, in degrees)
        within ``radius`` miles (default 10 on the server, at least 1); ``name``, ``city``
        (substring), ``zip_code`` and ``state`` narrow the result. ``include`` side-loads
        ``"offers"`` and/or ``"categories"`` into ``page.included``.
        """
        return self._get_page(
            self._user_path(user_id, "locations", organization_id=organization_id),
            query=[
                *params.geo(latitude, longitude, radius),
                ("filter[name]", params.text("name", name)),
                ("filter[city]", params.text("city", city)),
                ("filter[zipCode]", params.text("zip_code", zip_code)),
                ("filter[state]", params.text("state", state)),
                ("filter[category]", params.text("category", category)),
                ("sort", params.csv("sort", sort)),
                *params.side_loads(include, supported_components),
                *params.paging(page_size, after, before),
            ],
            cast_to=LocationsPage,
        )

    def offers(
        self,
        user_id: str,
        *,
        search: str | None = None,
        purchase_channel: PurchaseChannel | Sequence[PurchaseChannel] | None = None,
        category: CategoryOption | None = None,
        is_targeted: bool | None = None,
        sort: OfferSort | Sequence[OfferSort] | None = None,
        include: Sequence[OfferInclude] | None = None,
        supported_components: Sequence[ComponentType] | None = None,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[Offer, OffersPage]:
        """The national offers ``user_id`` is eligible for.

        ``await`` the result for one page, or ``async for offer in ...`` to walk every
        offer. ``search`` matches offer or category names (case-insensitive);
        ``purchase_channel`` keeps offers redeemable in any of the given channels; ``sort``
        keys may be prefixed with ``-`` for descending order.
        ``page.meta.available_categories`` lists the categories of the whole filtered result.
        """
        return self._get_page(
            self._user_path(user_id, "offers", organization_id=organization_id),
            query=[
                ("filter[search]", params.text("search", search)),
                ("filter[purchaseChannel]", params.csv("purchase_channel", purchase_channel)),
                ("filter[category]", params.text("category", category)),
                ("filter[isTargeted]", params.flag("is_targeted", is_targeted)),
                ("sort", params.csv("sort", sort)),
                *params.side_loads(include, supported_components),
                *params.paging(page_size, after, before),
            ],
            cast_to=OffersPage,
        )

    async def placement_content(
        self,
        user_id: str,
        placement_id: str,
        *,
        include: Sequence[OfferInclude] | None = None,
        supported_components: Sequence[ComponentType] | None = None,
        organization_id: str | None = None,
    ) -> PlacementContent:
        """The user's content for a placement: offers for a standard placement, slots
        (``content.batches``) for a batch-activation or group placement."""
        return await self._get(
            self._user_path(
                user_id,
                "placements",
                require_id("placement_id", placement_id),
                "content",
                organization_id=organization_id,
            ),
            query=params.side_loads(include, supported_components),
            cast_to=PlacementContent,
        )

    def earned(
        self,
        user_id: str,
        *,
        status: EarnedRewardStatus | None = None,
        paid_in_full_only: bool | None = None,
        range: EarnedRewardsRange | None = None,
        include: EarnedRewardInclude | Sequence[EarnedRewardInclude] | None = None,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[EarnedReward, EarnedRewardsPage]:
        """The rewards ``user_id`` earned, newest first (§7.5).

        ``await`` the result for one page, or ``async for reward in ...`` to walk every
        reward of every page. ``status`` is ``"SETTLED"`` by default on the server
        (:class:`~kard_async.models.RewardedTransaction` rows, with the commission);
        ``"APPROVED"`` lists approved transactions not settled yet
        (:class:`~kard_async.models.ApprovedTransaction`). ``range`` is ``"12M"`` (the
        default), ``"6M"``, ``"3M"`` or ``"YTD"``; ``paid_in_full_only=True`` keeps rewards
        Kard paid you in full. Both also scope ``page.meta.lifetime_rewards_in_cents``.
        ``include`` side-loads ``"merchant"`` and/or ``"offer"`` into ``page.included``
        (``page.merchant_of(reward)``, ``page.offer_of(reward)``).
        """
        return self._get_page(
            self._user_path(user_id, "earned-rewards", organization_id=organization_id),
            query=[
                ("filter[status]", params.text("status", status)),
                ("filter[paidInFullOnly]", params.flag("paid_in_full_only", paid_in_full_only)),
                ("filter[range]", params.text("range", range)),
                ("include", params.csv("include", include)),
                *params.paging(page_size, after, before),
            ],
            cast_to=EarnedRewardsPage,
        )
