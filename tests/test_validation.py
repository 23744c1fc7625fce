"""Bad input is rejected before anything is sent, with a message naming parameter, value and
what is allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from kard_async import APIStatusError, AsyncKard, InvalidParameterError, KardError
from kard_async.models import (
    AttributionState,
    NotificationAttribution,
    OfferAttribution,
    PlacementSlotAttribution,
)
from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, EmulatorServer, KardEmulator

USER = "user-1"
WHEN = datetime(2025, 1, 1, tzinfo=timezone.utc)


def event(**overrides: Any) -> dict[str, Any]:
    attributes = {
        "entityId": "offer-1",
        "eventCode": "VIEW",
        "medium": "BROWSE",
        "eventDate": "2025-01-01T00:00:00Z",
    }
    attributes.update(overrides)
    return {"type": "offerAttribution", "attributes": attributes}


async def rejected(
    emulator: KardEmulator,
    call: Callable[[], Awaitable[object]],
    parameter: str,
    *fragments: str,
) -> InvalidParameterError:
    """Make and await ``call()``; assert it raised InvalidParameterError naming ``parameter``
    and nothing reached the server (not even a token request)."""
    with pytest.raises(InvalidParameterError) as caught:
        await call()
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, KardError)
    assert error.parameter == parameter
    message = str(error)
    assert parameter in message
    for fragment in fragments:
        assert fragment in message, message
    assert emulator.requests == []
    assert emulator.token_requests == []
    return error


# --------------------------------------------------------------------------- locations


async def test_latitude_without_longitude(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    error = await rejected(
        kard_emulator,
        lambda: kard.users.rewards.locations(USER, latitude=39.9),
        "longitude",
        "latitude",
    )
    assert error.value is None


async def test_longitude_without_latitude(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.rewards.locations(USER, longitude=-75.1),
        "latitude",
        "longitude",
    )


@pytest.mark.parametrize(("name", "value"), [("latitude", 91.0), ("longitude", -180.5)])
async def test_coordinates_out_of_range(
    kard: AsyncKard, kard_emulator: KardEmulator, name: str, value: float
) -> None:
    coords: dict[str, Any] = {"latitude": 10.0, "longitude": 10.0, name: value}
    error = await rejected(
        kard_emulator, lambda: kard.users.rewards.locations(USER, **coords), name, repr(value)
    )
    assert error.value == value


@pytest.mark.parametrize("radius", [0, -5])
async def test_radius_below_one(kard: AsyncKard, kard_emulator: KardEmulator, radius: int) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.rewards.locations(USER, latitude=1.0, longitude=1.0, radius=radius),
        "radius",
        f"radius={radius}",
        "at least 1",
    )


async def test_radius_without_coordinates(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.rewards.locations(USER, radius=5),
        "radius",
        "radius=5",
        "latitude and longitude",
    )


# Enums are open: a value this version has never heard of goes to the server as given
# (the emulator, like Kard, knows its own values and answers 400).
@pytest.mark.parametrize(
    ("make_call", "sent"),
    [
        (lambda k: k.users.rewards.locations(USER, state="XX"), "filter[state]=XX"),
        (lambda k: k.users.rewards.locations(USER, category="Crypto"), "filter[category]=Crypto"),
        (lambda k: k.users.rewards.offers(USER, category="Crypto"), "filter[category]=Crypto"),
        (
            lambda k: k.users.rewards.locations(USER, sort=["locationName", "rank"]),
            "sort=locationName,rank",
        ),
        (lambda k: k.users.rewards.offers(USER, sort="-popularity"), "sort=-popularity"),
        (lambda k: k.users.rewards.locations(USER, include=["deals"]), "include=deals"),
        (
            lambda k: k.users.rewards.offers(USER, supported_components="cta,banner"),
            "supportedComponents=cta,banner",
        ),
        (
            lambda k: k.users.rewards.placement_content(USER, "p", supported_components=["banner"]),
            "supportedComponents=banner",
        ),
        (
            lambda k: k.users.attributions.activate(USER, "o", include=["merchant"]),
            "include=merchant",
        ),
        (
            lambda k: k.users.rewards.offers(USER, purchase_channel=["INSTORE", "CRYPTO"]),
            "filter[purchaseChannel]=INSTORE,CRYPTO",
        ),
    ],
)
async def test_unknown_enum_values_are_sent_as_given(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    make_call: Callable[[AsyncKard], Awaitable[object]],
    sent: str,
) -> None:
    with pytest.raises(APIStatusError):
        await make_call(kard)
    (request,) = [r for r in kard_emulator.requests if "/auth/" not in r.path]
    assert sent in request.query_string


@pytest.mark.parametrize(
    ("make_call", "parameter"),
    [
        (lambda k: k.users.rewards.locations(USER, state=5), "state"),
        (lambda k: k.users.rewards.offers(USER, category=b"Gas"), "category"),
        (lambda k: k.users.rewards.locations(USER, sort=["locationName", 3]), "sort"),
        (lambda k: k.users.rewards.offers(USER, include=[]), "include"),
        (lambda k: k.users.attributions.boost(USER, "o", include=[]), "include"),
        (
            lambda k: k.users.rewards.offers(USER, supported_components=[None]),
            "supported_components",
        ),
        (lambda k: k.users.rewards.offers(USER, purchase_channel=""), "purchase_channel"),
    ],
)
async def test_enum_values_must_still_be_strings(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    make_call: Callable[[AsyncKard], Awaitable[object]],
    parameter: str,
) -> None:
    await rejected(kard_emulator, lambda: make_call(kard), parameter)


async def test_bad_is_targeted(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.rewards.offers(USER, is_targeted="yes"),  # type: ignore[arg-type]
        "is_targeted",
        "'yes'",
        "True or False",
    )


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize("method", ["locations", "offers"])
async def test_page_size_zero(kard: AsyncKard, kard_emulator: KardEmulator, method: str) -> None:
    await rejected(
        kard_emulator,
        lambda: getattr(kard.users.rewards, method)(USER, page_size=0),
        "page_size",
        "page_size=0",
        "at least 1",
    )


@pytest.mark.parametrize("method", ["locations", "offers"])
async def test_list_arguments_are_checked_at_call_time(
    kard: AsyncKard, kard_emulator: KardEmulator, method: str
) -> None:
    # A list call checks its arguments when called, before it is awaited or iterated.
    with pytest.raises(InvalidParameterError) as caught:
        getattr(kard.users.rewards, method)(USER, page_size=0)
    assert caught.value.parameter == "page_size"
    assert kard_emulator.requests == []


@pytest.mark.parametrize("method", ["locations", "offers"])
async def test_after_and_before_together(
    kard: AsyncKard, kard_emulator: KardEmulator, method: str
) -> None:
    await rejected(
        kard_emulator,
        lambda: getattr(kard.users.rewards, method)(USER, after="a", before="b"),
        "before",
        "after=",
    )


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize("user", ["", "   "])
@pytest.mark.parametrize(
    "make_call",
    [
        lambda k, u: k.users.rewards.locations(u),
        lambda k, u: k.users.rewards.offers(u),
        lambda k, u: k.users.rewards.placement_content(u, "placement-1"),
        lambda k, u: k.users.attributions.activate(u, "offer"),
        lambda k, u: k.users.attributions.boost(u, "offer"),
        lambda k, u: k.users.attributions.activate_placement_slot(u, "p", "s"),
        lambda k, u: k.users.attributions.create(u, [event()]),
    ],
)
async def test_empty_user_id(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    make_call: Callable[[AsyncKard, str], Awaitable[object]],
    user: str,
) -> None:
    await rejected(kard_emulator, lambda: make_call(kard, user), "user_id", repr(user), "non-empty")


async def test_empty_other_ids(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    a = kard.users.attributions
    await rejected(
        kard_emulator, lambda: kard.users.rewards.placement_content(USER, ""), "placement_id"
    )
    await rejected(kard_emulator, lambda: a.activate(USER, ""), "offer_id", "''")
    await rejected(kard_emulator, lambda: a.boost(USER, " "), "offer_id", "' '")
    await rejected(
        kard_emulator, lambda: a.activate_placement_slot(USER, "", "slot-1"), "placement_id"
    )
    await rejected(kard_emulator, lambda: a.activate_placement_slot(USER, "p", ""), "slot_id")
    await rejected(kard_emulator, lambda: a.activate_placement_slot(USER, "p", None), "slot_id")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("count", [0, 101])
async def test_event_count_limits(kard: AsyncKard, kard_emulator: KardEmulator, count: int) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.attributions.create(USER, [event()] * count),
        "events",
        f"{count} events",
        "1 to 100",
        "bulk_create",
    )


async def test_events_must_be_a_list(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(kard_emulator, lambda: kard.users.attributions.create(USER, event()), "events")  # type: ignore[arg-type]


def test_naive_datetime_on_construction() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        OfferAttribution(
            entity_id="o", event_code="VIEW", medium="BROWSE", event_date=datetime(2025, 1, 1)
        )
    assert caught.value.parameter == "event_date"
    assert isinstance(caught.value, ValueError)
    assert "timezone-aware" in str(caught.value)
    assert "2025" in str(caught.value)


async def test_naive_datetime_in_wire_event(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.attributions.create(
            USER, [event(), event(eventDate="2025-01-01T00:00:00")]
        ),
        "events[1].event_date",
        "timezone-aware",
    )


@pytest.mark.parametrize(
    ("build", "medium", "allowed"),
    [
        (NotificationAttribution, "BROWSE", "'PUSH', 'EMAIL'"),
        (PlacementSlotAttribution, "PUSH", "'CTA'"),
        (OfferAttribution, "", "non-empty"),
    ],
)
def test_wrong_medium_for_event_type(build: Any, medium: str, allowed: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        build(entity_id="x", event_code="VIEW", medium=medium, event_date=WHEN)
    assert caught.value.parameter == "medium"
    assert f"'{medium}'" in str(caught.value)
    assert allowed in str(caught.value)


@pytest.mark.parametrize("build", [OfferAttribution, NotificationAttribution])
def test_mediums_and_event_codes_never_heard_of_pass(build: Any) -> None:
    event = build(entity_id="x", event_code="SHARE", medium="SMS", event_date=WHEN)
    assert (event.event_code, event.medium) == ("SHARE", "SMS")


async def test_wrong_medium_in_wire_event(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    bad = {
        "type": "notificationAttribution",
        "entityId": "n",
        "eventCode": "VIEW",
        "medium": "MAP",
        "eventDate": "2025-01-01T00:00:00Z",
    }
    await rejected(
        kard_emulator,
        lambda: kard.users.attributions.create(USER, [event(), bad]),
        "events[1].medium",
        "'MAP'",
        "'PUSH', 'EMAIL'",
    )


async def test_unknown_event_code_is_sent(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        OfferAttribution(entity_id="o", event_code="", medium="BROWSE", event_date=WHEN)
    assert caught.value.parameter == "event_code"
    # A code this version does not know goes to the server, which decides (here: 400).
    with pytest.raises(APIStatusError):
        await kard.users.attributions.create(USER, [event(eventCode="CLICK")])
    (request,) = [r for r in kard_emulator.requests if "/auth/" not in r.path]
    assert b'"eventCode":"CLICK"' in request.body


async def test_unknown_event_type_and_missing_fields(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await rejected(
        kard_emulator,
        lambda: kard.users.attributions.create(
            USER, [{"type": "clickAttribution", "attributes": {}}]
        ),
        "events[0].type",
        "'clickAttribution'",
        "'placementSlotAttribution'",
    )
    incomplete = event()
    del incomplete["attributes"]["eventDate"]
    await rejected(
        kard_emulator,
        lambda: kard.users.attributions.create(USER, [incomplete]),
        "events[0].attributes",
        "eventDate",
    )


def test_empty_entity_id_and_bad_rank() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        OfferAttribution(entity_id="", event_code="VIEW", medium="BROWSE", event_date=WHEN)
    assert caught.value.parameter == "entity_id"
    with pytest.raises(InvalidParameterError) as caught:
        AttributionState(rank=0)
    assert caught.value.parameter == "state.rank"


# --------------------------------------------------------------------------- configuration


async def test_missing_organization_id(
    make_kard: Callable[..., AsyncKard],
    kard_emulator: KardEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KARD_ORGANIZATION_ID", raising=False)
    kard = make_kard(organization_id=None)
    assert kard.organization_id is None
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: kard.users.rewards.offers(USER),
        lambda: kard.users.rewards.locations(USER),
        lambda: kard.users.rewards.placement_content(USER, "placement-1"),
        lambda: kard.users.attributions.create(USER, [event()]),
        lambda: kard.users.attributions.activate(USER, "o"),
        lambda: kard.users.attributions.activate_placement_slot(USER, "p", "s"),
    ]
    for call in calls:
        await rejected(kard_emulator, call, "organization_id", "KARD_ORGANIZATION_ID")
    # Passing it per call works.
    page = await kard.users.rewards.offers(USER, organization_id="org-123", page_size=1)
    assert page.data


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({}, "client_id"),
        ({"client_id": TEST_CLIENT_ID}, "client_secret"),
        ({"client_secret": TEST_CLIENT_SECRET}, "client_id"),
        ({"client_id": "", "client_secret": ""}, "client_id"),
    ],
)
def test_missing_credentials_at_construction(
    kard_server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, Any],
    missing: str,
) -> None:
    for name in ("KARD_CLIENT_ID", "KARD_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InvalidParameterError) as caught:
        AsyncKard(**kwargs, base_url=kard_server.base_url)
    assert caught.value.parameter == missing
    assert "KARD_CLIENT_ID" in str(caught.value)
    assert "token=" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"environment": "staging"}, "environment"),
        ({"base_url": "ftp://example"}, "base_url"),
        ({"token_style": "form"}, "token_style"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_connections": 0}, "max_connections"),
        ({"timeout": 0}, "timeout"),
        ({"token": ""}, "token"),
    ],
)
def test_bad_client_settings(kwargs: dict[str, Any], parameter: str) -> None:
    settings: dict[str, Any] = {"client_id": "id", "client_secret": "secret"}
    settings.update(kwargs)
    with pytest.raises(InvalidParameterError) as caught:
        AsyncKard(**settings)
    assert caught.value.parameter == parameter
