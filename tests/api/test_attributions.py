"""Attribution writes against the emulator (§2): create, activate, boost, slot activation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from kard_async import AsyncKard
from kard_async.models import (
    AttributionEvent,
    AttributionFilter,
    AttributionState,
    Category,
    Job,
    NotificationAttribution,
    Offer,
    OfferActivation,
    OfferAttribution,
    PlacementSlotActivation,
    PlacementSlotAttribution,
)
from kard_async.testing import TEST_ORGANIZATION_ID, KardEmulator

USER = "user-42"


def parse_date(text: str) -> datetime:
    """ISO 8601 with a ``Z`` suffix (``fromisoformat`` accepts ``Z`` only from Python 3.11)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_create_events_arrive_exactly_as_sent(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    tokyo = timezone(timedelta(hours=9))
    new_york = timezone(timedelta(hours=-5))
    events: list[AttributionEvent] = [
        OfferAttribution(
            entity_id="offer-1",
            event_code="VIEW",
            medium="SEARCH",
            event_date=datetime(2025, 1, 1, 12, 30, tzinfo=timezone.utc),
            state=AttributionState(
                rank=3,
                filters=(AttributionFilter(name="category", value="Food & Beverage"),),
                placement_id="placement-1",
                slot_id="slot-9",
            ),
        ),
        NotificationAttribution(
            entity_id="notif-1",
            event_code="IMPRESSION",
            medium="EMAIL",
            event_date=datetime(2025, 1, 2, 9, 0, 0, 123000, tzinfo=tokyo),
        ),
        PlacementSlotAttribution(
            entity_id="slot-1",
            event_code="ACTIVATE",
            medium="CTA",
            event_date=datetime(2025, 1, 3, 20, 15, tzinfo=new_york),
            state=AttributionState(placement_id="placement-batch-1", slot_id="slot-1"),
        ),
    ]
    job = await kard.users.attributions.create(USER, events)
    assert isinstance(job, Job)
    assert job.type == "job"
    assert job.status == "queued"
    assert job.id

    received = kard_emulator.attribution_events
    assert [(e.type, e.user_id, e.organization_id, e.job_id, e.source) for e in received] == [
        ("offerAttribution", USER, TEST_ORGANIZATION_ID, job.id, "attributions"),
        ("notificationAttribution", USER, TEST_ORGANIZATION_ID, job.id, "attributions"),
        ("placementSlotAttribution", USER, TEST_ORGANIZATION_ID, job.id, "attributions"),
    ]
    assert received[0].attributes == {
        "entityId": "offer-1",
        "eventCode": "VIEW",
        "medium": "SEARCH",
        "eventDate": "2025-01-01T12:30:00Z",
        "state": {
            "rank": 3,
            "filters": [{"name": "category", "value": "Food & Beverage"}],
            "placementId": "placement-1",
            "slotId": "slot-9",
        },
    }
    assert received[1].attributes["entityId"] == "notif-1"
    assert received[1].attributes["medium"] == "EMAIL"
    assert "state" not in received[1].attributes
    assert received[2].attributes["state"] == {
        "placementId": "placement-batch-1",
        "slotId": "slot-1",
    }
    # Time-zone offsets are kept: each wire date is the same instant as the one given.
    for event, got in zip(events, received, strict=True):
        assert parse_date(got.attributes["eventDate"]) == event.event_date


async def test_create_accepts_wire_mappings(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    nested = {
        "type": "offerAttribution",
        "attributes": {
            "entityId": "offer-9",
            "eventCode": "IMPRESSION",
            "medium": "EMAIL",
            "eventDate": "2025-02-01T10:00:00+02:00",
            "state": {"rank": 1, "filters": [{"name": "q", "value": "tacos"}]},
        },
    }
    flat = {
        "type": "notificationAttribution",
        "entityId": "notif-9",
        "eventCode": "VIEW",
        "medium": "PUSH",
        "eventDate": "2025-02-01T08:00:00Z",
    }
    mixed = OfferAttribution(
        entity_id="offer-10",
        event_code="BOOST",
        medium="CTA",
        event_date=datetime(2025, 2, 1, tzinfo=timezone.utc),
    )
    await kard.users.attributions.create(USER, [nested, flat, mixed])
    received = kard_emulator.attribution_events
    assert [e.type for e in received] == [
        "offerAttribution",
        "notificationAttribution",
        "offerAttribution",
    ]
    assert received[0].attributes["state"] == {
        "rank": 1,
        "filters": [{"name": "q", "value": "tacos"}],
    }
    assert parse_date(received[0].attributes["eventDate"]) == datetime(
        2025, 2, 1, 8, 0, tzinfo=timezone.utc
    )
    assert received[1].attributes == {
        "entityId": "notif-9",
        "eventCode": "VIEW",
        "medium": "PUSH",
        "eventDate": "2025-02-01T08:00:00Z",
    }
    assert received[2].attributes["eventCode"] == "BOOST"


async def test_create_100_events_in_one_request(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    events = [
        OfferAttribution(
            entity_id=f"offer-{i}",
            event_code="IMPRESSION",
            medium="BROWSE",
            event_date=start + timedelta(seconds=i),
        )
        for i in range(100)
    ]
    await kard.users.attributions.create(USER, events)
    assert len([r for r in kard_emulator.requests if r.path.endswith("/attributions")]) == 1
    assert [e.attributes["entityId"] for e in kard_emulator.attribution_events] == [
        f"offer-{i}" for i in range(100)
    ]


async def test_activate_with_include_offer(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    offer = (await kard.users.rewards.offers(USER, page_size=1)).data[0]
    result = await kard.users.attributions.activate(
        USER, offer.id, include=["offer"], supported_components=["cta", "logoFlare"]
    )
    assert isinstance(result, OfferActivation)
    assert result.data.type == "offerAttribution"
    assert result.data.attributes.entity_id == offer.id
    assert result.data.attributes.event_code == "ACTIVATE"
    assert result.data.attributes.medium == "CTA"
    assert result.data.attributes.event_date is not None
    assert result.data.attributes.event_date.tzinfo is not None
    (included,) = result.included
    assert isinstance(included, Offer)
    assert included.id == offer.id
    assert included.attributes.components is not None
    assert included.attributes.components.cta is not None
    (event,) = kard_emulator.attribution_events
    assert (event.source, event.job_id, event.attributes["entityId"]) == (
        "activate",
        result.data.id,
        offer.id,
    )


async def test_boost_without_include(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    offer = (await kard.users.rewards.offers(USER, page_size=1)).data[0]
    result = await kard.users.attributions.boost(USER, offer.id)
    assert result.data.attributes.event_code == "BOOST"
    assert result.data.attributes.medium == "CTA"
    assert result.included == []
    (event,) = kard_emulator.attribution_events
    assert (event.source, event.attributes["eventCode"]) == ("boost", "BOOST")


async def test_activate_placement_slot(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    before = await kard.users.rewards.placement_content(USER, "placement-batch-1")
    slot = before.batches[0]
    result = await kard.users.attributions.activate_placement_slot(
        USER, "placement-batch-1", slot.id
    )
    assert isinstance(result, PlacementSlotActivation)
    attributes = result.data.attributes
    assert result.data.type == "placementSlotAttribution"
    assert (attributes.placement_id, attributes.slot_id) == ("placement-batch-1", slot.id)
    assert (attributes.event_code, attributes.medium) == ("ACTIVATE", "CTA")
    assert attributes.offer_ids == [o.id for o in slot.attributes.offers]
    events = kard_emulator.attribution_events
    assert [e.type for e in events] == ["placementSlotAttribution"] + ["offerAttribution"] * len(
        attributes.offer_ids
    )
    # The placement content now shows the activation.
    after = await kard.users.rewards.placement_content(USER, "placement-batch-1")
    activated = after.batches[0]
    assert activated.attributes.last_activated_at is not None
    assert activated.attributes.expires_at is not None
    assert activated.attributes.expires_at > activated.attributes.last_activated_at
    assert activated.attributes.components is not None
    assert activated.attributes.components.logo_flare is not None
    assert activated.attributes.components.cta is None


async def test_offers_page_includes_categories(kard: AsyncKard) -> None:
    page = await kard.users.rewards.offers(USER, include=["categories"], page_size=10)
    assert page.included
    assert all(isinstance(c, Category) for c in page.included)
    used = {
        cid
        for offer in page.data
        if offer.relationships and offer.relationships.category
        for cid in offer.relationships.category.ids
    }
    assert used == {c.id for c in page.included}
