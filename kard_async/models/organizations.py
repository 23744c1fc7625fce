"""Organization management (API reference §9, §16): your organization, its child
organizations, content strategies and placements.

Requests (:class:`Cadence`, :class:`SlotSpec` and the five placement specs) are immutable
and validated when built, like the attribution events: a missing name, zero available
slots, a ``week_of_month`` without a ``day_of_week`` or a duplicate slot alias raises
:class:`~kard_async.InvalidParameterError` at the line that made it. Enum values this
version has never heard of (a new sort, a new cadence frequency, a new status) are passed
through: Kard adds them often.

Responses are lenient: what the server sends is decoded as it comes. Lists keep placements
of a kind this version does not know in ``page.unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, cast

import msgspec

from .._errors import InvalidParameterError
from .._validate import require_id, require_int
from ._base import Model, Page, Relationship, Resource, UnknownResource
from .attributions import _Request

__all__ = [
    "BatchActivationPlacement",
    "BatchActivationPlacementAttributes",
    "BatchActivationPlacementSpec",
    "BatchActivationSlot",
    "BatchActivationSlotAttributes",
    "BatchActivationSlotRelationships",
    "Cadence",
    "CadenceFrequency",
    "ChildOrganization",
    "ChildOrganizationAttributes",
    "ChildOrganizationsPage",
    "ContentStrategiesPage",
    "ContentStrategy",
    "ContentStrategyAttributes",
    "ContentStrategyFilters",
    "ContentStrategySort",
    "DayOfWeek",
    "EmailPlacement",
    "EmailPlacementAttributes",
    "EmailPlacementSpec",
    "GroupPlacement",
    "GroupPlacementAttributes",
    "GroupPlacementSpec",
    "OfferFeature",
    "Organization",
    "OrganizationAttributes",
    "OrganizationListMeta",
    "Placement",
    "PlacementDetail",
    "PlacementInclude",
    "PlacementRelationships",
    "PlacementSpec",
    "PlacementStatus",
    "PlacementType",
    "PlacementsPage",
    "PushNotificationPlacement",
    "PushNotificationPlacementAttributes",
    "PushNotificationPlacementSpec",
    "SlotSpec",
    "StandardPlacement",
    "StandardPlacementAttributes",
    "StandardPlacementSpec",
    "WeekOfMonth",
]

ContentStrategySort = Literal[
    "NEWLY_LIVE", "EXPIRING_SOON", "HIGHEST_CASHBACK", "PERSONALIZED", "OFFERS_NEAR_YOU"
]
OfferFeature = Literal["INTERACTIVE"]
PlacementType = Literal[
    "placement",
    "placementPushNotification",
    "placementEmail",
    "placementBatchActivation",
    "placementGroup",
]
PlacementStatus = Literal["ACTIVE", "INACTIVE"]
CadenceFrequency = Literal["DAILY", "WEEKLY", "MONTHLY"]
DayOfWeek = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
WeekOfMonth = Literal["FIRST", "LAST"]
PlacementInclude = Literal[
    "contentStrategy", "slots", "slots.placement", "slots.placement.contentStrategy"
]

# Literals for editors and type checkers; plain strings at runtime, so that a value Kard
# added after this version is never refused (see models/attributions.py).
if TYPE_CHECKING:
    _CadenceFrequency = CadenceFrequency
    _DayOfWeek = DayOfWeek
    _WeekOfMonth = WeekOfMonth
    _PlacementStatus = PlacementStatus
else:
    _CadenceFrequency = _DayOfWeek = _WeekOfMonth = _PlacementStatus = str

_FREQUENCIES = frozenset(("DAILY", "WEEKLY", "MONTHLY"))
_TIME_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
# ISO-8601 duration with at least one component, e.g. P7D, P1M, PT12H, P1DT6H.
_DURATION = re.compile(
    r"P(?!$)(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?"
)
MAX_SLOT_DESCRIPTION = 50
MAX_LIST_PAGE_SIZE = 200
"""Children, content strategies and placements are listed 1 to 200 at a time (default 200)."""


def _optional_text(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidParameterError(name, value, "must be a non-empty string or None")


# --- requests ---


class Cadence(_Request, frozen=True):
    """When an email or push-notification placement delivers (request and response).

    ``frequency``: ``DAILY``, ``WEEKLY`` or ``MONTHLY``. ``time_of_day``: ``"HH:mm"``, 24-hour,
    UTC. ``day_of_week`` (``MON`` to ``SUN``) for weekly deliveries (Kard's default: MON);
    ``day_of_month`` (1 to 31; months without that day deliver on their last day) for
    monthly ones (default 1). ``week_of_month`` (``FIRST`` or ``LAST``) delivers on the first
    or last ``day_of_week`` of the month instead: it needs ``frequency="MONTHLY"`` and a
    ``day_of_week``, and excludes ``day_of_month``.
    """

    frequency: _CadenceFrequency
    time_of_day: str | None = None
    day_of_week: _DayOfWeek | None = None
    day_of_month: int | None = None
    week_of_month: _WeekOfMonth | None = None

    def __post_init__(self) -> None:
        frequency = self.frequency
        if not isinstance(frequency, str) or not frequency:
            raise InvalidParameterError(
                "cadence.frequency", frequency, "must be 'DAILY', 'WEEKLY' or 'MONTHLY'"
            )
        if self.time_of_day is not None and (
            not isinstance(self.time_of_day, str) or not _TIME_OF_DAY.fullmatch(self.time_of_day)
        ):
            raise InvalidParameterError(
                "cadence.time_of_day",
                self.time_of_day,
                "must be 'HH:mm' (24-hour, UTC), e.g. '09:30'",
            )
        _optional_text("cadence.day_of_week", self.day_of_week)
        if self.day_of_month is not None:
            require_int("cadence.day_of_month", self.day_of_month, low=1, high=31)
        _optional_text("cadence.week_of_month", self.week_of_month)
        if self.week_of_month is not None:
            if self.day_of_month is not None:
                raise InvalidParameterError(
                    "cadence.week_of_month",
                    self.week_of_month,
                    "cannot be combined with day_of_month: pass one or the other",
                )
            if self.day_of_week is None:
                raise InvalidParameterError(
                    "cadence.week_of_month",
                    self.week_of_month,
                    "needs a day_of_week (the first or last such day of the month)",
                )
            if frequency in _FREQUENCIES and frequency != "MONTHLY":
                raise InvalidParameterError(
                    "cadence.week_of_month",
                    self.week_of_month,
                    f"needs frequency='MONTHLY', not {frequency!r}",
                )


class SlotSpec(_Request, frozen=True):
    """A slot of a batch-activation or group placement: another placement (``placement_id``,
    which supplies the slot's content strategy and offer cap) under an ``alias`` unique
    within the placement, with an optional ``short_description`` (at most 50 characters).

    ``slot_id`` is for ``update()`` only: echo the id of an existing slot to keep it (a new
    id is issued anyway if ``placement_id`` changes); leave it out to create a new slot.
    """

    placement_id: str
    alias: str
    short_description: str | None = None
    slot_id: str | None = None

    def __post_init__(self) -> None:
        require_id("placement_id", self.placement_id)
        require_id("alias", self.alias)
        description = self.short_description
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_SLOT_DESCRIPTION
        ):
            raise InvalidParameterError(
                "short_description",
                description,
                f"must be a string of at most {MAX_SLOT_DESCRIPTION} characters, or None",
            )
        _optional_text("slot_id", self.slot_id)


class _PlacementSpec(_Request, frozen=True):
    TYPE: ClassVar[str]

    name: str

    def _check_name(self) -> None:
        require_id("name", self.name)


def _check_slots_value(value: object) -> tuple[SlotSpec, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidParameterError("slots", value, "must be a list of SlotSpec")
    aliases: set[str] = set()
    for index, slot in enumerate(value):
        if not isinstance(slot, SlotSpec):
            raise InvalidParameterError(f"slots[{index}]", slot, "must be a SlotSpec")
        if slot.alias in aliases:
            raise InvalidParameterError(
                f"slots[{index}].alias", slot.alias, "must be unique within the placement"
            )
        aliases.add(slot.alias)
    return tuple(value)


class StandardPlacementSpec(_PlacementSpec, frozen=True):
    """A standard placement (``type`` ``placement``): up to ``available_slots`` offers
    (at least 1), chosen by the linked content strategy. ``display_name`` is the
    cardholder-facing title (omit it to let your app use its own label)."""

    TYPE: ClassVar[str] = "placement"

    available_slots: int
    display_name: str | None = None
    content_strategy_id: str | None = None

    def __post_init__(self) -> None:
        self._check_name()
        require_int("available_slots", self.available_slots, low=1)
        _optional_text("display_name", self.display_name)
        _optional_text("content_strategy_id", self.content_strategy_id)


class PushNotificationPlacementSpec(_PlacementSpec, frozen=True):
    """A push-notification placement (one offer per delivery, on ``cadence``). ``status``
    (``ACTIVE`` or ``INACTIVE``) pauses scheduled deliveries: ``ACTIVE`` when created, kept
    as is by an update that leaves it out."""

    TYPE: ClassVar[str] = "placementPushNotification"

    cadence: Cadence
    status: _PlacementStatus | None = None
    content_strategy_id: str | None = None

    def __post_init__(self) -> None:
        self._check_name()
        _check_cadence(self.cadence)
        _optional_text("status", self.status)
        _optional_text("content_strategy_id", self.content_strategy_id)


class EmailPlacementSpec(_PlacementSpec, frozen=True):
    """An email placement: up to ``available_slots`` offers (at least 1) per delivery, on
    ``cadence``. ``status`` as for push-notification placements."""

    TYPE: ClassVar[str] = "placementEmail"

    available_slots: int
    cadence: Cadence
    status: _PlacementStatus | None = None
    content_strategy_id: str | None = None

    def __post_init__(self) -> None:
        self._check_name()
        require_int("available_slots", self.available_slots, low=1)
        _check_cadence(self.cadence)
        _optional_text("status", self.status)
        _optional_text("content_strategy_id", self.content_strategy_id)


class BatchActivationPlacementSpec(_PlacementSpec, frozen=True):
    """A batch-activation placement: ``slots`` activated together, as a cohort refreshed
    every ``refresh_interval`` (an ISO-8601 duration such as ``"P7D"``)."""

    TYPE: ClassVar[str] = "placementBatchActivation"

    refresh_interval: str
    slots: tuple[SlotSpec, ...]

    def __post_init__(self) -> None:
        self._check_name()
        interval = self.refresh_interval
        if not isinstance(interval, str) or not _DURATION.fullmatch(interval):
            raise InvalidParameterError(
                "refresh_interval", interval, "must be an ISO-8601 duration, e.g. 'P7D' or 'PT12H'"
            )
        msgspec.structs.force_setattr(self, "slots", _check_slots_value(self.slots))


class GroupPlacementSpec(_PlacementSpec, frozen=True):
    """A group placement: ``slots`` shown together (like a batch-activation placement,
    without a refresh interval)."""

    TYPE: ClassVar[str] = "placementGroup"

    slots: tuple[SlotSpec, ...]

    def __post_init__(self) -> None:
        self._check_name()
        msgspec.structs.force_setattr(self, "slots", _check_slots_value(self.slots))


PlacementSpec: TypeAlias = (
    StandardPlacementSpec
    | PushNotificationPlacementSpec
    | EmailPlacementSpec
    | BatchActivationPlacementSpec
    | GroupPlacementSpec
)
_SPECS = (
    StandardPlacementSpec,
    PushNotificationPlacementSpec,
    EmailPlacementSpec,
    BatchActivationPlacementSpec,
    GroupPlacementSpec,
)


def _check_cadence(cadence: object) -> None:
    if not isinstance(cadence, Cadence):
        raise InvalidParameterError(
            "cadence", cadence, "must be a Cadence, e.g. Cadence(frequency='WEEKLY')"
        )


def check_placement_spec(spec: object, *, update: bool) -> PlacementSpec:
    """``spec`` if it is a placement spec fit for ``create`` (no slot ids) or ``update``."""
    if not isinstance(spec, _SPECS):
        raise InvalidParameterError(
            "placement",
            spec,
            "must be a StandardPlacementSpec, PushNotificationPlacementSpec, "
            "EmailPlacementSpec, BatchActivationPlacementSpec or GroupPlacementSpec",
        )
    if not update and isinstance(spec, (BatchActivationPlacementSpec, GroupPlacementSpec)):
        for index, slot in enumerate(spec.slots):
            if slot.slot_id is not None:
                raise InvalidParameterError(
                    f"slots[{index}].slot_id",
                    slot.slot_id,
                    "only update() keeps existing slots; create() makes new ones: leave it out",
                )
    return spec


class _ChildAttributes(_Request, frozen=True):
    name: str | None = None
    external_id: str | None = None
    bins: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _optional_text("name", self.name)
        _optional_text("external_id", self.external_id)
        if self.bins is not None:
            bins = self.bins
            if isinstance(bins, (str, bytes, Mapping)) or not isinstance(bins, Sequence):
                raise InvalidParameterError("bins", bins, "must be a list of BIN strings")
            for item in bins:
                if not isinstance(item, str) or not item.strip():
                    raise InvalidParameterError("bins", bins, "must be a list of BIN strings")
            msgspec.structs.force_setattr(self, "bins", tuple(bins))


class _StrategyFilters(_Request, frozen=True):
    categories: tuple[str, ...] | None = None
    category_exclusions: tuple[str, ...] | None = None
    merchant_exclusions: tuple[str, ...] | None = None
    offer_features: tuple[str, ...] | None = None


class _StrategyAttributes(_Request, frozen=True):
    name: str
    filters: _StrategyFilters
    categories: tuple[str, ...]
    category_exclusions: tuple[str, ...]
    merchant_exclusions: tuple[str, ...]
    sort: str | None = None


def _strings(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidParameterError(name, value, "must be a list of strings")
    for item in value:
        if not isinstance(item, str) or not item:
            raise InvalidParameterError(name, value, "must be a list of non-empty strings")
    return tuple(value)


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    type: str
    attributes: Any


class _One(msgspec.Struct, gc=False):
    data: _Wire


_ENCODER = msgspec.json.Encoder()


def encode_child(
    name: str | None, external_id: str | None, bins: Sequence[str] | None, *, create: bool
) -> bytes:
    """``{"data": {"type": "organization", "attributes": {...}}}`` for a child's create or
    update (an update sends only what is given)."""
    if create:
        require_id("name", name)
    elif name is None and external_id is None and bins is None:
        raise InvalidParameterError(
            "name", None, "nothing to update: pass name=, external_id= and/or bins="
        )
    attributes = _ChildAttributes(
        name=name, external_id=external_id, bins=cast("tuple[str, ...] | None", bins)
    )
    return _ENCODER.encode(_One(_Wire(type="organization", attributes=attributes)))


def encode_content_strategy(
    name: str,
    *,
    sort: str | None,
    categories: Sequence[str],
    category_exclusions: Sequence[str],
    merchant_exclusions: Sequence[str],
    offer_features: Sequence[str] | None,
) -> bytes:
    """A content strategy's full attribute set. The three lists go both at the top level and
    inside ``filters``, where the API's schema carries them too."""
    require_id("name", name)
    if sort is not None and (not isinstance(sort, str) or not sort):
        raise InvalidParameterError("sort", sort, "must be a non-empty string or None")
    included = _strings("categories", categories)
    excluded = _strings("category_exclusions", category_exclusions)
    merchants = _strings("merchant_exclusions", merchant_exclusions)
    features = None if offer_features is None else _strings("offer_features", offer_features)
    attributes = _StrategyAttributes(
        name=name,
        sort=sort,
        filters=_StrategyFilters(
            categories=included,
            category_exclusions=excluded,
            merchant_exclusions=merchants,
            offer_features=features,
        ),
        categories=included,
        category_exclusions=excluded,
        merchant_exclusions=merchants,
    )
    return _ENCODER.encode(_One(_Wire(type="contentStrategy", attributes=attributes)))


def encode_placement(spec: PlacementSpec) -> bytes:
    """``{"data": {"type": <kind>, "attributes": {...}}}``."""
    return _ENCODER.encode(_One(_Wire(type=spec.TYPE, attributes=spec)))


# --- responses: the organization and its children ---


class OrganizationAttributes(Model):
    name: str
    """Upper case, no spaces."""
    enrolled_rewards: list[str] = []
    """Programs the organization is enrolled in: ``CARDLINKED``, ``AFFILIATE``."""
    card_networks: list[str] = []
    """``VISA``, ``MASTERCARD``, ``AMERICAN_EXPRESS``, ``DISCOVER``."""
    bins: list[str] = []
    affiliate_commission_split: float | None = None
    cardlinked_commission_split: float | None = None
    cardlinked_user_commission_split: float | None = None


class Organization(Resource, tag="organization"):
    """The organization of the credentials (``kard.organizations.get()``)."""

    attributes: OrganizationAttributes

    @property
    def name(self) -> str:
        return self.attributes.name


class ChildOrganizationAttributes(Model):
    name: str
    external_id: str | None = None
    bins: list[str] = []


class ChildOrganization(Resource, tag="organization"):
    """A child organization; its ``id`` is the 8-digit number Kard issued."""

    attributes: ChildOrganizationAttributes

    @property
    def name(self) -> str:
        return self.attributes.name


class OrganizationListMeta(Model):
    page_size: int | None = None
    has_next_page: bool | None = None


class ChildOrganizationsPage(Page, kw_only=True):
    """One page of child organizations."""

    data: list[ChildOrganization]
    meta: OrganizationListMeta = msgspec.field(default_factory=OrganizationListMeta)


# --- responses: content strategies ---


class ContentStrategyFilters(Model):
    categories: list[str] | None = None
    category_exclusions: list[str] | None = None
    merchant_exclusions: list[str] | None = None
    offer_features: list[str] | None = None


class ContentStrategyAttributes(Model):
    name: str
    organization_id: str | None = None
    sort: str | None = None
    filters: ContentStrategyFilters = msgspec.field(default_factory=ContentStrategyFilters)
    categories: list[str] = []
    category_exclusions: list[str] = []
    merchant_exclusions: list[str] = []


class ContentStrategy(Resource, tag="contentStrategy"):
    """How offers are chosen for the placements linked to it."""

    attributes: ContentStrategyAttributes

    @property
    def name(self) -> str:
        return self.attributes.name


class ContentStrategiesPage(Page, kw_only=True):
    """One page of content strategies."""

    data: list[ContentStrategy]
    meta: OrganizationListMeta = msgspec.field(default_factory=OrganizationListMeta)


# --- responses: placements ---


class PlacementRelationships(Model):
    content_strategy: Relationship | None = None
    """Non-batch kinds: the linked content strategy (absent when none is linked)."""
    slots: Relationship | None = None
    """Batch-activation and group placements: their slots (``batchActivationSlot``)."""


class StandardPlacementAttributes(Model):
    name: str
    available_slots: int
    organization_id: str | None = None
    display_name: str | None = None
    content_strategy_id: str | None = None


class PushNotificationPlacementAttributes(Model):
    name: str
    cadence: Cadence
    organization_id: str | None = None
    status: str | None = None
    """``ACTIVE`` or ``INACTIVE`` (paused deliveries; content is still served)."""
    content_strategy_id: str | None = None
    created_at: datetime | None = None


class EmailPlacementAttributes(Model):
    name: str
    available_slots: int
    cadence: Cadence
    organization_id: str | None = None
    status: str | None = None
    """``ACTIVE`` or ``INACTIVE`` (paused deliveries; content is still served)."""
    content_strategy_id: str | None = None
    created_at: datetime | None = None


class BatchActivationPlacementAttributes(Model):
    name: str
    refresh_interval: str
    organization_id: str | None = None


class GroupPlacementAttributes(Model):
    name: str
    organization_id: str | None = None


class _Placement(Resource):
    """What every placement kind offers; each declares ``attributes`` and ``relationships``."""

    @property
    def content_strategy_id(self) -> str | None:
        """The linked content strategy (non-batch kinds), if any."""
        relation = self.relationships.content_strategy
        ids = relation.ids if relation is not None else []
        return ids[0] if ids else getattr(self.attributes, "content_strategy_id", None)

    @property
    def slot_ids(self) -> list[str]:
        """The slots of a batch-activation or group placement (empty for other kinds)."""
        relation = self.relationships.slots
        return relation.ids if relation is not None else []

    if TYPE_CHECKING:

        @property
        def attributes(self) -> Any: ...

        @property
        def relationships(self) -> PlacementRelationships: ...


class StandardPlacement(_Placement, tag="placement"):
    """A standard placement: offers chosen by its content strategy."""

    attributes: StandardPlacementAttributes
    relationships: PlacementRelationships = msgspec.field(default_factory=PlacementRelationships)


class PushNotificationPlacement(_Placement, tag="placementPushNotification"):
    """A push-notification placement (one offer per delivery)."""

    attributes: PushNotificationPlacementAttributes
    relationships: PlacementRelationships = msgspec.field(default_factory=PlacementRelationships)


class EmailPlacement(_Placement, tag="placementEmail"):
    """An email placement."""

    attributes: EmailPlacementAttributes
    relationships: PlacementRelationships = msgspec.field(default_factory=PlacementRelationships)


class BatchActivationPlacement(_Placement, tag="placementBatchActivation"):
    """A batch-activation placement: slots activated together, refreshed periodically."""

    attributes: BatchActivationPlacementAttributes
    relationships: PlacementRelationships = msgspec.field(default_factory=PlacementRelationships)


class GroupPlacement(_Placement, tag="placementGroup"):
    """A group placement: slots shown together."""

    attributes: GroupPlacementAttributes
    relationships: PlacementRelationships = msgspec.field(default_factory=PlacementRelationships)


Placement: TypeAlias = (
    StandardPlacement
    | PushNotificationPlacement
    | EmailPlacement
    | BatchActivationPlacement
    | GroupPlacement
)


class BatchActivationSlotAttributes(Model):
    alias: str
    short_description: str | None = None


class BatchActivationSlotRelationships(Model):
    placement: Relationship | None = None


class BatchActivationSlot(Resource, tag="batchActivationSlot"):
    """A slot of a batch-activation or group placement (in ``included``)."""

    attributes: BatchActivationSlotAttributes
    relationships: BatchActivationSlotRelationships = msgspec.field(
        default_factory=BatchActivationSlotRelationships
    )

    @property
    def alias(self) -> str:
        return self.attributes.alias

    @property
    def placement_id(self) -> str | None:
        """The placement that fills this slot (None if it was deleted)."""
        relation = self.relationships.placement
        ids = relation.ids if relation is not None else []
        return ids[0] if ids else None


Included: TypeAlias = (
    ContentStrategy
    | BatchActivationSlot
    | StandardPlacement
    | PushNotificationPlacement
    | EmailPlacement
    | BatchActivationPlacement
    | GroupPlacement
    | UnknownResource
)


def _content_strategy(included: Sequence[Any], placement: Placement) -> ContentStrategy | None:
    wanted = placement.content_strategy_id
    for item in included:
        if isinstance(item, ContentStrategy) and item.id == wanted:
            return item
    return None


def _slots(included: Sequence[Any], placement: Placement) -> list[BatchActivationSlot]:
    by_id = {item.id: item for item in included if isinstance(item, BatchActivationSlot)}
    return [by_id[slot_id] for slot_id in placement.slot_ids if slot_id in by_id]


class PlacementsPage(Page, kw_only=True):
    """One page of placements, with what ``include`` asked for in ``included``. Placements
    of a kind this version does not know are in ``unknown``."""

    data: list[
        StandardPlacement
        | PushNotificationPlacement
        | EmailPlacement
        | BatchActivationPlacement
        | GroupPlacement
    ]
    included: list[Included] = []
    meta: OrganizationListMeta = msgspec.field(default_factory=OrganizationListMeta)

    def content_strategy_of(self, placement: Placement) -> ContentStrategy | None:
        """The included content strategy of ``placement`` (``include=["contentStrategy"]``)."""
        return _content_strategy(self.included, placement)

    def slots_of(self, placement: Placement) -> list[BatchActivationSlot]:
        """The included slots of ``placement``, in order (``include=["slots"]``)."""
        return _slots(self.included, placement)


class PlacementDetail(Model, kw_only=True):
    """One placement (``data``) with what ``include`` asked for in ``included``."""

    data: Placement
    included: list[Included] = []

    def content_strategy(self) -> ContentStrategy | None:
        """The included content strategy (``include=["contentStrategy"]``)."""
        return _content_strategy(self.included, self.data)

    def slots(self) -> list[BatchActivationSlot]:
        """The included slots, in order (``include=["slots"]``)."""
        return _slots(self.included, self.data)
