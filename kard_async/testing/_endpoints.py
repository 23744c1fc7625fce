"""Endpoint implementations: each takes the emulator and a parsed call, returns a reply."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

import msgspec

from ._attributions import validate_attributions
from ._constants import COMPONENT_TYPES
from ._emulator import CachedBody, KardEmulator
from ._extras import with_extras
from ._jsonapi import ApiError, Params, format_datetime
from ._records import ReceivedEvent, TokenRequest
from ._rewards import (
    locations_body,
    offer_resource,
    offers_body,
    placement_body,
    slot_state,
)
from ._seed import OFFERS_BY_ID, PLACEMENTS, SeedPlacement, slot_offer_ids

_encode = msgspec.json.Encoder().encode


@dataclass
class Call:
    """One routed request: raw pieces plus the decoded path parameters."""

    method: str
    headers: Mapping[str, str]
    body: bytes
    raw_path: str
    raw_query: str
    query: list[tuple[str, str]]
    path_params: dict[str, str]
    extras: bool
    organization_id: str = ""

    @property
    def user_path(self) -> str:
        """``/v2/issuers/{org}/users/{user}`` exactly as the client encoded it."""
        return "/".join(self.raw_path.split("/")[:6])

    @property
    def user_id(self) -> str:
        return self.path_params["user"]


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] | None = None


def _body(call: Call, document: dict[str, Any]) -> bytes:
    return _encode(with_extras(document) if call.extras else document)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- auth


def _basic_credentials(header: str | None) -> tuple[str, str]:
    if header is None:
        raise ApiError(400, "Authorization header is missing", header="Authorization")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(
            400, "Authorization header must use the Basic scheme", header="Authorization"
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400, "Authorization header is not valid Basic credentials", header="Authorization"
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ApiError(
            400, "Basic credentials must be 'client_id:client_secret'", header="Authorization"
        )
    return client_id, secret


def _json_credentials(body: bytes) -> tuple[str, str]:
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise ApiError(400, "request body must be JSON {client_id, client_secret}") from None
    if not isinstance(document, dict):
        raise ApiError(400, "request body must be a JSON object", pointer="")
    values = []
    for key in ("client_id", "client_secret"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"{key} is required and must be a string", pointer=f"/{key}")
        values.append(value)
    return values[0], values[1]


def token(emulator: KardEmulator, call: Call) -> Reply:
    target = call.headers.get("X-Kard-Target-Issuer") or None
    content_type = call.headers.get("Content-Type", "")
    authorization = call.headers.get("Authorization")
    basic = authorization is not None or content_type.startswith(
        "application/x-www-form-urlencoded"
    )
    style = "basic" if basic else "json"
    succeeded = False
    try:
        if basic:
            client_id, secret = _basic_credentials(authorization)
            form = parse_qs(call.body.decode("utf-8", "replace"))
            grant = form.get("grant_type", [None])[0]
            if grant != "client_credentials":
                raise ApiError(
                    400,
                    f"grant_type must be 'client_credentials', got {grant!r}",
                    parameter="grant_type",
                )
        else:
            client_id, secret = _json_credentials(call.body)
        if (client_id, secret) != (emulator.client_id, emulator.client_secret):
            raise ApiError(401, "invalid client credentials")
        access_token, expires_in = emulator._issue_token(target or emulator.organization_id)
        succeeded = True
    finally:
        emulator._record_token_request(TokenRequest(style, target, succeeded))
    document = {"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"}
    return Reply(200, _body(call, document))


# --------------------------------------------------------------------------- writes


def attributions(emulator: KardEmulator, call: Call) -> Reply:
    try:
        document = msgspec.json.decode(call.body)
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    events = validate_attributions(document)
    job_id = str(uuid.uuid4())
    emulator._record_attribution_body(
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
    return Reply(201, _body(call, {"data": job}))


def offer_event(emulator: KardEmulator, call: Call, code: str) -> Reply:
    """Activate (``code="ACTIVATE"``) or boost (``code="BOOST"``) one offer."""
    params = Params(call.query)
    include = params.csv("include", ("offer",))
    wanted = params.csv("supportedComponents", COMPONENT_TYPES)
    offer = OFFERS_BY_ID.get(call.path_params["offer"])
    if offer is None:
        raise ApiError(404, f"offer {call.path_params['offer']!r} does not exist")
    attribution_id = str(uuid.uuid4())
    attributes = {
        "entityId": offer.id,
        "eventCode": code,
        "medium": "CTA",
        "eventDate": format_datetime(_now()),
    }
    emulator._record_events(
        [
            ReceivedEvent(
                call.organization_id,
                call.user_id,
                attribution_id,
                "activate" if code == "ACTIVATE" else "boost",
                "offerAttribution",
                dict(attributes),
            )
        ]
    )
    document: dict[str, Any] = {
        "data": {"type": "offerAttribution", "id": attribution_id, "attributes": attributes}
    }
    if include:
        document["included"] = [offer_resource(offer, wanted, call.user_path)]
    return Reply(200, _body(call, document))


def _placement(call: Call) -> SeedPlacement:
    placement = PLACEMENTS.get(call.path_params["placement"])
    if placement is None:
        raise ApiError(404, f"placement {call.path_params['placement']!r} does not exist")
    return placement


def slot_activate(emulator: KardEmulator, call: Call) -> Reply:
    placement = _placement(call)
    if placement.kind != "batch":
        raise ApiError(400, f"placement {placement.id!r} is not a batch-activation placement")
    slot_id = call.path_params["slot"]
    slot = next((slot for slot in placement.slots if slot.id == slot_id), None)
    if slot is None:
        raise ApiError(404, f"slot {slot_id!r} does not exist in placement {placement.id!r}")
    when = _now()
    event_date = format_datetime(when)
    attribution_id = str(uuid.uuid4())
    offer_ids = list(slot_offer_ids(slot))
    state = {"placementId": placement.id, "slotId": slot.id}
    base = {"eventCode": "ACTIVATE", "medium": "CTA", "eventDate": event_date}
    events = [
        ReceivedEvent(
            call.organization_id,
            call.user_id,
            attribution_id,
            "placement_slot",
            "placementSlotAttribution",
            {"entityId": slot.id, **base, "state": dict(state)},
        )
    ]
    events.extend(
        ReceivedEvent(
            call.organization_id,
            call.user_id,
            attribution_id,
            "placement_slot",
            "offerAttribution",
            {"entityId": offer_id, **base, "state": dict(state)},
        )
        for offer_id in offer_ids
    )
    emulator._activate_slot((call.organization_id, call.user_id, placement.id), slot.id, when)
    emulator._record_events(events)
    document = {
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
    return Reply(200, _body(call, document))


# --------------------------------------------------------------------------- reads


# Cached bodies are built for a placeholder user path (it only appears in links and CTA
# URLs), so one cache entry serves every organization and user.
_USER_PATH_MARK = "~~kard-emulator-user-path~~"
_USER_PATH_MARK_BYTES = _USER_PATH_MARK.encode()


def _cached_read(
    emulator: KardEmulator, call: Call, key: tuple[object, ...], build: Callable[[str], Any]
) -> Reply:
    def encode() -> CachedBody:
        body = _body(call, build(_USER_PATH_MARK))
        return CachedBody(tuple(body.split(_USER_PATH_MARK_BYTES)))

    entry = emulator._cached((*key, call.raw_query, call.extras), encode)
    return Reply(200, entry.render(_encode(call.user_path)[1:-1]))


def offers(emulator: KardEmulator, call: Call) -> Reply:
    return _cached_read(
        emulator, call, ("offers",), lambda path: offers_body(path, Params(call.query))
    )


def locations(emulator: KardEmulator, call: Call) -> Reply:
    return _cached_read(
        emulator, call, ("locations",), lambda path: locations_body(path, Params(call.query))
    )


def placement_content(emulator: KardEmulator, call: Call) -> Reply:
    placement = _placement(call)
    activations: dict[str, datetime] = {}
    now = _now()
    state: tuple[object, ...] = ()
    if placement.kind == "batch":
        activations = emulator._slot_activations((call.organization_id, call.user_id, placement.id))
        state = tuple(
            (slot.id, activations[slot.id], slot_state(placement, slot, activations[slot.id], now))
            for slot in placement.slots
            if slot.id in activations
        )
    return _cached_read(
        emulator,
        call,
        ("placement", placement.id, state),
        lambda path: placement_body(path, placement, Params(call.query), activations, now),
    )
