"""Turning API models into table cells and JSON lines (shared by the lookups and the demo)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import msgspec

from ..models import Category, Location, LocationsPage, Offer
from ._output import Column

EARTH_RADIUS_MILES = 3958.8
_CHANNELS = {"INSTORE": "in store", "ONLINE": "online"}


def wire(value: Any) -> Any:
    """The wire (camelCase) form of a model as builtins, keeping fields equal to their
    default (``isTargeted: false``, ``purchaseChannel: []``): the models leave defaults out
    when encoding, but a JSON consumer expects every field the API sends. Fields that are
    None were absent from the response and stay absent."""
    if isinstance(value, msgspec.Struct):
        config = value.__struct_config__
        out: dict[str, Any] = {}
        if isinstance(config.tag_field, str):
            out[config.tag_field] = config.tag
        for field in msgspec.structs.fields(value):
            item = getattr(value, field.name)
            if item is not None:
                out[field.encode_name] = wire(item)
        return out
    if isinstance(value, (list, tuple)):
        return [wire(item) for item in value]
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    return value


def json_line(model: Any) -> bytes:
    return msgspec.json.encode(wire(model)) + b"\n"


def distance_miles(
    latitude: float, longitude: float, other_latitude: float, other_longitude: float
) -> float:
    """Great-circle (haversine) distance."""
    lat1, lat2 = math.radians(latitude), math.radians(other_latitude)
    dlat = lat2 - lat1
    dlon = math.radians(other_longitude - longitude)
    a = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def reward_text(offer: Offer) -> str:
    """The server's formatted ``baseReward`` when it sent one, else ``5.7%`` or ``$3.00``
    (flat rewards are in cents, like every amount in the API)."""
    attributes = offer.attributes
    if attributes.components is not None and attributes.components.base_reward:
        return attributes.components.base_reward
    reward = attributes.user_reward
    if reward is None:
        return ""
    if reward.type == "PERCENT":
        return f"{reward.value:g}%"
    if reward.type == "FLAT":
        return f"${reward.value / 100:,.2f}"
    return f"{reward.value:g} {reward.type}"


def channels_text(offer: Offer) -> str:
    return ", ".join(
        _CHANNELS.get(channel, channel) for channel in offer.attributes.purchase_channel
    )


def offer_label(offer: Offer, merchant: str = "") -> str:
    """``Name (5% back)``; just ``5% back`` when the offer is named after ``merchant``."""
    reward = reward_text(offer)
    if not reward:
        return offer.name
    return f"{reward} back" if offer.name == merchant else f"{offer.name} ({reward} back)"


def category_names(ids: Iterable[str], categories: dict[str, str]) -> str:
    return ", ".join(categories.get(category_id, category_id) for category_id in ids)


def location_columns(*, distance: bool, category: bool = True) -> list[Column]:
    columns = [Column("name"), Column("address")]
    if distance:
        columns.append(Column("distance", justify="right", no_wrap=True))
    if category:
        columns.append(Column("category"))
    return [*columns, Column("offers")]


def location_row(
    page: LocationsPage,
    location: Location,
    origin: tuple[float, float] | None,
    *,
    category: bool = True,
) -> list[str]:
    """Name, address (street, then city), distance from ``origin`` (when given), category
    (unless ``category=False``), offers with their reward."""
    attributes = location.attributes
    address = ""
    if attributes.address is not None:
        parts = attributes.address
        city = ", ".join(part for part in (parts.city, parts.state) if part)
        city = f"{city} {parts.zip_code}".strip()
        address = "\n".join(part for part in (parts.street, city) if part)
    row = [location.name, address]
    if origin is not None:
        distance = ""
        if attributes.coordinates is not None:
            there = attributes.coordinates
            distance = f"{distance_miles(*origin, there.latitude, there.longitude):.1f} mi"
        row.append(distance)
    if category:
        row.append(", ".join(item.name for item in page.categories_of(location)))
    offers = "\n".join(offer_label(offer, location.name) for offer in page.offers_of(location))
    return [*row, offers]


OFFER_COLUMNS = (
    Column("name"),
    Column("reward", justify="right", no_wrap=True),
    Column("channels"),
    Column("category"),
    Column("targeted"),
    Column("expires", no_wrap=True),
)


def offer_category_ids(offer: Offer) -> list[str]:
    relationships = offer.relationships
    if relationships is None or relationships.category is None:
        return []
    return relationships.category.ids


def offer_row(offer: Offer, categories: dict[str, str]) -> list[str]:
    """Name, reward, channels, category, targeted, expires."""
    attributes = offer.attributes
    category_ids = offer_category_ids(offer)
    expires = attributes.expiration_date.date().isoformat() if attributes.expiration_date else ""
    return [
        offer.name,
        reward_text(offer),
        channels_text(offer),
        category_names(category_ids, categories),
        "yes" if attributes.is_targeted else "",
        expires,
    ]


def category_map(*groups: Iterable[object]) -> dict[str, str]:
    return {item.id: item.name for group in groups for item in group if isinstance(item, Category)}
