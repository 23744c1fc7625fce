"""The "plain msgspec Structs" baseline: a minimal hand-written model of a locations page.

What a careful developer would write by hand for this one endpoint, and nothing more:
``gc=False`` Structs, camelCase renaming, a plain tagged union on ``type`` for ``included``,
required fields where the API says REQ. It decodes the same information with the same
Python types as ``kard_async.models.rewards.LocationsPage`` (datetimes included) but has
none of the library's forward compatibility: an unknown ``included[].type`` fails the page.

Also the attribution request body of the minimal bulk client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Union

import msgspec


class _S(msgspec.Struct, rename="camel", gc=False):
    pass


class Identifier(_S):
    type: str
    id: str


class Relationship(_S):
    data: list[Identifier]


class Address(_S):
    street: str
    city: str
    state: str
    zip_code: str


class Coordinates(_S):
    latitude: float
    longitude: float


class TimePoint(_S):
    day: int
    time: str


class Period(_S):
    open: TimePoint
    close: TimePoint


class OperationHours(_S):
    periods: list[Period]
    weekday_text: list[str]


class PartnerId(_S):
    type: str
    id: str


class LocationAttributes(_S):
    name: str
    address: Address
    coordinates: Coordinates
    phone: str
    operation_hours: OperationHours
    partner_ids: list[PartnerId]


class LocationRelationships(_S):
    offers: Relationship
    category: Relationship


class Location(_S):
    type: str
    id: str
    attributes: LocationAttributes
    relationships: LocationRelationships | None = None


class UserReward(_S):
    type: str
    value: float


class Amount(_S):
    type: str
    value: int


class Asset(_S):
    type: str
    url: str
    alt: str


class OfferAttributes(_S):
    name: str
    terms: str
    purchase_channel: list[str]
    user_reward: UserReward
    assets: list[Asset]
    start_date: datetime
    expiration_date: datetime
    is_targeted: bool
    max_redemptions: int | None = None
    min_transaction_amount: Amount | None = None
    max_transaction_amount: Amount | None = None
    min_reward_amount: Amount | None = None
    max_reward_amount: Amount | None = None
    website_url: str | None = None
    description: str | None = None


class OfferRelationships(_S):
    category: Relationship | None = None


class Offer(_S, tag_field="type", tag="standardOffer"):
    id: str
    attributes: OfferAttributes
    relationships: OfferRelationships | None = None


class CategoryAttributes(_S):
    name: str


class Category(_S, tag_field="type", tag="category"):
    id: str
    attributes: CategoryAttributes


class Links(_S):
    self: str
    prev: str | None = None
    next: str | None = None


class LocationsPage(_S):
    data: list[Location]
    links: Links
    included: list[Union[Offer, Category]] = []  # noqa: UP007 - a plain tagged union


LOCATIONS_DECODER = msgspec.json.Decoder(LocationsPage)


# --- the minimal bulk client's request and response ---


class EventAttributes(_S):
    entity_id: str
    event_code: str
    medium: str
    event_date: datetime


class OfferAttributionEvent(_S, tag_field="type", tag="offerAttribution"):
    attributes: EventAttributes


class AttributionsBody(_S):
    data: list[OfferAttributionEvent]


class JobAttributes(_S):
    status: str


class Job(_S):
    type: str
    id: str
    attributes: JobAttributes


class JobResponse(_S):
    data: Job


JOB_DECODER = msgspec.json.Decoder(JobResponse)
ENCODER = msgspec.json.Encoder()
