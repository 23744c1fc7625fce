"""Forward compatibility: responses of a future API version (emulator fault kind="extras")
still decode: unknown members ignored, unknown enum values kept as strings, unknown side-loaded
resource types kept as UnknownResource."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from kard_async import AsyncKard
from kard_async.models import (
    Category,
    ComponentType,
    Location,
    Offer,
    PlacementBatch,
    UnknownResource,
)
from kard_async.testing import Fault, KardEmulator

USER = "user-1"
ALL_COMPONENTS: list[ComponentType] = [
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


def extras(emulator: KardEmulator, path: str) -> None:
    emulator.inject(Fault(kind="extras", path=path, times=None))


def unknown_by_type(items: Sequence[object]) -> dict[str, UnknownResource]:
    return {item.type: item for item in items if isinstance(item, UnknownResource)}


def check_future_offer(offer: Offer) -> None:
    attributes = offer.attributes
    assert "CRYPTO" in attributes.purchase_channel
    assert attributes.user_reward is not None
    assert attributes.user_reward.type == "TIERED"
    assert attributes.assets[-1].type == "VIDEO_VIEW"
    assert not hasattr(attributes, "futureAttribute")
    assert not hasattr(attributes, "future_attribute")


def check_unknown_included(included: Sequence[object]) -> None:
    unknown = unknown_by_type(included)
    assert set(unknown) == {"merchantPromo", "premiumOffer"}
    promo = unknown["merchantPromo"]
    assert promo.id == "promo-1"
    assert promo.attributes == {
        "headline": "Double points weekend",
        "endsAt": "2099-01-01T00:00:00Z",
    }
    premium = unknown["premiumOffer"]
    assert premium.attributes["name"] == "Premium Lounge Access"
    assert premium.relationships["category"]["data"][0]["id"] == "premium-category"


async def test_locations_decode_with_extras(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    plain = await kard.users.rewards.locations(
        USER, state="PA", include=["offers", "categories"], page_size=5
    )
    extras(kard_emulator, "/locations$")
    page = await kard.users.rewards.locations(
        USER,
        state="PA",
        include=["offers", "categories"],
        supported_components=ALL_COMPONENTS,
        page_size=5,
    )
    assert [loc.id for loc in page.data] == [loc.id for loc in plain.data]
    assert all(isinstance(loc, Location) for loc in page.data)
    check_unknown_included(page.included)
    offers = [item for item in page.included if isinstance(item, Offer)]
    categories = [item for item in page.included if isinstance(item, Category)]
    assert offers
    assert categories
    for offer in offers:
        check_future_offer(offer)
    # Known relationships still resolve; the unknown "brand" relationship is ignored.
    for location in page.data:
        assert [o.id for o in page.offers_of(location)] == location.offer_ids
    assert page.next_cursor == plain.next_cursor


async def test_offers_decode_with_extras(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    extras(kard_emulator, "/offers$")
    page = await kard.users.rewards.offers(
        USER, include=["categories"], supported_components=ALL_COMPONENTS, page_size=20
    )
    assert page.data
    for offer in page.data:
        check_future_offer(offer)
        components = offer.attributes.components
        assert components is not None
        assert components.cta is not None
        assert components.cta.button_style == "GHOST"  # an enum value this version never saw
        assert components.logo_flare is not None
        assert components.logo_flare.border_color == "TERTIARY"
        if components.logo_flare.badge is not None:
            assert components.logo_flare.badge.position == "CENTER"
    check_unknown_included(page.included)
    assert any(isinstance(item, Category) for item in page.included)
    assert page.meta.available_categories


async def test_placement_content_decodes_with_extras(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    extras(kard_emulator, "/content$")
    standard = await kard.users.rewards.placement_content(
        USER, "placement-1", include=["categories"], supported_components=["cta"]
    )
    assert standard.offers
    for offer in standard.offers:
        check_future_offer(offer)
    check_unknown_included(standard.included)
    assert standard.meta.placement_name == "Home Feed"

    batch = await kard.users.rewards.placement_content(USER, "placement-batch-1")
    assert [b.id for b in batch.batches] == ["slot-1", "slot-2", "slot-3"]
    for slot in batch.batches:
        assert isinstance(slot, PlacementBatch)
        assert slot.attributes.components is not None
        assert slot.attributes.components.cta is not None
        assert slot.attributes.components.cta.button_style == "GHOST"
        for offer in slot.attributes.offers:
            check_future_offer(offer)
    check_unknown_included(batch.included)


async def test_unknown_data_item_type_is_kept(kard: AsyncKard) -> None:
    from kard_async.models import PlacementContent
    from kard_async.models._base import decoder_for

    body = msgspec.json.encode(
        {
            "data": [
                {"type": "placementCarousel", "id": "c-1", "attributes": {"title": "New"}},
                {"type": "placementBatch", "id": "slot-1", "attributes": {"name": "Dining"}},
            ],
            "meta": {"placementName": "Future"},
        }
    )
    content = decoder_for(PlacementContent).decode(body)
    assert [b.id for b in content.batches] == ["slot-1"]
    (unknown,) = [item for item in content.data if isinstance(item, UnknownResource)]
    assert (unknown.type, unknown.id, unknown.attributes) == (
        "placementCarousel",
        "c-1",
        {"title": "New"},
    )


async def test_writes_decode_with_extras(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    offer = (await kard.users.rewards.offers(USER, page_size=1)).data[0]
    extras(kard_emulator, "/(activate|boost|attributions)$")
    activation = await kard.users.attributions.activate(USER, offer.id, include=["offer"])
    assert activation.data.attributes.event_code == "ACTIVATE"
    offers = [item for item in activation.included if isinstance(item, Offer)]
    assert [o.id for o in offers] == [offer.id]
    check_future_offer(offers[0])
    check_unknown_included(activation.included)

    boost = await kard.users.attributions.boost(USER, offer.id)
    assert boost.data.attributes.event_code == "BOOST"

    slot = await kard.users.attributions.activate_placement_slot(
        USER, "placement-batch-1", "slot-1"
    )
    assert slot.data.attributes.slot_id == "slot-1"
    assert slot.data.attributes.offer_ids

    job = await kard.users.attributions.create(
        USER,
        [
            {
                "type": "offerAttribution",
                "entityId": offer.id,
                "eventCode": "VIEW",
                "medium": "BROWSE",
                "eventDate": "2025-01-01T00:00:00Z",
            }
        ],
    )
    assert job.status == "processing"  # an unknown job status comes through as a string
    assert job.id


async def test_token_response_with_extras(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    extras(kard_emulator, "/auth/token$")
    assert (await kard.users.rewards.offers(USER, page_size=1)).data
    assert len(kard_emulator.token_requests) == 1
