"""Offers, locations and placement content (API reference §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from ._base import Links, Model, Page, Relationship, UnknownResource
from ._base import Resource as _Resource
from .common import Category

__all__ = [
    "Address",
    "Amount",
    "Asset",
    "CategoryOption",
    "ComponentType",
    "Coordinates",
    "Cta",
    "CtaAction",
    "Location",
    "LocationAttributes",
    "LocationInclude",
    "LocationRating",
    "LocationRelationships",
    "LocationSort",
    "LocationsPage",
    "LogoFlare",
    "LogoFlareBadge",
    "Offer",
    "OfferAttributes",
    "OfferComponents",
    "OfferInclude",
    "OfferRelationships",
    "OfferSort",
    "OffersMeta",
    "OffersPage",
    "OperationHours",
    "OperationPeriod",
    "PartnerId",
    "PlacementBatch",
    "PlacementBatchAttributes",
    "PlacementContent",
    "PlacementMeta",
    "ProgressBar",
    "ProgressBarLabels",
    "ProgressBarSegment",
    "ProgressBarSegments",
    "ProgressNode",
    "PurchaseChannel",
    "State",
    "TimePoint",
    "UserReward",
]

CategoryOption = Literal[
    "Arts & Entertainment",
    "Baby, Kids & Toys",
    "Books & Digital Media",
    "Clothing, Shoes & Accessories",
    "Computers, Electronics & Software",
    "Convenience",
    "Gas",
    "Department Stores",
    "Food & Beverage",
    "Health & Beauty",
    "Home & Garden",
    "Miscellaneous",
    "Occasions & Gifts",
    "Pets",
    "Sports & Outdoors",
    "Supplies & Services",
    "Travel",
]
State = Literal[
    "AL", "AK", "AS", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FM", "FL", "GA", "GU", "HI",
    "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MH", "MD", "MA", "MI", "MN", "MS", "MO",
    "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "MP", "OH", "OK", "OR", "PW", "PA",
    "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VI", "VA", "WA", "WV", "WI", "WY",
]  # fmt: skip
PurchaseChannel = Literal["INSTORE", "ONLINE"]
ComponentType = Literal[
    "shortDescription",
    "longDescription",
    "baseReward",
    "boostedReward",
    "cta",
    "tags",
    "detailTags",
    "logoFlare",
    "progressBar",
]
OfferSort = Literal["startDate", "-startDate", "expirationDate", "-expirationDate", "name", "-name"]
LocationSort = Literal["locationName", "-locationName"]
LocationInclude = Literal["offers", "categories"]
OfferInclude = Literal["categories"]


# --- offer components (UI hints, §3.5); enum-like fields stay plain strings on responses ---


class CtaAction(Model):
    url: str
    method: str = "POST"


class Cta(Model):
    button_text: str
    button_style: str
    action: CtaAction | None = None
    start_icon: str | None = None


class LogoFlareBadge(Model):
    icon: str
    position: str


class LogoFlare(Model):
    border_color: str
    badge: LogoFlareBadge | None = None


class ProgressBarLabels(Model):
    left: str | None = None
    right: str | None = None


class ProgressBarLabelSet(Model):
    default: ProgressBarLabels
    details: ProgressBarLabels | None = None


class SegmentLabel(Model):
    title: str | None = None
    description: str | None = None


class ProgressBarSegment(Model):
    position: str
    icon: str | None = None
    separator: str | None = None
    labels: list[SegmentLabel] | None = None
    selection: str | None = None


class ProgressNode(Model):
    completed: int
    total: int


class ProgressBarSegments(Model):
    default: ProgressBarSegment
    progress: list[ProgressNode] = []
    details: ProgressBarSegment | None = None


class ProgressBar(Model):
    total: int
    current_progress: int
    label: str
    segmented: bool
    labels: ProgressBarLabelSet
    segments: ProgressBarSegments | None = None


class OfferComponents(Model):
    """UI components, present only for the types asked for with ``supported_components``."""

    short_description: str | None = None
    long_description: str | None = None
    base_reward: str | None = None
    boosted_reward: str | None = None
    tags: list[str] | None = None
    detail_tags: list[str] | None = None
    cta: Cta | None = None
    logo_flare: LogoFlare | None = None
    progress_bar: ProgressBar | None = None


# --- offers (§3.4) ---


class UserReward(Model):
    type: str
    """``FLAT`` or ``PERCENT`` (new values kept as they come)."""
    value: float


class Amount(Model):
    value: int | float
    type: str = "CENTS"


class Asset(Model):
    """An image. Its URL carries an attribution token: load it exactly as given."""

    type: str
    """``IMG_VIEW`` (logo), ``BANNER_VIEW``, ``LOCATION_IMG_VIEW`` (photo of the place), ..."""
    url: str
    alt: str = ""


class OfferAttributes(Model):
    name: str
    terms: str = ""
    purchase_channel: list[str] = []
    user_reward: UserReward | None = None
    assets: list[Asset] = []
    start_date: datetime | None = None
    expiration_date: datetime | None = None
    is_targeted: bool = False
    max_redemptions: int | None = None
    min_transaction_amount: Amount | None = None
    max_transaction_amount: Amount | None = None
    min_reward_amount: Amount | None = None
    max_reward_amount: Amount | None = None
    website_url: str | None = None
    description: str | None = None
    components: OfferComponents | None = None


class OfferRelationships(Model):
    category: Relationship | None = None


class Offer(_Resource, tag="standardOffer"):
    """A cashback offer (``standardOffer``)."""

    attributes: OfferAttributes
    relationships: OfferRelationships | None = None

    @property
    def name(self) -> str:
        return self.attributes.name


# --- locations (§3.2) ---


class Address(Model):
    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""


class Coordinates(Model):
    latitude: float
    longitude: float


class TimePoint(Model):
    day: int
    """0 = Sunday ... 6 = Saturday (in the API's example, 1 is Monday)."""
    time: str
    """``HHMM``, 24-hour."""


class OperationPeriod(Model):
    open: TimePoint | None = None
    close: TimePoint | None = None


class OperationHours(Model):
    periods: list[OperationPeriod] = []
    weekday_text: list[str] = []


class PartnerId(Model):
    type: str
    id: str


class LocationRating(Model):
    value: float
    """Stars, out of 5."""
    count: int | None = None
    """How many ratings ``value`` is based on; None when not known."""


class LocationAttributes(Model):
    name: str
    address: Address | None = None
    coordinates: Coordinates | None = None
    phone: str | None = None
    operation_hours: OperationHours | None = None
    partner_ids: list[PartnerId] = []
    cuisine: str | None = None
    """The kind of food or venue, e.g. ``Pizza Restaurant`` (an open set of values)."""
    rating: LocationRating | None = None
    price_level: str | None = None
    """``$`` (least expensive) to ``$$$$``."""


class LocationRelationships(Model):
    offers: Relationship | None = None
    category: Relationship | None = None


class Location(_Resource, tag="location"):
    """A physical merchant location where the user has eligible in-store offers."""

    attributes: LocationAttributes
    relationships: LocationRelationships | None = None

    @property
    def name(self) -> str:
        return self.attributes.name

    @property
    def offer_ids(self) -> list[str]:
        rel = self.relationships
        return rel.offers.ids if rel is not None and rel.offers is not None else []

    @property
    def category_ids(self) -> list[str]:
        rel = self.relationships
        return rel.category.ids if rel is not None and rel.category is not None else []


# --- pages ---


class LocationsPage(Page, kw_only=True):
    """One page of locations, with the offers and categories asked for with ``include``."""

    data: list[Location]
    included: list[Offer | Category | UnknownResource] = []

    def offers_of(self, location: Location) -> list[Offer]:
        """The included offers that ``location`` relates to (needs ``include=["offers"]``)."""
        wanted = set(location.offer_ids)
        return [r for r in self.included if isinstance(r, Offer) and r.id in wanted]

    def categories_of(self, location: Location) -> list[Category]:
        """The included categories of ``location`` (needs ``include=["categories"]``)."""
        wanted = set(location.category_ids)
        return [r for r in self.included if isinstance(r, Category) and r.id in wanted]


class OffersMeta(Model):
    available_categories: list[Category] = []
    placement_name: str | None = None


class OffersPage(Page, kw_only=True):
    """One page of offers. ``meta.available_categories`` spans the whole filtered result."""

    data: list[Offer]
    included: list[Category | UnknownResource] = []
    meta: OffersMeta = msgspec.field(default_factory=OffersMeta)


class PlacementBatchAttributes(Model):
    name: str
    is_active: bool = True
    last_activated_at: datetime | None = None
    expires_at: datetime | None = None
    components: OfferComponents | None = None
    assets: list[Asset] = []
    offers: list[Offer] = []
    unknown: list[UnknownResource] = msgspec.field(default_factory=list, name="kard-async:unknown")
    """Offers of a type this version does not know (never on the wire)."""


class PlacementBatch(_Resource, tag="placementBatch"):
    """A slot of a batch-activation or group placement; its id is the ``slot_id``."""

    attributes: PlacementBatchAttributes


class PlacementMeta(Model):
    placement_name: str | None = None
    available_categories: list[Category] = []


class PlacementContent(Model, kw_only=True):
    """A placement's content: offers (standard placement) or slots (batch/group placement)."""

    links: Links = msgspec.field(default_factory=Links)
    unknown: list[UnknownResource] = msgspec.field(default_factory=list, name="kard-async:unknown")

    data: list[Offer | PlacementBatch | UnknownResource]
    included: list[Category | UnknownResource] = []
    meta: PlacementMeta = msgspec.field(default_factory=PlacementMeta)

    @property
    def offers(self) -> list[Offer]:
        return [item for item in self.data if isinstance(item, Offer)]

    @property
    def batches(self) -> list[PlacementBatch]:
        return [item for item in self.data if isinstance(item, PlacementBatch)]
