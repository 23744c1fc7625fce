"""Rewards (API reference §3): offers, locations and placement content for a user."""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta, timezone
from typing import Any

from .._components import slot_components
from .._constants import (
    CATEGORY_NAMES,
    COMPONENT_TYPES,
    DEFAULT_RADIUS_MILES,
    LOCATION_INCLUDES,
    LOCATION_SORTS,
    OFFER_INCLUDES,
    OFFER_SORTS,
    PLACEMENT_INCLUDES,
    PURCHASE_CHANNELS,
    STATES,
)
from .._jsonapi import (
    ApiError,
    Page,
    Params,
    canonical_query,
    format_datetime,
    invalid_parameter,
    query_string,
    sort_by,
)
from .._resources import categories, offer_resource, seed_placement
from .._routing import Call, Document, route
from .._seed import (
    LOCATIONS,
    OFFERS,
    OFFERS_BY_ID,
    SeedLocation,
    SeedPlacement,
    SeedSlot,
    slot_offer_ids,
)
from .users import require_enrolled

_USER = "/v2/issuers/{org}/users/{user}"
EARTH_RADIUS_MILES = 3958.8


def _category_param(params: Params) -> str | None:
    category = params.single("filter[category]")
    if category is not None and category not in CATEGORY_NAMES:
        raise invalid_parameter(
            "filter[category]",
            f"filter[category] value {category!r} is not allowed; allowed values: "
            + ", ".join(CATEGORY_NAMES),
        )
    return category


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


@route("GET", f"{_USER}/offers")
def offers(call: Call) -> Document:
    require_enrolled(call)
    params = call.params
    search = params.single("filter[search]")
    channels = params.csv("filter[purchaseChannel]", PURCHASE_CHANNELS)
    category = _category_param(params)
    targeted = params.boolean("filter[isTargeted]")
    sorts = params.csv("sort", OFFER_SORTS)
    include = params.csv("include", OFFER_INCLUDES)
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
    sort_by(matches, sorts, _OFFER_KEYS)
    page = Page(params, len(matches))
    window = matches[page.start : page.end]
    user_path = call.user_path
    document: Document = {
        "data": [offer_resource(offer, wanted, user_path) for offer in window],
        "links": page.links(
            user_path + "/offers", canonical_query(params, _OFFER_PARAMS, _OFFER_LISTS)
        ),
        "meta": {"availableCategories": categories(offer.category for offer in matches)},
    }
    if include:
        document["included"] = categories(offer.category for offer in window)
    return document


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


@route("GET", f"{_USER}/locations")
def locations(call: Call) -> Document:
    require_enrolled(call)
    params = call.params
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
    include = params.csv("include", LOCATION_INCLUDES)
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
        sort_by(scored, sorts, {"locationName": lambda item: item[1].name.casefold()})
    elif center is not None:
        scored.sort(key=lambda item: item[0])
    page = Page(params, len(scored))
    window = [location for _, location in scored[page.start : page.end]]
    user_path = call.user_path
    document: Document = {
        "data": [location.resource for location in window],
        "links": page.links(
            user_path + "/locations", canonical_query(params, _LOCATION_PARAMS, _LOCATION_LISTS)
        ),
    }
    if include:
        included: list[dict[str, Any]] = []
        if "categories" in include:
            included.extend(categories(location.category for location in window))
        if "offers" in include:
            seen: dict[str, None] = {}
            for location in window:
                seen.update(dict.fromkeys(location.offer_ids))
            included.extend(
                offer_resource(OFFERS_BY_ID[offer_id], wanted, user_path) for offer_id in seen
            )
        document["included"] = included
    return document


# --------------------------------------------------------------------------- placements


@route("GET", f"{_USER}/placements/{{placement}}/content")
def placement_content(call: Call) -> Document:
    require_enrolled(call)
    placement = seed_placement(call.path["placement"])
    include = call.params.csv("include", PLACEMENT_INCLUDES)
    wanted = call.params.csv("supportedComponents", COMPONENT_TYPES)
    if placement.kind == "standard":
        return _standard_content(call, placement, include, wanted)
    if placement.kind not in ("batch", "group"):
        raise ApiError(
            400,
            f"placement {placement.id!r} is a {placement.kind} placement and has no content to "
            "serve here",
        )
    activations = call.emulator._slot_activations(
        (call.organization_id, call.user_id, placement.id)
    )
    now = datetime.now(timezone.utc)
    user_path = call.user_path
    slots = []
    for slot in placement.slots:
        attributes: dict[str, Any] = {"name": slot.name}
        if placement.kind == "group":
            attributes["isActive"] = True
        else:
            last = activations.get(slot.id)
            expires = (
                None if last is None else last + timedelta(days=placement.refresh_interval_days)
            )
            activated = expires is not None and expires > now
            attributes["isActive"] = last is None or activated or not slot_offer_ids(slot)
            if last is not None and expires is not None:
                attributes["lastActivatedAt"] = format_datetime(last)
                attributes["expiresAt"] = format_datetime(expires)
            attributes["components"] = slot_components(placement, slot, user_path, activated)
        attributes["assets"] = [_slot_icon(slot)]
        attributes["offers"] = [
            offer_resource(OFFERS_BY_ID[offer_id], wanted, user_path)
            for offer_id in slot_offer_ids(slot)
        ]
        slots.append({"type": "placementBatch", "id": slot.id, "attributes": attributes})
    return {"data": slots, "meta": {"placementName": placement.name}}


def _standard_content(
    call: Call, placement: SeedPlacement, include: list[str], wanted: list[str]
) -> Document:
    offers = [OFFERS_BY_ID[offer_id] for offer_id in placement.offer_ids]
    path = f"{call.user_path}/placements/{placement.id}/content"
    lists = ("include", "supportedComponents")
    query = query_string(canonical_query(call.params, lists, lists))
    document: Document = {
        "data": [offer_resource(offer, wanted, call.user_path) for offer in offers],
        "links": {"self": f"{path}?{query}" if query else path, "prev": None, "next": None},
        "meta": {
            "placementName": placement.name,
            "availableCategories": categories(offer.category for offer in offers),
        },
    }
    if include:
        document["included"] = categories(offer.category for offer in offers)
    return document


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
