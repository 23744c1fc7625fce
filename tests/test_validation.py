"""Bad input is rejected before anything is sent, with a message naming parameter, value and
what is allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from kard_async import AsyncKard, InvalidParameterError, KardError
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
    call: Awaitable[object],
    parameter: str,
    *fragments: str,
) -> InvalidParameterError:
    """Await ``call``; assert it raised InvalidParameterError naming ``parameter`` and nothing
    reached the server (not even a token request)."""
    with pytest.raises(InvalidParameterError) as caught:
        await call
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
        kard.users.rewards.locations(USER, latitude=39.9),
        "longitude",
        "latitude",
    )
    assert error.value is None


async def test_longitude_without_latitude(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator, kard.users.rewards.locations(USER, longitude=-75.1), "latitude", "longitude"
    )


@pytest.mark.parametrize(("name", "value"), [("latitude", 91.0), ("longitude", -180.5)])
async def test_coordinates_out_of_range(
    kard: AsyncKard, kard_emulator: KardEmulator, name: str, value: float
) -> None:
    coords: dict[str, Any] = {"latitude": 10.0, "longitude": 10.0, name: value}
    error = await rejected(
        kard_emulator, kard.users.rewards.locations(USER, **coords), name, repr(value)
    )
    assert error.value == value


@pytest.mark.parametrize("radius", [0, -5])
async def test_radius_below_one(kard: AsyncKard, kard_emulator: KardEmulator, radius: int) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.locations(USER, latitude=1.0, longitude=1.0, radius=radius),
        "radius",
        f"radius={radius}",
        "at least 1",
    )


async def test_radius_without_coordinates(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.locations(USER, radius=5),
        "radius",
        "radius=5",
        "latitude and longitude",
    )


async def test_bad_state(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.locations(USER, state="XX"),  # type: ignore[arg-type]
        "state",
        "'XX'",
        "'PA'",
    )


@pytest.mark.parametrize("method", ["locations", "offers", "iter_offers", "iter_locations"])
async def test_bad_category(kard: AsyncKard, kard_emulator: KardEmulator, method: str) -> None:
    async def call() -> None:
        result = getattr(kard.users.rewards, method)(USER, category="Food and Beverage")
        if not hasattr(result, "__aiter__"):
            await result

    await rejected(kard_emulator, call(), "category", "'Food and Beverage'", "'Food & Beverage'")


async def test_bad_location_sort(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.locations(USER, sort=["locationName", "name"]),  # type: ignore[list-item]
        "sort",
        "'name'",
        "'locationName', '-locationName'",
    )


async def test_bad_offer_sort(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.offers(USER, sort="locationName"),  # type: ignore[arg-type]
        "sort",
        "'locationName'",
        "'-expirationDate'",
    )


@pytest.mark.parametrize(
    ("make_call", "bad", "allowed"),
    [
        (lambda k: k.users.rewards.locations(USER, include=["offer"]), "'offer'", "'offers'"),
        (lambda k: k.users.rewards.offers(USER, include=["offers"]), "'offers'", "'categories'"),
        (
            lambda k: k.users.rewards.placement_content(USER, "placement-1", include=["offer"]),
            "'offer'",
            "'categories'",
        ),
        (
            lambda k: k.users.attributions.activate(USER, "o", include=["offers"]),
            "'offers'",
            "'offer'",
        ),
        (lambda k: k.users.attributions.boost(USER, "o", include=[]), "[]", "not be empty"),
    ],
)
async def test_bad_include(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    make_call: Callable[[AsyncKard], Awaitable[object]],
    bad: str,
    allowed: str,
) -> None:
    await rejected(kard_emulator, make_call(kard), "include", bad, allowed)


@pytest.mark.parametrize(
    "make_call",
    [
        lambda k: k.users.rewards.locations(USER, supported_components=["button"]),
        lambda k: k.users.rewards.offers(USER, supported_components="cta,button"),
        lambda k: k.users.rewards.placement_content(USER, "p", supported_components=["button"]),
        lambda k: k.users.attributions.activate(USER, "o", supported_components=["button"]),
    ],
)
async def test_bad_supported_components(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    make_call: Callable[[AsyncKard], Awaitable[object]],
) -> None:
    await rejected(
        kard_emulator, make_call(kard), "supported_components", "'button'", "'progressBar'"
    )


async def test_bad_purchase_channel(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.offers(USER, purchase_channel=["INSTORE", "MAIL"]),  # type: ignore[list-item]
        "purchase_channel",
        "'MAIL'",
        "'INSTORE', 'ONLINE'",
    )


async def test_bad_is_targeted(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(
        kard_emulator,
        kard.users.rewards.offers(USER, is_targeted="yes"),  # type: ignore[arg-type]
        "is_targeted",
        "'yes'",
        "True or False",
    )


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize("method", ["locations", "offers"])
async def test_page_size_zero(kard: AsyncKard, kard_emulator: KardEmulator, method: str) -> None:
    await rejected(
        kard_emulator,
        getattr(kard.users.rewards, method)(USER, page_size=0),
        "page_size",
        "page_size=0",
        "at least 1",
    )


@pytest.mark.parametrize("method", ["iter_locations", "iter_offers"])
async def test_iterator_page_size_checked_at_call_time(
    kard: AsyncKard, kard_emulator: KardEmulator, method: str
) -> None:
    # The iterators promise to check their arguments when called, not on the first page.
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
        getattr(kard.users.rewards, method)(USER, after="a", before="b"),
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
    await rejected(kard_emulator, make_call(kard, user), "user_id", repr(user), "non-empty")


async def test_empty_other_ids(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    a = kard.users.attributions
    await rejected(kard_emulator, kard.users.rewards.placement_content(USER, ""), "placement_id")
    await rejected(kard_emulator, a.activate(USER, ""), "offer_id", "''")
    await rejected(kard_emulator, a.boost(USER, " "), "offer_id", "' '")
    await rejected(kard_emulator, a.activate_placement_slot(USER, "", "slot-1"), "placement_id")
    await rejected(kard_emulator, a.activate_placement_slot(USER, "p", ""), "slot_id")
    await rejected(kard_emulator, a.activate_placement_slot(USER, "p", None), "slot_id")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("count", [0, 101])
async def test_event_count_limits(kard: AsyncKard, kard_emulator: KardEmulator, count: int) -> None:
    await rejected(
        kard_emulator,
        kard.users.attributions.create(USER, [event()] * count),
        "events",
        f"{count} events",
        "1 to 100",
        "bulk_create",
    )


async def test_events_must_be_a_list(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await rejected(kard_emulator, kard.users.attributions.create(USER, event()), "events")  # type: ignore[arg-type]


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
        kard.users.attributions.create(USER, [event(), event(eventDate="2025-01-01T00:00:00")]),
        "events[1].event_date",
        "timezone-aware",
    )


@pytest.mark.parametrize(
    ("build", "medium", "allowed"),
    [
        (NotificationAttribution, "BROWSE", "'PUSH', 'EMAIL'"),
        (PlacementSlotAttribution, "PUSH", "'CTA'"),
        (OfferAttribution, "SMS", "'BROWSE'"),
    ],
)
def test_wrong_medium_for_event_type(build: Any, medium: str, allowed: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        build(entity_id="x", event_code="VIEW", medium=medium, event_date=WHEN)
    assert caught.value.parameter == "medium"
    assert f"'{medium}'" in str(caught.value)
    assert allowed in str(caught.value)
    assert build.TYPE in str(caught.value)


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
        kard.users.attributions.create(USER, [event(), bad]),
        "events[1].medium",
        "'MAP'",
        "'PUSH', 'EMAIL'",
    )


async def test_unknown_event_code(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        OfferAttribution(entity_id="o", event_code="CLICK", medium="BROWSE", event_date=WHEN)  # type: ignore[arg-type]
    assert caught.value.parameter == "event_code"
    assert "'CLICK'" in str(caught.value)
    assert "'IMPRESSION'" in str(caught.value)
    await rejected(
        kard_emulator,
        kard.users.attributions.create(USER, [event(eventCode="CLICK")]),
        "events[0].eventCode",
        "'CLICK'",
        "'BOOST'",
    )


async def test_unknown_event_type_and_missing_fields(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await rejected(
        kard_emulator,
        kard.users.attributions.create(USER, [{"type": "clickAttribution", "attributes": {}}]),
        "events[0].type",
        "'clickAttribution'",
        "'placementSlotAttribution'",
    )
    incomplete = event()
    del incomplete["attributes"]["eventDate"]
    await rejected(
        kard_emulator,
        kard.users.attributions.create(USER, [incomplete]),
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
    calls = [
        kard.users.rewards.offers(USER),
        kard.users.rewards.locations(USER),
        kard.users.rewards.placement_content(USER, "placement-1"),
        kard.users.attributions.create(USER, [event()]),
        kard.users.attributions.activate(USER, "o"),
        kard.users.attributions.activate_placement_slot(USER, "p", "s"),
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
