"""Offers, locations and placement content for a user (API reference §3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from .. import _query
from .._call import Call
from .._errors import InvalidParameterError
from .._pagination import AsyncPager
from .._validate import require_choice, require_choices, require_id, require_int, require_number
from ..models.rewards import (
    LOCATIONS_DECODER,
    OFFERS_DECODER,
    PLACEMENT_CONTENT_DECODER,
    CategoryOption,
    ComponentType,
    Location,
    LocationSort,
    LocationsPage,
    Offer,
    OfferSort,
    OffersPage,
    PlacementContent,
    PurchaseChannel,
    State,
)
from ._base import AsyncResource

LocationInclude = Literal["offers", "categories"]
OfferInclude = Literal["categories"]


def _list_param(
    name: str, value: str | Sequence[str] | None, allowed: tuple[str, ...]
) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    return require_choices(name, value, allowed)


def _side_loads(
    include: str | Sequence[str] | None,
    allowed: tuple[str, ...],
    supported_components: str | Sequence[str] | None,
) -> list[tuple[str, _query.QueryValue]]:
    """``include`` (related resources to side-load) and ``supportedComponents`` (UI hints)."""
    return [
        ("include", _list_param("include", include, allowed)),
        (
            "supportedComponents",
            _list_param("supported_components", supported_components, get_args(ComponentType)),
        ),
    ]


def _paging(
    page_size: int | None, after: str | None, before: str | None
) -> list[tuple[str, _query.QueryValue]]:
    if page_size is not None:
        require_int("page_size", page_size, low=1)
    if after is not None and before is not None:
        raise InvalidParameterError("before", before, "pass either after= or before=, not both")
    return [("page[size]", page_size), ("page[after]", after), ("page[before]", before)]


class AsyncRewards(AsyncResource):
    """``kard.users.rewards``: what a user can earn, and where."""

    async def locations(
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
    ) -> LocationsPage:
        """One page of the locations where ``user_id`` has eligible in-store offers.

        Search by ``latitude`` + ``longitude`` (both, in degrees) within ``radius`` miles
        (default 10 on the server, at least 1); ``city`` (substring), ``zip_code`` and
        ``state`` narrow the result. ``include`` side-loads ``"offers"`` and/or
        ``"categories"`` into ``page.included``. Pass ``page.next_cursor`` as ``after=``
        for the next page, or use :meth:`iter_locations`.
        """
        query = _location_query(
            latitude, longitude, radius, name, city, zip_code, state, category, sort,
            include, supported_components,
        )  # fmt: skip
        query += _paging(page_size, after, before)
        return await self._send(
            Call(
                "GET",
                self._user_path(user_id, "locations", organization_id=organization_id),
                LOCATIONS_DECODER,
                query=_query.encode(query),
            )
        )

    def iter_locations(
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
        organization_id: str | None = None,
    ) -> AsyncPager[Location]:
        """Every location on every page, fetched page by page as you iterate.

        Takes the same filters as :meth:`locations`. Arguments are checked now, before
        the first page is requested.
        """
        query = _location_query(
            latitude, longitude, radius, name, city, zip_code, state, category, sort,
            include, supported_components,
        )  # fmt: skip
        path = self._user_path(user_id, "locations", organization_id=organization_id)
        _paging(page_size, None, None)  # checked now, not at the first page

        async def fetch(after: str | None) -> LocationsPage:
            params = query + _paging(page_size, after, None)
            return await self._send(
                Call("GET", path, LOCATIONS_DECODER, query=_query.encode(params))
            )

        return AsyncPager(fetch)

    async def offers(
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
    ) -> OffersPage:
        """One page of the national offers ``user_id`` is eligible for.

        ``search`` matches offer or category names (case-insensitive); ``purchase_channel``
        keeps offers redeemable in any of the given channels; ``sort`` keys may be prefixed
        with ``-`` for descending order. ``page.meta.available_categories`` lists the
        categories of the whole filtered result.
        """
        query = _offer_query(
            search, purchase_channel, category, is_targeted, sort, include, supported_components
        )
        query += _paging(page_size, after, before)
        return await self._send(
            Call(
                "GET",
                self._user_path(user_id, "offers", organization_id=organization_id),
                OFFERS_DECODER,
                query=_query.encode(query),
            )
        )

    def iter_offers(
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
        organization_id: str | None = None,
    ) -> AsyncPager[Offer]:
        """Every offer on every page, fetched page by page as you iterate.

        Takes the same filters as :meth:`offers`.
        """
        query = _offer_query(
            search, purchase_channel, category, is_targeted, sort, include, supported_components
        )
        path = self._user_path(user_id, "offers", organization_id=organization_id)
        _paging(page_size, None, None)  # checked now, not at the first page

        async def fetch(after: str | None) -> OffersPage:
            params = query + _paging(page_size, after, None)
            return await self._send(Call("GET", path, OFFERS_DECODER, query=_query.encode(params)))

        return AsyncPager(fetch)

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
        path = self._user_path(
            user_id,
            "placements",
            require_id("placement_id", placement_id),
            "content",
            organization_id=organization_id,
        )
        query = _side_loads(include, get_args(OfferInclude), supported_components)
        return await self._send(
            Call("GET", path, PLACEMENT_CONTENT_DECODER, query=_query.encode(query))
        )


def _location_query(
    latitude: float | None,
    longitude: float | None,
    radius: int | None,
    name: str | None,
    city: str | None,
    zip_code: str | None,
    state: str | None,
    category: str | None,
    sort: str | Sequence[str] | None,
    include: str | Sequence[str] | None,
    supported_components: str | Sequence[str] | None,
) -> list[tuple[str, _query.QueryValue]]:
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        given = "latitude" if longitude is None else "longitude"
        raise InvalidParameterError(missing, None, f"required together with {given}")
    if latitude is not None:
        require_number("latitude", latitude, low=-90, high=90)
    if longitude is not None:
        require_number("longitude", longitude, low=-180, high=180)
    if radius is not None:
        require_int("radius", radius, low=1)
        if latitude is None:
            raise InvalidParameterError(
                "radius", radius, "only applies to a search by latitude and longitude"
            )
    if state is not None:
        require_choice("state", state, get_args(State))
    if category is not None:
        require_choice("category", category, get_args(CategoryOption))
    return [
        ("filter[latitude]", latitude),
        ("filter[longitude]", longitude),
        ("filter[radius]", radius),
        ("filter[name]", name),
        ("filter[city]", city),
        ("filter[zipCode]", zip_code),
        ("filter[state]", state),
        ("filter[category]", category),
        ("sort", _list_param("sort", sort, get_args(LocationSort))),
        *_side_loads(include, get_args(LocationInclude), supported_components),
    ]


def _offer_query(
    search: str | None,
    purchase_channel: str | Sequence[str] | None,
    category: str | None,
    is_targeted: bool | None,
    sort: str | Sequence[str] | None,
    include: str | Sequence[str] | None,
    supported_components: str | Sequence[str] | None,
) -> list[tuple[str, _query.QueryValue]]:
    if category is not None:
        require_choice("category", category, get_args(CategoryOption))
    if is_targeted is not None and not isinstance(is_targeted, bool):
        raise InvalidParameterError("is_targeted", is_targeted, "must be True or False")
    return [
        ("filter[search]", search),
        (
            "filter[purchaseChannel]",
            _list_param("purchase_channel", purchase_channel, get_args(PurchaseChannel)),
        ),
        ("filter[category]", category),
        ("filter[isTargeted]", is_targeted),
        ("sort", _list_param("sort", sort, get_args(OfferSort))),
        *_side_loads(include, get_args(OfferInclude), supported_components),
    ]
