"""Attributions (API reference §2): event uploads, offer activate/boost, slot activation."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

from .._constants import (
    ACTIVATION_INCLUDES,
    COMPONENT_TYPES,
    EVENT_CODES,
    MAX_ATTRIBUTION_EVENTS,
    MEDIUMS,
)
from .._jsonapi import ApiError, error_object, format_datetime
from .._records import ReceivedEvent
from .._resources import offer_resource, seed_offer, seed_placement
from .._routing import Call, Document, route
from .._seed import slot_offer_ids

_USER = "/v2/issuers/{org}/users/{user}"


@route("POST", f"{_USER}/attributions", status=201)
def create_attributions(call: Call) -> Document:
    events = _validate_attributions(call.json())
    job_id = str(uuid.uuid4())
    # Kept as the raw body, decoded only if a test reads the events (cheap for benchmarks).
    call.emulator._record_attribution_body(
        call.organization_id, call.user_id, job_id, call.body, len(events)
    )
    job = {
        "type": "job",
        "id": job_id,
        "attributes": {
            "status": "queued",
            "message": "Attribution events are queued for processing",
        },
    }
    return {"data": job}


@route("POST", f"{_USER}/offers/{{offer}}/activate")
def activate_offer(call: Call) -> Document:
    return _offer_event(call, "ACTIVATE", source="activate")


@route("POST", f"{_USER}/offers/{{offer}}/boost")
def boost_offer(call: Call) -> Document:
    return _offer_event(call, "BOOST", source="boost")


def _offer_event(call: Call, code: str, source: str) -> Document:
    include = call.params.csv("include", ACTIVATION_INCLUDES)
    wanted = call.params.csv("supportedComponents", COMPONENT_TYPES)
    offer = seed_offer(call.path["offer"])
    attribution_id = str(uuid.uuid4())
    attributes = {
        "entityId": offer.id,
        "eventCode": code,
        "medium": "CTA",
        "eventDate": format_datetime(datetime.now(timezone.utc)),
    }
    call.emulator._record_events(
        [
            ReceivedEvent(
                call.organization_id,
                call.user_id,
                attribution_id,
                source,
                "offerAttribution",
                dict(attributes),
            )
        ]
    )
    document: Document = {
        "data": {"type": "offerAttribution", "id": attribution_id, "attributes": attributes}
    }
    if include:
        document["included"] = [offer_resource(offer, wanted, call.user_path)]
    return document


@route("POST", f"{_USER}/placements/{{placement}}/slot/{{slot}}/activate")
def activate_placement_slot(call: Call) -> Document:
    placement = seed_placement(call.path["placement"])
    if placement.kind != "batch":
        raise ApiError(400, f"placement {placement.id!r} is not a batch-activation placement")
    slot_id = call.path["slot"]
    slot = next((slot for slot in placement.slots if slot.id == slot_id), None)
    if slot is None:
        raise ApiError(404, f"slot {slot_id!r} does not exist in placement {placement.id!r}")
    when = datetime.now(timezone.utc)
    attribution_id = str(uuid.uuid4())
    offer_ids = list(slot_offer_ids(slot))
    state = {"placementId": placement.id, "slotId": slot.id}
    base = {"eventCode": "ACTIVATE", "medium": "CTA", "eventDate": format_datetime(when)}

    def event(kind: str, entity_id: str) -> ReceivedEvent:
        attributes = {"entityId": entity_id, **base, "state": dict(state)}
        return ReceivedEvent(
            call.organization_id, call.user_id, attribution_id, "placement_slot", kind, attributes
        )

    events = [event("placementSlotAttribution", slot.id)]
    events.extend(event("offerAttribution", offer_id) for offer_id in offer_ids)
    call.emulator._activate_slot((call.organization_id, call.user_id, placement.id), slot.id, when)
    call.emulator._record_events(events)
    return {
        "data": {
            "type": "placementSlotAttribution",
            "id": attribution_id,
            "attributes": {
                "placementId": placement.id,
                "slotId": slot.id,
                **base,
                "offerIds": offer_ids,
            },
        }
    }


# --------------------------------------------------------------------------- validation

# ISO-8601 date-time that must carry a timezone ("Z" or an offset).
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?"
    r"(?:[Zz]|[+-](\d{2}):?(\d{2}))"
)
_TYPES = tuple(MEDIUMS)


def _valid_date_time(value: str) -> bool:
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, off_h, off_m = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return False
    return off_h is None or (int(off_h) <= 23 and int(off_m) <= 59)


def _allowed(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def _validate_state(state: Any, pointer: str, errors: list[dict[str, Any]]) -> None:
    def fail(where: str, detail: str) -> None:
        errors.append(error_object(400, detail, pointer=f"{pointer}{where}"))

    if not isinstance(state, dict):
        fail("", f"state must be an object, got {state!r}")
        return
    rank = state.get("rank")
    if rank is not None and (type(rank) is not int or rank < 1):
        fail("/rank", f"state.rank must be an integer >= 1, got {rank!r}")
    for key in ("placementId", "slotId"):
        value = state.get(key)
        if value is not None and not isinstance(value, str):
            fail(f"/{key}", f"state.{key} must be a string, got {value!r}")
    filters = state.get("filters")
    if filters is None:
        return
    if not isinstance(filters, list):
        fail("/filters", f"state.filters must be an array, got {filters!r}")
        return
    for index, item in enumerate(filters):
        if not isinstance(item, dict):
            fail(f"/filters/{index}", f"state.filters[{index}] must be an object, got {item!r}")
            continue
        for key in ("name", "value"):
            value = item.get(key)
            if not isinstance(value, str):
                fail(
                    f"/filters/{index}/{key}",
                    f"state.filters[{index}].{key} is required and must be a string, got {value!r}",
                )


def _validate_event(index: int, event: Any, errors: list[dict[str, Any]]) -> None:
    base = f"/data/{index}"

    def fail(where: str, detail: str) -> None:
        errors.append(error_object(400, detail, pointer=f"{base}{where}"))

    if not isinstance(event, dict):
        fail("", f"data[{index}] must be an object, got {event!r}")
        return
    kind = event.get("type")
    if kind not in MEDIUMS:
        fail("/type", f"type {kind!r} is not allowed; allowed values: {_allowed(_TYPES)}")
    attributes = event.get("attributes")
    if not isinstance(attributes, dict):
        fail("/attributes", f"attributes is required and must be an object, got {attributes!r}")
        return
    entity_id = attributes.get("entityId")
    if not isinstance(entity_id, str) or not entity_id:
        fail("/attributes/entityId", f"entityId must be a non-empty string, got {entity_id!r}")
    code = attributes.get("eventCode")
    if code not in EVENT_CODES:
        fail(
            "/attributes/eventCode",
            f"eventCode {code!r} is not allowed; allowed values: {_allowed(EVENT_CODES)}",
        )
    medium = attributes.get("medium")
    if isinstance(kind, str) and kind in MEDIUMS and medium not in MEDIUMS[kind]:
        fail(
            "/attributes/medium",
            f"medium {medium!r} is not allowed for {kind}; allowed values: "
            f"{_allowed(MEDIUMS[kind])}",
        )
    date = attributes.get("eventDate")
    if not isinstance(date, str) or not _valid_date_time(date):
        fail(
            "/attributes/eventDate",
            f"eventDate {date!r} is not an ISO-8601 date-time with a timezone "
            "(e.g. 2025-01-01T00:00:00Z)",
        )
    if "state" in attributes and attributes["state"] is not None:
        _validate_state(attributes["state"], f"{base}/attributes/state", errors)


def _validate_attributions(body: Any) -> list[dict[str, Any]]:
    """Return the events of a valid body; raise ``ApiError`` listing every problem otherwise."""
    if not isinstance(body, dict) or "data" not in body:
        raise ApiError(400, "request body must be an object with a 'data' array", pointer="/data")
    data = body["data"]
    if not isinstance(data, list):
        raise ApiError(400, f"data must be an array of events, got {data!r}", pointer="/data")
    if not data:
        raise ApiError(400, "data must contain at least one event", pointer="/data")
    if len(data) > MAX_ATTRIBUTION_EVENTS:
        raise ApiError(
            400,
            f"data contains {len(data)} events; at most {MAX_ATTRIBUTION_EVENTS} are allowed "
            "per request",
            pointer="/data",
        )
    errors: list[dict[str, Any]] = []
    for index, event in enumerate(data):
        _validate_event(index, event, errors)
    if errors:
        raise ApiError(400, errors=errors)
    return data
