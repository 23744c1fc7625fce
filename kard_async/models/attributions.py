"""Attribution events (requests) and the write responses (API reference §2).

Events are immutable and validated when built, so a bad event fails at the line that made
it: an empty ``entity_id``, a ``medium`` known to be wrong for the event type (a
notification seen in ``SEARCH``), or a naive ``event_date`` each raise
:class:`~kard_async.InvalidParameterError`. Enum values this version has never heard of
are passed through: Kard adds them often.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from operator import countOf
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union

import msgspec

from .._errors import InvalidParameterError
from .._validate import require_aware, require_id
from ._base import Model, UnknownResource
from .common import Category
from .rewards import Offer

__all__ = [
    "ActivationAttributes",
    "ActivationInclude",
    "AttributionEvent",
    "AttributionFilter",
    "AttributionState",
    "EventCode",
    "NotificationAttribution",
    "NotificationMedium",
    "OfferActivation",
    "OfferActivationData",
    "OfferAttribution",
    "OfferMedium",
    "PlacementSlotActivation",
    "PlacementSlotActivationAttributes",
    "PlacementSlotActivationData",
    "PlacementSlotAttribution",
    "PlacementSlotMedium",
    "as_event",
    "event_from_wire",
]

EventCode = Literal["IMPRESSION", "VIEW", "ACTIVATE", "BOOST"]
OfferMedium = Literal["BROWSE", "EMAIL", "MAP", "SEARCH", "CTA", "PUSH"]
NotificationMedium = Literal["PUSH", "EMAIL"]
PlacementSlotMedium = Literal["CTA"]
ActivationInclude = Literal["offer"]

# Fields are typed with the Literals for editors and type checkers, and as plain strings at
# runtime, so that decoding a wire mapping never refuses a value Kard added after this
# version (the checks that matter are in the events' __post_init__).
if TYPE_CHECKING:
    _EventCode = EventCode
    _OfferMedium = OfferMedium
    _NotificationMedium = NotificationMedium
    _PlacementSlotMedium = PlacementSlotMedium
else:
    _EventCode = _OfferMedium = _NotificationMedium = _PlacementSlotMedium = str

EVENT_CODES: tuple[str, ...] = ("IMPRESSION", "VIEW", "ACTIVATE", "BOOST")
KNOWN_MEDIUMS: frozenset[str] = frozenset(("BROWSE", "EMAIL", "MAP", "SEARCH", "CTA", "PUSH"))


def check_medium(kind: str, allowed: tuple[str, ...], medium: object) -> None:
    """Refuse a medium known to be wrong for the event type; pass values never heard of."""
    if not isinstance(medium, str) or not medium:
        raise InvalidParameterError("medium", medium, "must be a non-empty string")
    if medium in KNOWN_MEDIUMS and medium not in allowed:
        raise InvalidParameterError(
            "medium", medium, f"{kind} events allow " + ", ".join(repr(m) for m in allowed)
        )


class _Request(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False
):
    pass


class AttributionFilter(_Request, frozen=True):
    """A filter that was active when the user saw the offer."""

    name: str
    value: str


class AttributionState(_Request, frozen=True):
    """Where the event happened: 1-based ``rank`` in the list, active filters, placement/slot."""

    rank: int | None = None
    filters: tuple[AttributionFilter, ...] | None = None
    placement_id: str | None = None
    slot_id: str | None = None

    def __post_init__(self) -> None:
        if self.rank is not None and (
            isinstance(self.rank, bool) or not isinstance(self.rank, int) or self.rank < 1
        ):
            raise InvalidParameterError("state.rank", self.rank, "must be an integer >= 1")


class _Event(_Request, frozen=True):
    TYPE: ClassVar[str]
    MEDIUMS: ClassVar[tuple[str, ...]]

    def _check(self, entity_id: str, event_code: str, medium: str, event_date: datetime) -> None:
        require_id("entity_id", entity_id)
        if not isinstance(event_code, str) or not event_code:
            raise InvalidParameterError("event_code", event_code, "must be a non-empty string")
        check_medium(self.TYPE, self.MEDIUMS, medium)
        require_aware("event_date", event_date)


class OfferAttribution(_Event, frozen=True):
    """A user saw or acted on an offer (``entity_id`` is the offer id)."""

    TYPE: ClassVar[str] = "offerAttribution"
    MEDIUMS: ClassVar[tuple[str, ...]] = ("BROWSE", "EMAIL", "MAP", "SEARCH", "CTA", "PUSH")

    entity_id: str
    event_code: _EventCode
    medium: _OfferMedium
    event_date: datetime
    state: AttributionState | None = None

    def __post_init__(self) -> None:
        self._check(self.entity_id, self.event_code, self.medium, self.event_date)


class NotificationAttribution(_Event, frozen=True):
    """A user saw or opened a notification (``entity_id`` is the notification id)."""

    TYPE: ClassVar[str] = "notificationAttribution"
    MEDIUMS: ClassVar[tuple[str, ...]] = ("PUSH", "EMAIL")

    entity_id: str
    event_code: _EventCode
    medium: _NotificationMedium
    event_date: datetime
    state: AttributionState | None = None

    def __post_init__(self) -> None:
        self._check(self.entity_id, self.event_code, self.medium, self.event_date)


class PlacementSlotAttribution(_Event, frozen=True):
    """A slot-level event on a batch-activation placement (``entity_id`` is the slot id)."""

    TYPE: ClassVar[str] = "placementSlotAttribution"
    MEDIUMS: ClassVar[tuple[str, ...]] = ("CTA",)

    entity_id: str
    event_code: _EventCode
    medium: _PlacementSlotMedium
    event_date: datetime
    state: AttributionState | None = None

    def __post_init__(self) -> None:
        self._check(self.entity_id, self.event_code, self.medium, self.event_date)


AttributionEvent = Union[OfferAttribution, NotificationAttribution, PlacementSlotAttribution]  # noqa: UP007
EVENT_CLASSES: dict[str, type[AttributionEvent]] = {
    cls.TYPE: cls for cls in (OfferAttribution, NotificationAttribution, PlacementSlotAttribution)
}


def as_event(obj: object) -> AttributionEvent:
    """``obj`` itself if it is an attribution event, else the event its wire mapping describes."""
    if isinstance(obj, (OfferAttribution, NotificationAttribution, PlacementSlotAttribution)):
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            "event",
            obj,
            "must be an OfferAttribution, NotificationAttribution, "
            "PlacementSlotAttribution or a mapping in the API's wire format",
        )
    return event_from_wire(obj)


def event_from_wire(obj: Mapping[str, Any]) -> AttributionEvent:
    """Build an event from its wire form: ``{"type": ..., "attributes": {...}}``, or the same
    with the attributes at the top level (camelCase names, as in the API)."""
    if not isinstance(obj, Mapping):
        raise InvalidParameterError("event", obj, "must be an attribution event or a mapping")
    kind = obj.get("type")
    cls = EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidParameterError(
            "type", kind, "allowed values are " + ", ".join(repr(t) for t in EVENT_CLASSES)
        )
    attributes = obj.get("attributes")
    if attributes is None:
        attributes = {k: v for k, v in obj.items() if k not in ("type", "userId", "id")}
    if isinstance(attributes, Mapping) and "medium" in attributes:
        check_medium(cls.TYPE, cls.MEDIUMS, attributes["medium"])  # names the allowed ones
    try:
        return msgspec.convert(attributes, cls)
    except msgspec.ValidationError as error:
        cause = error.__cause__
        if isinstance(cause, InvalidParameterError):
            raise cause from None
        message, _, where = str(error).partition(" - at `$")
        field = where.rstrip("`").lstrip(".") or "attributes"
        value = attributes.get(field.split(".")[0]) if isinstance(attributes, Mapping) else None
        raise InvalidParameterError(field, value, message) from None


class _WireEvent(msgspec.Struct, gc=False):
    type: str
    attributes: Any


class _WireBody(msgspec.Struct, gc=False):
    data: list[_WireEvent]


_ENCODER = msgspec.json.Encoder()


def encode_events(events: list[AttributionEvent]) -> bytes:
    """``{"data": [{"type": ..., "attributes": <event>}, ...]}``, the body of a write."""
    kind = type(events[0]) if events else None
    if kind is not None and countOf(map(type, events), kind) == len(events):
        # Events of one type (nearly always): each event's JSON on a line of its own, then
        # every line break (JSON has none anywhere else) becomes the wrapper between two
        # events. Half the cost of building a wrapper object per event.
        head = b'{"type":' + _ENCODER.encode(kind.TYPE) + b',"attributes":'
        lines = _ENCODER.encode_lines(events).replace(b"\n", b"}," + head, len(events) - 1)
        return b"".join((b'{"data":[', head, memoryview(lines)[:-1], b"}]}"))
    return _ENCODER.encode(_WireBody([_WireEvent(event.TYPE, event) for event in events]))


# --- responses ---


class ActivationAttributes(Model):
    entity_id: str
    event_code: str
    medium: str
    event_date: datetime | None = None


class OfferActivationData(Model):
    type: str
    id: str
    attributes: ActivationAttributes


class OfferActivation(Model, kw_only=True):
    """The attribution event the server wrote (ACTIVATE or BOOST), and the offer if included."""

    data: OfferActivationData
    included: list[Offer | Category | UnknownResource] = []


class PlacementSlotActivationAttributes(Model):
    placement_id: str
    slot_id: str
    event_code: str
    medium: str
    event_date: datetime | None = None
    offer_ids: list[str] = []


class PlacementSlotActivationData(Model):
    type: str
    id: str
    attributes: PlacementSlotActivationAttributes


class PlacementSlotActivation(Model):
    """The slot-level event written, and the ids of the offers it activated."""

    data: PlacementSlotActivationData
