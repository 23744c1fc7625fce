"""Read endpoints: offers, locations and placement content, built from the seed."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ._components import offer_components, slot_components
from ._constants import (
    CATEGORY_NAMES,
    COMPONENT_TYPES,
    DEFAULT_RADIUS_MILES,
    PURCHASE_CHANNELS,
    STATES,
)
from ._jsonapi import ApiError, Page, Params, format_datetime, invalid_parameter, query_string
from ._seed import (
    CATEGORY_RESOURCES,
    LOCATIONS,
    OFFERS,
    OFFERS_BY_ID,
    SeedLocation,
    SeedOffer,
    SeedPlacement,
    SeedSlot,
    slot_offer_ids,
)

OFFER_SORTS = ("startDate", "-startDate", "expirationDate", "-expirationDate", "name", "-name")
LOCATION_SORTS = ("locationName", "-locationName")
EARTH_RADIUS_MILES = 3958.8

_CATEGORY_ORDER = {name: index for index, name in enumerate(CATEGORY_NAMES)}


class _IndexedLocation:
    __slots__ = ("city", "cos_lat", "lat", "location", "lon", "name")

    def __init__(self, location: SeedLocation) -> None:
        self.location = location
        self.lat = math.radians(location.latitude)
        self.lon = math.radians(location.longitude)
        self.cos_lat = math.cos(self.lat)
        self.name = location.name.casefold()
        self.city = location.city.casefold()


_INDEXED_LOCATIONS = tuple(_IndexedLocation(location) for location in LOCATIONS)


def offer_resource(offer: SeedOffer, wanted: list[str], user_path: str) -> dict[str, Any]:
    if not wanted:
        return offer.resource
    resource = dict(offer.resource)
    resource["attributes"] = {
        **offer.resource["attributes"],
        "components": offer_components(offer, wanted, user_path),
    }
    return resource


def _category_param(params: Params) -> str | None:
    category = params.single("filter[category]")
    if category is not None and category not in _CATEGORY_ORDER:
        raise invalid_parameter(
            "filter[category]",
            f"filter[category] value {category!r} is not allowed; allowed values: "
            + ", ".join(CATEGORY_NAMES),
        )
    return category


def _categories(names: set[str]) -> list[dict[str, Any]]:
    return [CATEGORY_RESOURCES[name] for name in sorted(names, key=_CATEGORY_ORDER.__getitem__)]


def _canonical(params: Params, names: Sequence[str], lists: Sequence[str]) -> list[tuple[str, str]]:
    """Request parameters (minus pagination) in a fixed order, list values as CSV."""
    rest: list[tuple[str, str]] = []
    for name in names:
        if name in lists:
            values = params.csv(name)
            if values:
                rest.append((name, ",".join(values)))
        else:
            value = params.single(name)
            if value is not None:
                rest.append((name, value))
    return rest


def _sorted(items: list[Any], sorts: list[str], keys: dict[str, Any]) -> list[Any]:
    # Stable sorts applied from the last key to the first give a multi-key ordering.
    for sort in reversed(sorts):
        items.sort(key=keys[sort.lstrip("-")], reverse=sort.startswith("-"))
    return items


# --------------------------------------------------------------------------- offers

_OFFER_PARAMS = (
    "filter[search]",
    "filter[purchaseChannel]",
    "filter[category]",
    "filter[isTargeted]",
    "sort",
    "include",
    "supportedComponents",
)
_OFFER_LISTS = ("filter[purchaseChannel]", "sort", "include", "supportedComponents")
_OFFER_KEYS = {
    "startDate": lambda offer: offer.start_date,
    "expirationDate": lambda offer: offer.expiration_date,
    "name": lambda offer: offer.name.casefold(),
}


def offers_body(user_path: str, params: Params) -> dict[str, Any]:
    search = params.single("filter[search]")
    channels = params.csv("filter[purchaseChannel]", PURCHASE_CHANNELS)
    category = _category_param(params)
    targeted = params.boolean("filter[isTargeted]")
    sorts = params.csv("sort", OFFER_SORTS)
    include = params.csv("include", ("categories",))
    wanted = params.csv("supportedComponents", COMPONENT_TYPES)
    needle = search.casefold() if search else None

    matches = [
        offer
        for offer in OFFERS
        if (
            needle is None or needle in offer.name.casefold() or needle in offer.category.casefold()
        )
        and (not channels or any(channel in offer.channels for channel in channels))
        and (category is None or offer.category == category)
        and (targeted is None or offer.is_targeted == targeted)
    ]
    _sorted(matches, sorts, _OFFER_KEYS)
    page = Page(params, len(matches))
    window = matches[page.start : page.end]
    body: dict[str, Any] = {
        "data": [offer_resource(offer, wanted, user_path) for offer in window],
        "links": page.links(user_path + "/offers", _canonical(params, _OFFER_PARAMS, _OFFER_LISTS)),
        "meta": {"availableCategories": _categories({offer.category for offer in matches})},
    }
    if include:
        body["included"] = _categories({offer.category for offer in window})
    return body


# --------------------------------------------------------------------------- locations

_LOCATION_PARAMS = (
    "filter[latitude]",
    "filter[longitude]",
    "filter[radius]",
    "filter[name]",
    "filter[city]",
    "filter[zipCode]",
    "filter[state]",
    "filter[category]",
    "sort",
    "include",
    "supportedComponents",
)
_LOCATION_LISTS = ("sort", "include", "supportedComponents")


def _coordinates(params: Params) -> tuple[float, float] | None:
    latitude = params.number("filter[latitude]")
    longitude = params.number("filter[longitude]")
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        given, missing = (
            ("filter[longitude]", "filter[latitude]")
            if latitude is None
            else ("filter[latitude]", "filter[longitude]")
        )
        raise invalid_parameter(missing, f"{missing} is required when {given} is given")
    if not -90.0 <= latitude <= 90.0:
        raise invalid_parameter("filter[latitude]", f"filter[latitude] {latitude} is out of range")
    if not -180.0 <= longitude <= 180.0:
        raise invalid_parameter(
            "filter[longitude]", f"filter[longitude] {longitude} is out of range"
        )
    return latitude, longitude


def locations_body(user_path: str, params: Params) -> dict[str, Any]:
    center = _coordinates(params)
    radius = params.integer("filter[radius]")
    if radius is not None and radius < 1:
        raise invalid_parameter(
            "filter[radius]", f"filter[radius] must be at least 1, got {radius}"
        )
    name = params.single("filter[name]")
    city = params.single("filter[city]")
    zip_code = params.single("filter[zipCode]")
    state = params.single("filter[state]")
    if state is not None and state not in STATES:
        raise invalid_parameter(
            "filter[state]",
            f"filter[state] value {state!r} is not allowed; allowed values: "
            + ", ".join(sorted(STATES)),
        )
    category = _category_param(params)
    sorts = params.csv("sort", LOCATION_SORTS)
    include = params.csv("include", ("offers", "categories"))
    wanted = params.csv("supportedComponents", COMPONENT_TYPES)
    name_needle = name.casefold() if name else None
    city_needle = city.casefold() if city else None

    scored: list[tuple[float, SeedLocation]] = []
    lat0 = lon0 = cos0 = limit = 0.0
    if center is not None:
        lat0, lon0 = math.radians(center[0]), math.radians(center[1])
        cos0 = math.cos(lat0)
        # Compare haversine "a" values instead of distances: no asin/sqrt per location.
        limit = math.sin((radius or DEFAULT_RADIUS_MILES) / EARTH_RADIUS_MILES / 2) ** 2
    for entry in _INDEXED_LOCATIONS:
        location = entry.location
        if (
            (name_needle is not None and name_needle not in entry.name)
            or (city_needle is not None and city_needle not in entry.city)
            or (zip_code is not None and location.zip_code != zip_code)
            or (state is not None and location.state != state)
            or (category is not None and location.category != category)
        ):
            continue
        distance = 0.0
        if center is not None:
            distance = (
                math.sin((entry.lat - lat0) / 2) ** 2
                + cos0 * entry.cos_lat * math.sin((entry.lon - lon0) / 2) ** 2
            )
            if distance > limit:
                continue
        scored.append((distance, location))
    if sorts:
        keys = {"locationName": lambda item: item[1].name.casefold()}
        _sorted(scored, sorts, keys)
    elif center is not None:
        scored.sort(key=lambda item: item[0])
    page = Page(params, len(scored))
    window = [location for _, location in scored[page.start : page.end]]
    body: dict[str, Any] = {
        "data": [location.resource for location in window],
        "links": page.links(
            user_path + "/locations", _canonical(params, _LOCATION_PARAMS, _LOCATION_LISTS)
        ),
    }
    if include:
        included: list[dict[str, Any]] = []
        if "categories" in include:
            included.extend(_categories({location.category for location in window}))
        if "offers" in include:
            seen: dict[str, None] = {}
            for location in window:
                seen.update(dict.fromkeys(location.offer_ids))
            included.extend(
                offer_resource(OFFERS_BY_ID[offer_id], wanted, user_path) for offer_id in seen
            )
        body["included"] = included
    return body


# --------------------------------------------------------------------------- placements


def _slot_icon(slot: SeedSlot) -> dict[str, str]:
    initials = "".join(word[0] for word in slot.name.split()[:2]).upper()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48">'
        '<circle cx="24" cy="24" r="24" style="fill:var(--icon-fill)"/>'
        '<text x="24" y="30" text-anchor="middle" font-family="sans-serif" font-size="18" '
        f'fill="#fff">{initials}</text></svg>'
    )
    return {
        "type": "IMG_VIEW",
        "url": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
        "alt": f"{slot.name} icon",
    }


def slot_state(
    placement: SeedPlacement, slot: SeedSlot, last: datetime | None, now: datetime
) -> tuple[bool, bool]:
    """(isActive, has an unexpired activation) for one batch slot."""
    if last is None:
        return True, False
    activated = last + timedelta(days=placement.refresh_interval_days) > now
    return activated or not slot_offer_ids(slot), activated


def placement_body(
    user_path: str,
    placement: SeedPlacement,
    params: Params,
    activations: dict[str, datetime],
    now: datetime,
) -> dict[str, Any]:
    include = params.csv("include", ("categories",))
    wanted = params.csv("supportedComponents", COMPONENT_TYPES)
    if placement.kind == "standard":
        offers = [OFFERS_BY_ID[offer_id] for offer_id in placement.offer_ids]
        rest = _canonical(
            params, ("include", "supportedComponents"), ("include", "supportedComponents")
        )
        path = f"{user_path}/placements/{placement.id}/content"
        query = query_string(rest)
        body: dict[str, Any] = {
            "data": [offer_resource(offer, wanted, user_path) for offer in offers],
            "links": {"self": f"{path}?{query}" if query else path, "prev": None, "next": None},
            "meta": {
                "placementName": placement.name,
                "availableCategories": _categories({offer.category for offer in offers}),
            },
        }
        if include:
            body["included"] = _categories({offer.category for offer in offers})
        return body
    if placement.kind not in ("batch", "group"):
        raise ApiError(
            400,
            f"placement {placement.id!r} is a {placement.kind} placement and has no content to "
            "serve here",
        )
    slots = []
    for slot in placement.slots:
        attributes: dict[str, Any] = {"name": slot.name}
        if placement.kind == "group":
            attributes["isActive"] = True
        else:
            last = activations.get(slot.id)
            is_active, activated = slot_state(placement, slot, last, now)
            attributes["isActive"] = is_active
            if last is not None:
                attributes["lastActivatedAt"] = format_datetime(last)
                attributes["expiresAt"] = format_datetime(
                    last + timedelta(days=placement.refresh_interval_days)
                )
            attributes["components"] = slot_components(placement, slot, user_path, activated)
        attributes["assets"] = [_slot_icon(slot)]
        attributes["offers"] = [
            offer_resource(OFFERS_BY_ID[offer_id], wanted, user_path)
            for offer_id in slot_offer_ids(slot)
        ]
        slots.append({"type": "placementBatch", "id": slot.id, "attributes": attributes})
    return {"data": slots, "meta": {"placementName": placement.name}}
