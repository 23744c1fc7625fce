"""Rewards reads against the emulator: the decoded results make sense (§3)."""

from __future__ import annotations

import math

from kard_async import AsyncKard
from kard_async.models import Category, Location, Offer, PlacementBatch
from kard_async.testing import KardEmulator

USER = "user-1"
# The seed location of the API docs' example (Philadelphia).
PHILLY = (39.9419429, -75.1446869)


def miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 3958.8 * math.asin(math.sqrt(a))


async def all_locations(kard: AsyncKard, **filters: object) -> list[Location]:
    return [loc async for loc in kard.users.rewards.locations(USER, **filters)]  # type: ignore[arg-type]


async def test_radius_search_returns_only_locations_within_radius(kard: AsyncKard) -> None:
    near = await all_locations(
        kard, latitude=PHILLY[0], longitude=PHILLY[1], radius=2, page_size=50
    )
    wide = await all_locations(
        kard, latitude=PHILLY[0], longitude=PHILLY[1], radius=30, page_size=50
    )
    everywhere = await all_locations(kard, page_size=200)
    assert near
    assert len(near) < len(wide) < len(everywhere)
    for location in near:
        coords = location.attributes.coordinates
        assert coords is not None
        assert miles(PHILLY[0], PHILLY[1], coords.latitude, coords.longitude) <= 2.0 + 1e-6
    # Nothing within the radius was left out.
    inside = {
        loc.id
        for loc in everywhere
        if loc.attributes.coordinates is not None
        and miles(PHILLY[0], PHILLY[1], *_latlon(loc)) <= 1.99
    }
    assert inside <= {loc.id for loc in near}


def _latlon(location: Location) -> tuple[float, float]:
    coords = location.attributes.coordinates
    assert coords is not None
    return coords.latitude, coords.longitude


async def test_location_text_filters_narrow_the_result(kard: AsyncKard) -> None:
    everywhere = await all_locations(kard, page_size=500)
    by_state = await all_locations(kard, state="WA", page_size=500)
    assert by_state
    assert all(loc.attributes.address and loc.attributes.address.state == "WA" for loc in by_state)
    assert len(by_state) == sum(
        1 for loc in everywhere if loc.attributes.address and loc.attributes.address.state == "WA"
    )
    by_city = await all_locations(kard, city="new york", page_size=500)
    assert by_city
    assert all(
        loc.attributes.address and "new york" in loc.attributes.address.city.lower()
        for loc in by_city
    )
    by_zip = await all_locations(kard, zip_code="19147")
    assert by_zip
    assert all(
        loc.attributes.address and loc.attributes.address.zip_code == "19147" for loc in by_zip
    )
    by_name = await all_locations(kard, name="Worlds Greatest")
    assert by_name
    assert all("worlds greatest" in loc.name.lower() for loc in by_name)


async def test_category_filter_returns_only_that_category(kard: AsyncKard) -> None:
    page = await kard.users.rewards.locations(
        USER, category="Food & Beverage", include=["categories"], page_size=100
    )
    assert page.data
    (food,) = [c for c in page.included if isinstance(c, Category)]
    assert food.name == "Food & Beverage"
    for location in page.data:
        assert location.category_ids == [food.id]
        assert [c.name for c in page.categories_of(location)] == ["Food & Beverage"]

    offers = await kard.users.rewards.offers(USER, category="Food & Beverage", page_size=100)
    assert offers.data
    assert {c.name for c in offers.meta.available_categories} == {"Food & Beverage"}
    for offer in offers.data:
        assert offer.relationships is not None
        assert offer.relationships.category is not None
        assert offer.relationships.category.ids == [food.id]


async def test_offers_of_location(kard: AsyncKard) -> None:
    page = await kard.users.rewards.locations(
        USER,
        latitude=PHILLY[0],
        longitude=PHILLY[1],
        radius=5,
        include=["offers", "categories"],
        page_size=20,
    )
    assert page.data
    for location in page.data:
        offers = page.offers_of(location)
        assert location.offer_ids
        assert [offer.id for offer in offers] == location.offer_ids
        assert all(isinstance(offer, Offer) for offer in offers)
        assert all("INSTORE" in offer.attributes.purchase_channel for offer in offers)
    # Without include, nothing is side-loaded.
    bare = await kard.users.rewards.locations(USER, latitude=PHILLY[0], longitude=PHILLY[1])
    assert bare.included == []
    assert bare.offers_of(bare.data[0]) == []


async def test_cursor_walk_forward_and_back(kard: AsyncKard) -> None:
    pages = [await kard.users.rewards.locations(USER, state="PA", page_size=7)]
    while pages[-1].next_cursor is not None:
        pages.append(
            await kard.users.rewards.locations(
                USER, state="PA", page_size=7, after=pages[-1].next_cursor
            )
        )
    assert len(pages) >= 3
    assert pages[0].prev_cursor is None
    assert pages[-1].next_cursor is None
    forward = [loc.id for page in pages for loc in page.data]
    assert len(forward) == len(set(forward))
    # Walk back from the last page with prev_cursor.
    backward: list[str] = []
    page = pages[-1]
    backward[:0] = [loc.id for loc in page.data]
    while page.prev_cursor is not None:
        page = await kard.users.rewards.locations(
            USER, state="PA", page_size=7, before=page.prev_cursor
        )
        backward[:0] = [loc.id for loc in page.data]
    assert backward == forward


