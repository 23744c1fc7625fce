"""msgspec models: gc-free response structs, immutable events, event wire format."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from kard_async import AsyncKard, InvalidParameterError
from kard_async import models as m
from kard_async.models import LocationsPage, OffersPage
from kard_async.models._base import decoder_for
from kard_async.models.attributions import encode_events

LOCATIONS_DECODER = decoder_for(LocationsPage)
OFFERS_DECODER = decoder_for(OffersPage)

UTC = timezone.utc
WHEN = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)


def test_response_structs_are_not_gc_tracked_by_config() -> None:
    # A page (one per response) is tracked: it links back to the request that made it, for
    # next_page(). Everything inside it, which is nearly every object decoded, is not.
    assert m.LocationsPage.__struct_config__.gc is True
    assert m.OffersPage.__struct_config__.gc is True
    response_models = [
        m.Location,
        m.Offer,
        m.PlacementContent,
        m.PlacementBatch,
        m.Category,
        m.Job,
        m.Links,
        m.OfferActivation,
        m.PlacementSlotActivation,
        m.UnknownResource,
        m.OfferComponents,
        m.ErrorObject,
    ]
    for cls in response_models:
        assert cls.__struct_config__.gc is False, cls


async def test_decoded_objects_are_not_gc_tracked(kard: AsyncKard) -> None:
    page = await kard.users.rewards.locations(
        "user-1", include=["offers", "categories"], page_size=5
    )
    location = page.data[0]
    objects: list[object] = [location, location.attributes, page.links, *page.included]
    assert location.attributes.operation_hours is not None
    objects.append(location.attributes.operation_hours.periods[0])
    for obj in objects:
        assert gc.is_tracked(obj) is False, type(obj)
    assert isinstance(page, m.LocationsPage)
    assert not gc.is_tracked(page.data) or all(not gc.is_tracked(x) for x in page.data)


def test_lenient_path_objects_are_not_gc_tracked() -> None:
    body = msgspec.json.encode(
        {
            "data": [],
            "links": {"self": "/x"},
            "included": [{"type": "mystery", "id": "1", "attributes": {"a": [1, 2]}}],
        }
    )
    page = OFFERS_DECODER.decode(body)
    assert isinstance(page, m.OffersPage)
    (unknown,) = page.included
    assert isinstance(unknown, m.UnknownResource)
    assert gc.is_tracked(unknown) is False


def test_events_are_immutable_and_hashable() -> None:
    event = m.OfferAttribution(entity_id="o", event_code="VIEW", medium="BROWSE", event_date=WHEN)
    with pytest.raises(AttributeError):
        event.medium = "MAP"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        event.entity_id = "other"  # type: ignore[misc]
    state = m.AttributionState(rank=1, filters=(m.AttributionFilter(name="a", value="b"),))
    with pytest.raises(AttributeError):
        state.rank = 2  # type: ignore[misc]
    assert isinstance(state.filters, tuple)
    same = m.OfferAttribution(entity_id="o", event_code="VIEW", medium="BROWSE", event_date=WHEN)
    assert event == same
    assert hash(event) == hash(same)
    assert len({event, same}) == 1


def test_wire_encoding_of_each_event_type() -> None:
    events: list[m.AttributionEvent] = [
        m.OfferAttribution(
            entity_id="offer-1",
            event_code="IMPRESSION",
            medium="EMAIL",
            event_date=datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC),
            state=m.AttributionState(
                rank=2,
                filters=(m.AttributionFilter(name="category", value="Gas"),),
                placement_id="p-1",
                slot_id="s-1",
            ),
        ),
        m.NotificationAttribution(
            entity_id="n-1",
            event_code="VIEW",
            medium="PUSH",
            event_date=datetime(2025, 1, 1, 12, 0, 0, 500000, tzinfo=UTC),
        ),
        m.PlacementSlotAttribution(
            entity_id="slot-1",
            event_code="ACTIVATE",
            medium="CTA",
            event_date=datetime(2025, 1, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))),
        ),
    ]
    assert encode_events(events) == (
        b'{"data":['
        b'{"type":"offerAttribution","attributes":{"entityId":"offer-1","eventCode":"IMPRESSION",'
        b'"medium":"EMAIL","eventDate":"2025-01-01T12:00:00Z","state":{"rank":2,'
        b'"filters":[{"name":"category","value":"Gas"}],"placementId":"p-1","slotId":"s-1"}}},'
        b'{"type":"notificationAttribution","attributes":{"entityId":"n-1","eventCode":"VIEW",'
        b'"medium":"PUSH","eventDate":"2025-01-01T12:00:00.500000Z"}},'
        b'{"type":"placementSlotAttribution","attributes":{"entityId":"slot-1",'
        b'"eventCode":"ACTIVATE","medium":"CTA","eventDate":"2025-01-01T07:00:00-05:00"}}'
        b"]}"
    )


def test_events_of_one_type_encode_as_the_wrapped_wire_form_whatever_their_strings_hold() -> None:
    # Events of one type are encoded one per line and the line breaks become the wrappers:
    # a line break, a quote or "},{" inside a string must stay inside its string.
    tricky = m.OfferAttribution(
        entity_id='offer\n"},{"type":"x"\u2028',
        event_code="VIEW",
        medium="BROWSE",
        event_date=WHEN,
        state=m.AttributionState(
            filters=(
                m.AttributionFilter(name="a\nb", value="},{"),
                m.AttributionFilter(name="c", value="d"),
            )
        ),
    )
    plain = m.OfferAttribution(entity_id="o-2", event_code="VIEW", medium="MAP", event_date=WHEN)
    for events in ([tricky], [tricky, plain, tricky], [plain] * 100):
        decoded = msgspec.json.decode(encode_events(events))
        assert decoded == {
            "data": [
                {
                    "type": "offerAttribution",
                    "attributes": msgspec.json.decode(msgspec.json.encode(event)),
                }
                for event in events
            ]
        }
    assert b"\n" not in encode_events([tricky, plain])


def test_event_from_wire_nested_and_flat() -> None:
    nested = m.event_from_wire(
        {
            "type": "notificationAttribution",
            "attributes": {
                "entityId": "n-1",
                "eventCode": "IMPRESSION",
                "medium": "EMAIL",
                "eventDate": "2025-01-01T00:00:00Z",
                "state": {"rank": 4, "filters": [{"name": "q", "value": "x"}]},
            },
        }
    )
    assert nested == m.NotificationAttribution(
        entity_id="n-1",
        event_code="IMPRESSION",
        medium="EMAIL",
        event_date=WHEN,
        state=m.AttributionState(rank=4, filters=(m.AttributionFilter(name="q", value="x"),)),
    )
    flat = m.event_from_wire(
        {
            "type": "placementSlotAttribution",
            "userId": "user-1",
            "id": "ignored",
            "entityId": "slot-1",
            "eventCode": "ACTIVATE",
            "medium": "CTA",
            "eventDate": "2025-01-01T09:00:00+09:00",
            "state": {"placementId": "p", "slotId": "slot-1"},
        }
    )
    assert isinstance(flat, m.PlacementSlotAttribution)
    assert flat.event_date == datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
    assert flat.event_date.utcoffset() == timedelta(hours=9)
    assert flat.state == m.AttributionState(placement_id="p", slot_id="slot-1")
    # A round trip through the wire format gives the same event.
    wire = msgspec.json.decode(encode_events([flat]))["data"][0]
    assert m.event_from_wire(wire) == flat


@pytest.mark.parametrize(
    ("obj", "parameter"),
    [
        ("not a mapping", "event"),
        ({"attributes": {}}, "type"),
        (
            {
                "type": "offerAttribution",
                "entityId": 5,
                "eventCode": "VIEW",
                "medium": "MAP",
                "eventDate": "2025-01-01T00:00:00Z",
            },
            "entityId",
        ),
        (
            {
                "type": "offerAttribution",
                "entityId": "o",
                "eventCode": "VIEW",
                "medium": "MAP",
                "eventDate": "yesterday",
            },
            "eventDate",
        ),
        (
            {
                "type": "offerAttribution",
                "entityId": "o",
                "eventCode": "VIEW",
                "medium": "MAP",
                "eventDate": "2025-01-01T00:00:00Z",
                "state": {"rank": 0},
            },
            "state.rank",
        ),
    ],
)
def test_event_from_wire_errors(obj: object, parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        m.event_from_wire(obj)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter


def test_relationship_ids_and_cursors() -> None:
    body = msgspec.json.encode(
        {
            "data": [
                {
                    "type": "location",
                    "id": "l-1",
                    "attributes": {"name": "Shop"},
                    "relationships": {
                        "offers": {"data": [{"type": "standardOffer", "id": "o-1"}]},
                        "category": {"data": {"type": "category", "id": "c-1"}},
                    },
                }
            ],
            "links": {
                "self": "/x?page[size]=1",
                "prev": "/x?page[before]=b%3D&page[size]=1",
                "next": "/x?page[after]=a%3D&page[size]=1",
            },
        }
    )
    page = LOCATIONS_DECODER.decode(body)
    location = page.data[0]
    assert location.offer_ids == ["o-1"]
    assert location.category_ids == ["c-1"]
    assert page.links.self_ == "/x?page[size]=1"
    assert page.next_cursor == "a="
    assert page.prev_cursor == "b="
    assert location.name == "Shop"
    assert location.type == "location"
    assert page.offers_of(location) == []


def test_missing_optional_fields_have_defaults() -> None:
    body = b'{"data":[{"type":"standardOffer","id":"o","attributes":{"name":"N"}}]}'
    page = OFFERS_DECODER.decode(body)
    offer = page.data[0]
    assert offer.attributes.purchase_channel == []
    assert offer.attributes.is_targeted is False
    assert offer.attributes.components is None
    assert page.next_cursor is None
    assert page.included == []
    assert page.meta.available_categories == []
