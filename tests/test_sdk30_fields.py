"""Response fields added in the official SDK's 30.x line (API reference §16, issue 14).

Locations gain ``cuisine``, ``rating {value, count}`` and ``priceLevel``; assets gain the type
``LOCATION_IMG_VIEW``. The bodies are shaped like the SDK 30.5.1 docs example, served by a
small aiohttp.web server on 127.0.0.1 (the emulator's seed has none of these fields yet).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web

from kard_async import AsyncKard
from kard_async.models import Location

OFFER_ID = "5e27318c9b346f00087fbb5c"
CATEGORY_ID = "65920081b524d126068de24a"


def location(**extra: Any) -> dict[str, Any]:
    return {
        "type": "location",
        "id": "63a1e7b0f1d2c3a4b5c6d7e8",
        "attributes": {
            "name": "Worlds Greatest Chicken",
            "address": {
                "street": "1 Main St",
                "city": "Philadelphia",
                "state": "PA",
                "zipCode": "19106",
            },
            "coordinates": {"latitude": 39.9419429, "longitude": -75.1446869},
            "phone": "+1 (123) 555-8880",
            "operationHours": {"periods": [], "weekdayText": ["Saturday: Closed"]},
            "partnerIds": [{"type": "google", "id": "3pafnweri4"}],
            **extra,
        },
        "relationships": {
            "offers": {"data": [{"type": "standardOffer", "id": OFFER_ID}]},
            "category": {"data": [{"type": "category", "id": CATEGORY_ID}]},
        },
    }


NEW_FIELDS = {
    "cuisine": "Pizza Restaurant",
    "rating": {"value": 4.6, "count": 812},
    "priceLevel": "$$",
}

OFFER = {
    "type": "standardOffer",
    "id": OFFER_ID,
    "attributes": {
        "name": "Worlds Greatest Chicken",
        "terms": "Only available within US Locations.",
        "purchaseChannel": ["INSTORE"],
        "userReward": {"type": "PERCENT", "value": 5.7},
        "startDate": "2026-01-01T05:00:00Z",
        "expirationDate": "2027-01-01T05:00:00Z",
        "isTargeted": True,
        "assets": [
            {"type": "IMG_VIEW", "url": "https://a.test/logo.png?t=1", "alt": ""},
            {"type": "BANNER_VIEW", "url": "https://a.test/banner.jpg?t=1", "alt": ""},
            {"type": "LOCATION_IMG_VIEW", "url": "https://a.test/front.jpg?t=1", "alt": ""},
        ],
    },
}


def encode(value: object) -> bytes:
    return json.dumps(value).encode()


def test_location_fields_decode_from_bytes() -> None:
    decoded = msgspec.json.decode(encode(location(**NEW_FIELDS)), type=Location)
    attributes = decoded.attributes
    assert attributes.cuisine == "Pizza Restaurant"
    assert attributes.price_level == "$$"
    assert attributes.rating is not None
    assert attributes.rating.value == 4.6
    assert attributes.rating.count == 812


@pytest.mark.parametrize(
    ("rating", "value", "count"),
    [({"value": 5, "count": None}, 5.0, None), ({"value": 3.5}, 3.5, None)],
)
def test_rating_count_may_be_null_or_absent(
    rating: dict[str, Any], value: float, count: int | None
) -> None:
    decoded = msgspec.json.decode(encode(location(rating=rating)), type=Location)
    assert decoded.attributes.rating is not None
    assert decoded.attributes.rating.value == value
    assert isinstance(decoded.attributes.rating.value, float)
    assert decoded.attributes.rating.count == count


def test_the_new_fields_are_optional() -> None:
    attributes = msgspec.json.decode(encode(location()), type=Location).attributes
    assert (attributes.cuisine, attributes.rating, attributes.price_level) == (None, None, None)


def test_an_unknown_cuisine_is_kept() -> None:
    body = encode(location(cuisine="Martian Fusion Restaurant"))
    assert (
        msgspec.json.decode(body, type=Location).attributes.cuisine == "Martian Fusion Restaurant"
    )


@pytest.fixture
async def api_base_url() -> AsyncIterator[str]:
    """A server answering the locations call with the SDK docs example's 30.x fields."""

    async def locations(request: web.Request) -> web.Response:
        body = {
            "data": [location(**NEW_FIELDS)],
            "included": [
                {"type": "category", "id": CATEGORY_ID, "attributes": {"name": "Food & Beverage"}},
                OFFER,
            ],
            "links": {"self": request.path_qs, "next": None},
        }
        return web.Response(body=encode(body), content_type="application/json")

    app = web.Application()
    app.router.add_get("/v2/issuers/org-1/users/user-1/locations", locations)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_locations_page_with_the_new_fields(api_base_url: str) -> None:
    async with AsyncKard(token="t", organization_id="org-1", base_url=api_base_url) as kard:
        page = await kard.users.rewards.locations(
            "user-1", latitude=39.94, longitude=-75.14, include=["offers", "categories"]
        )
    (place,) = page.data
    assert place.attributes.cuisine == "Pizza Restaurant"
    assert place.attributes.rating is not None
    assert (place.attributes.rating.value, place.attributes.rating.count) == (4.6, 812)
    assert place.attributes.price_level == "$$"
    (offer,) = page.offers_of(place)
    assert [asset.type for asset in offer.attributes.assets] == [
        "IMG_VIEW",
        "BANNER_VIEW",
        "LOCATION_IMG_VIEW",
    ]
    assert offer.attributes.assets[2].url == "https://a.test/front.jpg?t=1"
    assert page.unknown == []