async def test_async_for_over_locations_visits_every_item_once(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    manual: list[str] = []
    after = None
    pages = 0
    while True:
        page = await kard.users.rewards.locations(
            USER, latitude=PHILLY[0], longitude=PHILLY[1], radius=20, page_size=9, after=after
        )
        pages += 1
        manual.extend(loc.id for loc in page.data)
        after = page.next_cursor
        if after is None:
            break
    assert pages > 2
    before = len(kard_emulator.requests)
    iterated = [
        loc.id
        async for loc in kard.users.rewards.locations(
            USER, latitude=PHILLY[0], longitude=PHILLY[1], radius=20, page_size=9
        )
    ]
    assert iterated == manual
    assert len(set(iterated)) == len(iterated)
    assert len(kard_emulator.requests) - before == pages  # one request per page


async def test_async_for_over_offers_visits_every_item_once(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    everything = await kard.users.rewards.offers(USER, page_size=1000, sort="name")
    assert everything.next_cursor is None
    names = [offer.name for offer in everything.data]
    assert names == sorted(names, key=str.casefold)
    iterated = [offer async for offer in kard.users.rewards.offers(USER, page_size=5, sort="name")]
    assert [o.id for o in iterated] == [o.id for o in everything.data]
    assert sum(1 for r in kard_emulator.requests if r.path.endswith("/offers")) == 1 + math.ceil(
        len(names) / 5
    )


async def test_page_next_page_and_early_break(kard: AsyncKard) -> None:
    first = await kard.users.rewards.offers(USER, page_size=2, is_targeted=True)
    assert first.data
    assert all(o.attributes.is_targeted for o in first.data)
    assert first.has_next_page()
    second = await first.next_page()
    assert second is not None
    assert type(second) is type(first)
    assert {o.id for o in second.data}.isdisjoint(o.id for o in first.data)
    assert all(o.attributes.is_targeted for o in second.data)  # the same filters
    last = second
    while (following := await last.next_page()) is not None:
        last = following
    assert not last.has_next_page()
    assert await last.next_page() is None
    count = 0
    async for _ in kard.users.rewards.offers(USER, page_size=2):
        count += 1
        if count == 3:
            break
    assert count == 3


async def test_offer_search_and_sort(kard: AsyncKard) -> None:
    page = await kard.users.rewards.offers(
        USER, search="FOOD", include=["categories"], page_size=100
    )
    names = {c.id: c.name for c in page.included if isinstance(c, Category)}
    assert page.data
    for offer in page.data:
        assert offer.relationships is not None
        assert offer.relationships.category is not None
        category = names[offer.relationships.category.ids[0]]
        assert "food" in offer.name.lower() or "food" in category.lower()
    pizza = await kard.users.rewards.offers(USER, search="pizza")
    assert pizza.data
    assert all("pizza" in offer.name.lower() for offer in pizza.data)
    desc = await kard.users.rewards.offers(USER, sort="-startDate", page_size=100)
    dates = [o.attributes.start_date for o in desc.data]
    assert all(d is not None for d in dates)
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]


async def test_supported_components_are_decoded(kard: AsyncKard) -> None:
    page = await kard.users.rewards.offers(
        USER, supported_components=["cta", "shortDescription", "baseReward"], page_size=5
    )
    for offer in page.data:
        components = offer.attributes.components
        assert components is not None
        assert components.short_description
        assert components.base_reward
        assert components.progress_bar is None  # not asked for


async def test_placement_content_standard_shape(kard: AsyncKard) -> None:
    content = await kard.users.rewards.placement_content(
        USER, "placement-1", include=["categories"]
    )
    assert content.meta.placement_name == "Home Feed"
    assert content.offers
    assert content.batches == []
    assert content.links.self_ is not None
    assert all(isinstance(c, Category) for c in content.included)
    offer_categories = {
        cid
        for offer in content.offers
        if offer.relationships and offer.relationships.category
        for cid in offer.relationships.category.ids
    }
    assert offer_categories == {c.id for c in content.included}


async def test_placement_content_batch_shape(kard: AsyncKard) -> None:
    content = await kard.users.rewards.placement_content(USER, "placement-batch-1")
    assert content.meta.placement_name == "Weekly Picks"
    assert content.offers == []
    batches = content.batches
    assert [b.id for b in batches] == ["slot-1", "slot-2", "slot-3"]
    for batch in batches:
        assert isinstance(batch, PlacementBatch)
        assert batch.attributes.is_active is True
        assert batch.attributes.last_activated_at is None
        assert batch.attributes.offers
        assert batch.attributes.components is not None
        assert batch.attributes.components.cta is not None
        assert batch.attributes.components.cta.action is not None
        assert batch.attributes.components.cta.action.url.endswith(
            f"/placements/placement-batch-1/slot/{batch.id}/activate"
        )
    group = await kard.users.rewards.placement_content(USER, "placement-group-1")
    assert [b.attributes.name for b in group.batches] == ["Groceries & Snacks", "Pet Care"]
    assert all(b.attributes.components is None for b in group.batches)
