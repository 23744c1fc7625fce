"""The Kard emulator, exercised over loopback with a raw aiohttp client (not kard_async)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from http.client import HTTPConnection
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from kard_async.testing import (
    BENCHMARK_QUERY,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
    serve,
)
from kard_async.testing._cache import ReadCache
from kard_async.testing._routing import Call, Document, Respond, Route, Router, route
from kard_async.testing._server import start_runner
from kard_async.testing.api import AREAS, ROUTER

ORG = TEST_ORGANIZATION_ID
USER = f"/v2/issuers/{ORG}/users/user-123"
SEED_LOCATION = "5e27318c9b346f00087fba8l"
SEED_OFFER = "5e27318c9b346f00087fbb5c"
REPO = Path(__file__).resolve().parents[1]

Query = list[tuple[str, str]] | dict[str, str] | None


class Api:
    """Minimal raw HTTP helper: fetches a token on first use and decodes JSON."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self._token: str | None = None

    async def token(self) -> str:
        if self._token is None:
            status, _, body = await self.request(
                "POST",
                "/v2/auth/token",
                json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
                auth=False,
            )
            assert status == 200, body
            self._token = body["access_token"]
        return self._token

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Query = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> tuple[int, Any, Any]:
        all_headers = dict(headers or {})
        if auth and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {await self.token()}"
        async with self.session.request(
            method, self.base_url + path, params=params, json=json, data=data, headers=all_headers
        ) as response:
            raw = await response.read()
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["X-Request-Id"]
            return response.status, response.headers, _loads(raw)

    async def get(self, path: str, params: Query = None, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = await self.request("GET", path, params=params, **kwargs)
        return status, body

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = await self.request("POST", path, json=json, **kwargs)
        return status, body


def _loads(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(http: aiohttp.ClientSession, kard_server: EmulatorServer) -> Api:
    return Api(http, kard_server.base_url)


def _event(
    kind: str = "offerAttribution", medium: str = "BROWSE", **attributes: Any
) -> dict[str, Any]:
    base = {"entityId": "offer-1", "eventCode": "VIEW", "medium": medium}
    base["eventDate"] = "2025-01-01T00:00:00Z"
    base.update(attributes)
    return {"type": kind, "attributes": base}


def _miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 3958.8 * math.asin(math.sqrt(a))


def _error(body: Any) -> dict[str, Any]:
    assert isinstance(body["errors"], list)
    assert body["errors"]
    error: dict[str, Any] = body["errors"][0]
    assert set(error) >= {"status", "title", "detail"}
    return error


# --------------------------------------------------------------------------- auth


async def test_token_json_style(api: Api, kard_emulator: KardEmulator) -> None:
    status, _headers, body = await api.request(
        "POST",
        "/v2/auth/token",
        json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
        auth=False,
    )
    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str)
    assert body["access_token"]
    [record] = kard_emulator.token_requests
    assert (record.style, record.target_issuer, record.succeeded) == ("json", None, True)


async def test_token_basic_style(api: Api, kard_emulator: KardEmulator) -> None:
    credentials = base64.b64encode(f"{TEST_CLIENT_ID}:{TEST_CLIENT_SECRET}".encode()).decode()
    basic = {"Authorization": f"Basic {credentials}"}
    status, _, body = await api.request(
        "POST",
        "/v2/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic,
        auth=False,
    )
    assert status == 200
    assert body["token_type"] == "Bearer"
    token = body["access_token"]
    status, _ = await api.get(f"{USER}/offers", headers={"Authorization": f"Bearer {token}"})
    assert status == 200

    status, _, body = await api.request(
        "POST", "/v2/auth/token", data={"grant_type": "password"}, headers=basic, auth=False
    )
    assert status == 400
    assert "grant_type" in _error(body)["detail"]
    status, _, body = await api.request(
        "POST", "/v2/auth/token", data={"x": "1"}, headers=basic, auth=False
    )
    assert status == 400
    status, _, body = await api.request(
        "POST", "/v2/auth/token", data={"grant_type": "client_credentials"}, auth=False
    )
    assert status == 400
    assert "Authorization" in _error(body)["detail"]
    styles = [(r.style, r.succeeded) for r in kard_emulator.token_requests]
    assert styles == [("basic", True), ("basic", False), ("basic", False), ("basic", False)]


async def test_token_bad_credentials(api: Api, kard_emulator: KardEmulator) -> None:
    status, _, body = await api.request(
        "POST",
        "/v2/auth/token",
        json={"client_id": TEST_CLIENT_ID, "client_secret": "nope"},
        auth=False,
    )
    assert status == 401
    assert _error(body)["status"] == "401"
    wrong = base64.b64encode(b"someone:else").decode()
    status, _, _ = await api.request(
        "POST",
        "/v2/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {wrong}"},
        auth=False,
    )
    assert status == 401
    status, _, body = await api.request(
        "POST", "/v2/auth/token", json={"client_id": TEST_CLIENT_ID}, auth=False
    )
    assert status == 400
    assert "client_secret" in _error(body)["detail"]
    assert [r.succeeded for r in kard_emulator.token_requests] == [False, False, False]


async def test_target_issuer_locks_token(api: Api, kard_emulator: KardEmulator) -> None:
    status, _, body = await api.request(
        "POST",
        "/v2/auth/token",
        json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
        headers={"X-Kard-Target-Issuer": "org-999"},
        auth=False,
    )
    assert status == 200
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    status, _ = await api.get("/v2/issuers/org-999/users/u/offers", headers=bearer)
    assert status == 200
    status, body = await api.get(f"{USER}/offers", headers=bearer)
    assert status == 403
    assert _error(body)["title"] == "Forbidden"
    assert kard_emulator.token_requests[0].target_issuer == "org-999"


async def test_bearer_token_required(api: Api) -> None:
    status, headers, body = await api.request("GET", f"{USER}/offers", auth=False)
    assert status == 401
    assert body == {
        "errors": [
            {"status": "401", "title": "Unauthorized", "detail": body["errors"][0]["detail"]}
        ]
    }
    first_id = headers["X-Request-Id"]
    for value in ("Bearer nope", "Basic abc", "Bearer"):
        status, headers, body = await api.request(
            "GET", f"{USER}/offers", headers={"Authorization": value}
        )
        assert status == 401
        assert _error(body)["status"] == "401"
        assert headers["X-Request-Id"] != first_id


async def test_org_mismatch_is_403(api: Api) -> None:
    status, body = await api.get("/v2/issuers/other-org/users/u/locations")
    assert status == 403
    assert _error(body)["status"] == "403"


async def test_token_expiry(api: Api, kard_emulator: KardEmulator) -> None:
    kard_emulator.token_ttl = 0.5
    _status, _, body = await api.request(
        "POST",
        "/v2/auth/token",
        json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
        auth=False,
    )
    assert body["expires_in"] == 0  # rounded down: never longer than the real lifetime
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await api.get(f"{USER}/offers", headers=bearer))[0] == 200
    await asyncio.sleep(0.6)
    assert (await api.get(f"{USER}/offers", headers=bearer))[0] == 401
    kard_emulator.reset()
    assert kard_emulator.token_ttl == 3600.0


async def test_revoke_tokens(api: Api, kard_emulator: KardEmulator) -> None:
    assert (await api.get(f"{USER}/offers"))[0] == 200
    kard_emulator.revoke_tokens()
    assert (await api.get(f"{USER}/offers"))[0] == 401


async def test_unknown_route_and_wrong_method(api: Api) -> None:
    status, body = await api.get("/v2/nowhere")
    assert status == 404
    assert _error(body)["status"] == "404"
    status, body = await api.get(f"{USER}/offers/")
    assert status == 404
    status, headers, body = await api.request("DELETE", f"{USER}/offers")
    assert status == 405
    assert headers["Allow"] == "GET"
    status, _, _ = await api.request("GET", "/v2/auth/token", auth=False)
    assert status == 405


def test_routes_are_collected_from_every_area() -> None:
    names = [area.__name__.rsplit(".", 1)[1] for area in AREAS]
    assert names == sorted(names)
    assert {"attributions", "auth", "rewards"} <= set(names)
    user = "/v2/issuers/{org}/users/{user}"
    assert {(r.method, r.template, r.auth, r.status) for r in ROUTER.routes} >= {
        ("POST", "/v2/auth/token", False, 200),
        ("POST", f"{user}/attributions", True, 201),
        ("POST", f"{user}/offers/{{offer}}/activate", True, 200),
        ("POST", f"{user}/offers/{{offer}}/boost", True, 200),
        ("POST", f"{user}/placements/{{placement}}/slot/{{slot}}/activate", True, 200),
        ("GET", f"{user}/offers", True, 200),
        ("GET", f"{user}/locations", True, 200),
        ("GET", f"{user}/placements/{{placement}}/content", True, 200),
    }
    assert all(declared.template.startswith("/v2/") for declared in ROUTER.routes)


def test_router_matching_and_declaration_errors() -> None:
    area = ModuleType("area")

    @route("GET", "/v2/things/{thing}")
    def get_thing(call: Call) -> Document:
        return {}

    @route("DELETE", "/v2/things/{thing}")
    def delete_thing(call: Call) -> Document:
        return {}

    area.get_thing, area.delete_thing = get_thing, delete_thing
    get_thing.__module__ = delete_thing.__module__ = "area"
    other = ModuleType("other")
    other.get_thing = get_thing  # imported from another area: routed once, not twice
    router = Router((area, other))
    assert len(router.routes) == 2
    methods, params = router.match("/v2/things/a%2Fb%3Fc") or ({}, {})
    assert sorted(methods) == ["DELETE", "GET"]
    assert params == {"thing": "a/b?c"}
    assert router.match("/v2/%74hings/x") is not None  # literal segments are decoded too
    for unmatched in ("/v2/things/", "/v2/things/a/b", "/v2/thing/a", "v2/things/a"):
        assert router.match(unmatched) is None
    twice = ModuleType("twice")
    for name in ("first", "second"):
        handler = route("GET", "/v2/things/{thing}")(lambda call: {})
        handler.__module__ = "twice"
        setattr(twice, name, handler)
    with pytest.raises(ValueError, match="two handlers for GET /v2/things/"):
        Router((twice,))
    with pytest.raises(ValueError, match="must start with '/'"):
        route("GET", "v2/things")


async def test_every_request_is_recorded(api: Api, kard_emulator: KardEmulator) -> None:
    kard_emulator.inject(Fault("status", status=500, path="offers$"))
    await api.get(f"{USER}/offers", params={"page[size]": "2"})
    await api.get("/v2/nope")
    requests = kard_emulator.requests
    assert [(r.method, r.path) for r in requests] == [
        ("POST", "/v2/auth/token"),
        ("GET", f"{USER}/offers"),
        ("GET", "/v2/nope"),
    ]
    assert json.loads(requests[0].body)["client_id"] == TEST_CLIENT_ID
    assert requests[1].query_string == "page%5Bsize%5D=2"
    assert requests[1].headers["Authorization"].startswith("Bearer ")


async def test_encoded_slash_in_user_id(api: Api, kard_emulator: KardEmulator) -> None:
    user = f"/v2/issuers/{ORG}/users/user%2F1"
    status, body = await api.get(f"{user}/locations", {"page[size]": "1"})
    assert status == 200
    assert body["links"]["next"].startswith(f"{user}/locations?")
    status, _ = await api.post(f"{user}/attributions", {"data": [_event()]})
    assert status == 201
    assert kard_emulator.attribution_events[0].user_id == "user/1"
    assert kard_emulator.requests[-1].path == f"{user}/attributions"
    status, _ = await api.post(f"/v2/issuers/{ORG}/users/a%3Fb%23c/offers/{SEED_OFFER}/activate")
    assert status == 200
    assert kard_emulator.attribution_events[-1].user_id == "a?b#c"


async def test_links_carry_the_users_own_path(api: Api) -> None:
    query = {"page[size]": "2", "supportedComponents": "cta"}
    other = f"/v2/issuers/{ORG}/users/other%20user"
    _, mine = await api.get(f"{USER}/offers", query)
    _, theirs = await api.get(f"{other}/offers", query)
    _, mine_again = await api.get(f"{USER}/offers", query)
    assert mine == mine_again
    assert mine["links"]["next"].startswith(f"{USER}/offers?page[after]=")
    assert theirs["links"]["next"].startswith(f"{other}/offers?page[after]=")
    action = theirs["data"][0]["attributes"]["components"]["cta"]["action"]["url"]
    assert action == f"{other}/offers/{theirs['data'][0]['id']}/activate"
    assert [o["id"] for o in mine["data"]] == [o["id"] for o in theirs["data"]]


# --------------------------------------------------------------------------- locations


async def test_locations_seed_example(api: Api) -> None:
    status, body = await api.get(
        f"{USER}/locations",
        {
            "page[size]": "1",
            "filter[latitude]": "39.9419429",
            "filter[longitude]": "-75.1446869",
            "filter[radius]": "10",
            "include": "offers,categories",
        },
    )
    assert status == 200
    [location] = body["data"]
    assert location["type"] == "location"
    assert location["id"] == SEED_LOCATION
    attributes = location["attributes"]
    assert attributes["name"] == "Worlds Greatest Chicken"
    assert attributes["coordinates"] == {"longitude": -75.1446869, "latitude": 39.9419429}
    assert attributes["operationHours"]["weekdayText"][0] == "Monday: 9:00 AM \u2013 5:00 PM"
    # SDK 30.x fields (rating and price level from the SDK's example)
    assert attributes["cuisine"] == "Fried Chicken Restaurant"
    assert attributes["rating"] == {"value": 4.6, "count": 812}
    assert attributes["priceLevel"] == "$$"
    assert location["relationships"]["offers"]["data"] == [
        {"type": "standardOffer", "id": SEED_OFFER}
    ]
    included = {(item["type"], item["id"]): item for item in body["included"]}
    assert included[("category", "65920081b524d126068de24a")]["attributes"] == {
        "name": "Food & Beverage"
    }
    offer = included[("standardOffer", SEED_OFFER)]["attributes"]
    assert offer["userReward"] == {"type": "PERCENT", "value": 5.7}
    assert "components" not in offer
    links = body["links"]
    assert links["prev"] is None
    assert links["self"] == (
        f"{USER}/locations?page[size]=1&filter[latitude]=39.9419429"
        "&filter[longitude]=-75.1446869&filter[radius]=10&include=offers,categories"
    )
    assert links["next"].startswith(f"{USER}/locations?page[after]=")


async def test_locations_venue_attributes(api: Api) -> None:
    _, body = await api.get(f"{USER}/locations", {"page[size]": "1000"})
    venues = [loc["attributes"] for loc in body["data"] if "cuisine" in loc["attributes"]]
    assert 0 < len(venues) < len(body["data"])  # restaurants and venues only
    for attributes in venues:
        assert isinstance(attributes["cuisine"], str)
        assert attributes["priceLevel"] in ("$", "$$", "$$$", "$$$$")
        rating = attributes["rating"]
        assert 0 <= rating["value"] <= 5
        assert rating["count"] is None or rating["count"] > 0
    assert any(attributes["rating"]["count"] is None for attributes in venues)


async def test_locations_radius_search(api: Api) -> None:
    lat, lon = 39.9526, -75.1652
    center = {"filter[latitude]": str(lat), "filter[longitude]": str(lon), "page[size]": "1000"}
    _, default = await api.get(f"{USER}/locations", center)
    _, ten = await api.get(f"{USER}/locations", {**center, "filter[radius]": "10"})
    _, two = await api.get(f"{USER}/locations", {**center, "filter[radius]": "2"})
    _, everything = await api.get(f"{USER}/locations", {"page[size]": "1000"})
    assert default["data"] == ten["data"]
    assert 0 < len(two["data"]) < len(ten["data"]) < len(everything["data"])
    assert len(everything["data"]) >= 300
    distances = [
        _miles(
            lat,
            lon,
            d["attributes"]["coordinates"]["latitude"],
            d["attributes"]["coordinates"]["longitude"],
        )
        for d in ten["data"]
    ]
    assert max(distances) <= 10.0
    assert distances == sorted(distances)
    inside = {
        d["id"]
        for d in everything["data"]
        if _miles(
            lat,
            lon,
            d["attributes"]["coordinates"]["latitude"],
            d["attributes"]["coordinates"]["longitude"],
        )
        <= 9.99
    }
    assert inside <= {d["id"] for d in ten["data"]}
    # Without coordinates the radius is ignored and the order is by id.
    _, ignored = await api.get(f"{USER}/locations", {"filter[radius]": "1", "page[size]": "1000"})
    assert ignored["data"] == everything["data"]
    ids = [d["id"] for d in everything["data"]]
    assert ids == sorted(ids)


async def test_locations_filters(api: Api) -> None:
    async def ids(**query: str) -> list[dict[str, Any]]:
        status, body = await api.get(f"{USER}/locations", {"page[size]": "1000", **query})
        assert status == 200, body
        data: list[dict[str, Any]] = body["data"]
        return data

    chicago = await ids(**{"filter[city]": "chiCAGO"})
    assert chicago
    assert all(d["attributes"]["address"]["city"] == "Chicago" for d in chicago)
    illinois = await ids(**{"filter[state]": "IL"})
    assert len(illinois) > len(chicago)
    assert all(d["attributes"]["address"]["state"] == "IL" for d in illinois)
    assert await ids(**{"filter[state]": "PR"}) == []
    zipped = await ids(**{"filter[zipCode]": "19147"})
    assert zipped
    assert all(d["attributes"]["address"]["zipCode"] == "19147" for d in zipped)
    assert await ids(**{"filter[zipCode]": "1914"}) == []
    named = await ids(**{"filter[name]": "greatest chick"})
    assert named
    assert all(d["attributes"]["name"] == "Worlds Greatest Chicken" for d in named)
    gas = await ids(**{"filter[category]": "Gas"})
    _, gas_body = await api.get(
        f"{USER}/locations",
        {"page[size]": "1000", "filter[category]": "Gas", "include": "categories"},
    )
    assert gas
    assert {c["attributes"]["name"] for c in gas_body["included"]} == {"Gas"}
    food_url = f"{USER}/locations?filter[category]=Food%20%26%20Beverage&page[size]=1000"
    status, food = await api.get(food_url)
    status_plus, food_plus = await api.get(
        f"{USER}/locations?filter[category]=Food+%26+Beverage&page[size]=1000"
    )
    assert status == status_plus == 200
    assert food["data"] == food_plus["data"]
    assert food["data"]
    combined = await ids(
        **{
            "filter[latitude]": "41.8858",
            "filter[longitude]": "-87.6229",
            "filter[radius]": "30",
            "filter[city]": "Evanston",
        }
    )
    assert combined
    assert all(d["attributes"]["address"]["city"] == "Evanston" for d in combined)
    by_name = await ids(sort="-locationName", **{"filter[state]": "TX"})
    names = [d["attributes"]["name"].casefold() for d in by_name]
    assert names == sorted(names, reverse=True)


async def test_locations_include_and_components(api: Api) -> None:
    status, body = await api.get(
        f"{USER}/locations?page[size]=5&include=offers&include=categories"
        "&supportedComponents=cta,shortDescription&supportedComponents=progressBar"
    )
    assert status == 200
    types = {item["type"] for item in body["included"]}
    assert types == {"standardOffer", "category"}
    related = {r["id"] for d in body["data"] for r in d["relationships"]["offers"]["data"]}
    offers = [item for item in body["included"] if item["type"] == "standardOffer"]
    assert {o["id"] for o in offers} == related
    for offer in offers:
        components = offer["attributes"]["components"]
        assert set(components) <= {"cta", "shortDescription", "progressBar"}
        assert components["cta"]["action"] == {
            "url": f"{USER}/offers/{offer['id']}/activate",
            "method": "POST",
        }
        assert components["cta"]["buttonStyle"] in ("PRIMARY", "SECONDARY", "DISABLED")
        assert "INSTORE" in offer["attributes"]["purchaseChannel"]
    assert "include=offers,categories" in body["links"]["self"]
    assert "supportedComponents=cta,shortDescription,progressBar" in body["links"]["self"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"filter[latitude]": "39.9"}, "filter[longitude]"),
        ({"filter[longitude]": "-75.1"}, "filter[latitude]"),
        ({"filter[latitude]": "north", "filter[longitude]": "-75.1"}, "filter[latitude]"),
        (
            {"filter[latitude]": "39.9", "filter[longitude]": "-75.1", "filter[radius]": "0"},
            "filter[radius]",
        ),
        ({"filter[radius]": "ten"}, "filter[radius]"),
        ({"filter[state]": "ZZ"}, "filter[state]"),
        ({"filter[category]": "Food"}, "filter[category]"),
        ({"sort": "name"}, "sort"),
        ({"include": "offers,merchants"}, "include"),
        ({"supportedComponents": "banner"}, "supportedComponents"),
        ({"page[size]": "0"}, "page[size]"),
        ({"page[size]": "1001"}, "page[size]"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"page[after]": "not-a-cursor!"}, "page[after]"),
        ({"page[before]": "bm9wZQ"}, "page[before]"),
    ],
)
async def test_locations_invalid_parameters(
    api: Api, query: dict[str, str], parameter: str
) -> None:
    status, body = await api.get(f"{USER}/locations", query)
    assert status == 400
    error = _error(body)
    assert error["source"] == {"parameter": parameter}
    assert parameter in error["detail"]


async def test_cursor_walk_forward_and_back(api: Api, http: aiohttp.ClientSession) -> None:
    query = {
        "filter[latitude]": "39.9526",
        "filter[longitude]": "-75.1652",
        "filter[radius]": "25",
        "filter[category]": "Food & Beverage",
    }
    _, full = await api.get(f"{USER}/locations", {**query, "page[size]": "1000"})
    expected = [d["id"] for d in full["data"]]
    assert len(expected) > 12

    pages: list[list[str]] = []
    selfs: list[str] = []
    status, body = await api.get(f"{USER}/locations", {**query, "page[size]": "4"})
    while True:
        assert status == 200
        pages.append([d["id"] for d in body["data"]])
        selfs.append(body["links"]["self"])
        if body["links"]["next"] is None:
            break
        assert "filter[category]=Food%20%26%20Beverage" in body["links"]["next"]
        status, body = await api.get(body["links"]["next"])  # followed verbatim
    assert [i for page in pages for i in page] == expected
    assert all(len(page) == 4 for page in pages[:-1])
    assert 0 < len(pages[-1]) <= 4

    backwards: list[list[str]] = [pages[-1]]
    while body["links"]["prev"] is not None:
        status, body = await api.get(body["links"]["prev"])
        assert status == 200
        backwards.append([d["id"] for d in body["data"]])
    assert backwards[::-1] == pages
    # A self link reproduces its page.
    _, again = await api.get(selfs[2])
    assert [d["id"] for d in again["data"]] == pages[2]


# --------------------------------------------------------------------------- offers


async def test_offers_filters_sort_include_meta(api: Api) -> None:
    status, body = await api.get(f"{USER}/offers", {"page[size]": "1000"})
    assert status == 200
    offers = body["data"]
    assert len(offers) >= 51
    assert all(o["type"] == "standardOffer" for o in offers)
    assert "included" not in body
    assert len(body["meta"]["availableCategories"]) == 17
    _, default_page = await api.get(f"{USER}/offers")
    assert len(default_page["data"]) == 10

    _, found = await api.get(f"{USER}/offers", {"filter[search]": "CHICKEN"})
    assert [o["id"] for o in found["data"]] == [SEED_OFFER]
    _, by_category_name = await api.get(
        f"{USER}/offers", {"filter[search]": "pets", "page[size]": "100"}
    )
    assert len(by_category_name["data"]) == 3

    _, online = await api.get(
        f"{USER}/offers", {"filter[purchaseChannel]": "ONLINE", "page[size]": "100"}
    )
    assert all("ONLINE" in o["attributes"]["purchaseChannel"] for o in online["data"])
    _, both = await api.get(
        f"{USER}/offers?filter[purchaseChannel]=ONLINE&filter[purchaseChannel]=INSTORE"
        "&page[size]=100"
    )
    _, csv = await api.get(f"{USER}/offers?filter[purchaseChannel]=INSTORE,ONLINE&page[size]=100")
    assert len(both["data"]) == len(csv["data"]) == len(offers)

    _, targeted = await api.get(
        f"{USER}/offers", {"filter[isTargeted]": "true", "page[size]": "100"}
    )
    _, untargeted = await api.get(
        f"{USER}/offers", {"filter[isTargeted]": "false", "page[size]": "100"}
    )
    assert all(o["attributes"]["isTargeted"] for o in targeted["data"])
    assert not any(o["attributes"]["isTargeted"] for o in untargeted["data"])
    assert len(targeted["data"]) + len(untargeted["data"]) == len(offers)

    _, travel = await api.get(
        f"{USER}/offers",
        {"filter[category]": "Travel", "include": "categories", "page[size]": "1"},
    )
    assert [c["attributes"]["name"] for c in travel["meta"]["availableCategories"]] == ["Travel"]
    assert travel["included"] == travel["meta"]["availableCategories"]
    travel_id = travel["included"][0]["id"]
    assert travel["data"][0]["relationships"]["category"]["data"] == [
        {"type": "category", "id": travel_id}
    ]

    # availableCategories covers the whole result, not only the page.
    _, small = await api.get(f"{USER}/offers", {"page[size]": "2", "include": "categories"})
    assert len(small["meta"]["availableCategories"]) == 17
    assert len(small["included"]) <= 2


async def test_offers_sorting(api: Api) -> None:
    _, body = await api.get(f"{USER}/offers", {"sort": "-name", "page[size]": "100"})
    names = [o["attributes"]["name"].casefold() for o in body["data"]]
    assert names == sorted(names, reverse=True)
    _, body = await api.get(
        f"{USER}/offers", {"sort": "expirationDate,-startDate", "page[size]": "100"}
    )
    keys = [(o["attributes"]["expirationDate"], o["attributes"]["startDate"]) for o in body["data"]]
    for first, second in itertools.pairwise(keys):
        assert first[0] < second[0] or (first[0] == second[0] and first[1] >= second[1])
    assert "sort=expirationDate,-startDate" in body["links"]["self"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"filter[purchaseChannel]": "MAIL"}, "filter[purchaseChannel]"),
        ({"filter[isTargeted]": "yes"}, "filter[isTargeted]"),
        ({"filter[category]": "Cars"}, "filter[category]"),
        ({"sort": "price"}, "sort"),
        ({"include": "offers"}, "include"),
        ({"supportedComponents": "video"}, "supportedComponents"),
    ],
)
async def test_offers_invalid_parameters(api: Api, query: dict[str, str], parameter: str) -> None:
    status, body = await api.get(f"{USER}/offers", query)
    assert status == 400
    assert _error(body)["source"] == {"parameter": parameter}


async def test_offer_components(api: Api) -> None:
    every = "shortDescription,longDescription,baseReward,boostedReward,cta,tags,detailTags,"
    _, body = await api.get(
        f"{USER}/offers",
        {"supportedComponents": every + "logoFlare,progressBar", "page[size]": "100"},
    )
    components = [o["attributes"]["components"] for o in body["data"]]
    assert all(isinstance(c["tags"], list) and c["baseReward"] for c in components)
    bars = [c["progressBar"] for c in components if "progressBar" in c]
    assert bars
    for bar in bars:
        assert len(bar["segments"]["progress"]) == bar["total"]
        assert set(bar) >= {"total", "currentProgress", "label", "segmented", "labels"}
    assert all(c["logoFlare"]["borderColor"] in ("PRIMARY", "SECONDARY") for c in components)


# --------------------------------------------------------------------------- placements


async def test_placement_content_shapes(api: Api) -> None:
    base = f"{USER}/placements"
    status, standard = await api.get(f"{base}/placement-1/content", {"include": "categories"})
    assert status == 200
    assert standard["meta"]["placementName"] == "Home Feed"
    assert all(o["type"] == "standardOffer" for o in standard["data"])
    assert standard["data"]
    assert standard["links"]["prev"] is None
    assert standard["links"]["next"] is None
    assert {c["type"] for c in standard["included"]} == {"category"}

    status, batch = await api.get(f"{base}/placement-batch-1/content")
    assert status == 200
    assert "links" not in batch
    assert [s["id"] for s in batch["data"]] == ["slot-1", "slot-2", "slot-3"]
    for slot in batch["data"]:
        attributes = slot["attributes"]
        assert slot["type"] == "placementBatch"
        assert attributes["isActive"] is True
        assert "lastActivatedAt" not in attributes
        assert "expiresAt" not in attributes
        assert "cta" in attributes["components"]
        assert "logoFlare" not in attributes["components"]
        assert attributes["components"]["cta"]["action"]["url"].endswith(
            f"/placements/placement-batch-1/slot/{slot['id']}/activate"
        )
        assert attributes["assets"][0]["type"] == "IMG_VIEW"
        categories = {o["relationships"]["category"]["data"][0]["id"] for o in attributes["offers"]}
        assert len(categories) == 1
        assert attributes["offers"]

    status, group = await api.get(f"{base}/placement-group-1/content")
    assert status == 200
    assert group["meta"]["placementName"]
    assert all(
        s["attributes"]["isActive"] and "components" not in s["attributes"] for s in group["data"]
    )

    for placement in ("placement-email-1", "placement-push-1"):
        status, body = await api.get(f"{base}/{placement}/content")
        assert status == 400
        assert _error(body)["status"] == "400"
    status, body = await api.get(f"{base}/nope/content")
    assert status == 404


async def test_slot_activation(api: Api, kard_emulator: KardEmulator) -> None:
    path = f"{USER}/placements/placement-batch-1/slot/slot-2/activate"
    status, body = await api.post(path)
    assert status == 200
    data = body["data"]
    assert data["type"] == "placementSlotAttribution"
    attributes = data["attributes"]
    assert (attributes["placementId"], attributes["slotId"]) == ("placement-batch-1", "slot-2")
    assert (attributes["eventCode"], attributes["medium"]) == ("ACTIVATE", "CTA")
    assert attributes["eventDate"].endswith("Z")
    assert attributes["offerIds"]

    events = kard_emulator.attribution_events
    assert [e.type for e in events] == ["placementSlotAttribution"] + ["offerAttribution"] * len(
        attributes["offerIds"]
    )
    assert all(e.source == "placement_slot" and e.job_id == data["id"] for e in events)
    assert events[0].attributes["entityId"] == "slot-2"
    assert events[0].attributes["state"] == {"placementId": "placement-batch-1", "slotId": "slot-2"}
    assert [e.attributes["entityId"] for e in events[1:]] == attributes["offerIds"]

    _, content = await api.get(f"{USER}/placements/placement-batch-1/content")
    slots = {s["id"]: s["attributes"] for s in content["data"]}
    assert slots["slot-2"]["lastActivatedAt"]
    assert slots["slot-2"]["expiresAt"]
    assert "logoFlare" in slots["slot-2"]["components"]
    assert "cta" not in slots["slot-2"]["components"]
    assert "cta" in slots["slot-1"]["components"]
    # Activation is per user.
    _, other = await api.get(
        f"/v2/issuers/{ORG}/users/someone-else/placements/placement-batch-1/content"
    )
    assert "lastActivatedAt" not in other["data"][1]["attributes"]

    status, _ = await api.post(f"{USER}/placements/placement-1/slot/slot-1/activate")
    assert status == 400
    status, _ = await api.post(f"{USER}/placements/placement-batch-1/slot/slot-9/activate")
    assert status == 404
    status, _ = await api.post(f"{USER}/placements/nope/slot/slot-1/activate")
    assert status == 404


# --------------------------------------------------------------------------- attributions


async def test_attributions_recorded(api: Api, kard_emulator: KardEmulator) -> None:
    events = [
        _event(entityId="60e4ba1da31c5a22a144c075", medium="SEARCH", futureField=1),
        _event(
            "notificationAttribution",
            "PUSH",
            eventCode="IMPRESSION",
            eventDate="2025-01-01T00:00:00.123+02:00",
        ),
        _event(
            "placementSlotAttribution",
            "CTA",
            eventCode="ACTIVATE",
            entityId="slot-1",
            state={
                "rank": 1,
                "filters": [{"name": "category", "value": "Gas"}],
                "placementId": "placement-batch-1",
                "slotId": "slot-1",
            },
        ),
    ]
    status, body = await api.post(f"{USER}/attributions", {"data": events})
    assert status == 201
    job = body["data"]
    assert job["type"] == "job"
    assert len(job["id"]) == 36
    assert job["attributes"] == {
        "status": "queued",
        "message": "Attribution events are queued for processing",
    }
    assert kard_emulator.attribution_event_count == 3
    received = kard_emulator.attribution_events
    assert [(e.type, e.attributes) for e in received] == [
        (e["type"], e["attributes"]) for e in events
    ]
    assert all(
        (e.organization_id, e.user_id, e.job_id, e.source)
        == (ORG, "user-123", job["id"], "attributions")
        for e in received
    )


@pytest.mark.parametrize(
    ("event", "pointer", "words"),
    [
        (_event(medium="CTA", kind="x"), "/data/1/type", ["x", "offerAttribution"]),
        (_event(medium="FAX"), "/data/1/attributes/medium", ["FAX", "BROWSE", "PUSH"]),
        (
            _event("notificationAttribution", "BROWSE"),
            "/data/1/attributes/medium",
            ["BROWSE", "notificationAttribution", "PUSH, EMAIL"],
        ),
        (_event("placementSlotAttribution", "PUSH"), "/data/1/attributes/medium", ["CTA"]),
        (_event(eventCode="CLICK"), "/data/1/attributes/eventCode", ["CLICK", "IMPRESSION"]),
        (_event(entityId=""), "/data/1/attributes/entityId", ["entityId"]),
        (_event(entityId=5), "/data/1/attributes/entityId", ["entityId"]),
        (_event(eventDate="2025-01-01T00:00:00"), "/data/1/attributes/eventDate", ["timezone"]),
        (_event(eventDate="2025-02-30T00:00:00Z"), "/data/1/attributes/eventDate", ["eventDate"]),
        (_event(eventDate="yesterday"), "/data/1/attributes/eventDate", ["yesterday"]),
        (_event(state={"rank": 0}), "/data/1/attributes/state/rank", ["rank"]),
        (
            _event(state={"filters": [{"name": "x"}]}),
            "/data/1/attributes/state/filters/0/value",
            ["value"],
        ),
        ({"type": "offerAttribution"}, "/data/1/attributes", ["attributes"]),
        ("nope", "/data/1", ["object"]),
    ],
)
async def test_attribution_validation(
    api: Api, kard_emulator: KardEmulator, event: Any, pointer: str, words: list[str]
) -> None:
    status, body = await api.post(f"{USER}/attributions", {"data": [_event(), event, _event()]})
    assert status == 400
    error = _error(body)
    assert error["source"] == {"pointer": pointer}
    for word in words:
        assert word in error["detail"]
    assert kard_emulator.attribution_events == []


async def test_attribution_body_errors(api: Api, kard_emulator: KardEmulator) -> None:
    documents: list[Any] = [{"data": []}, {"data": {}}, {}, [], {"data": [_event()] * 101}]
    for document in documents:
        status, body = await api.post(f"{USER}/attributions", document)
        assert status == 400
        assert _error(body)["source"] == {"pointer": "/data"}
    status, _, body = await api.request("POST", f"{USER}/attributions", data=b"{not json")
    assert status == 400
    assert "JSON" in _error(body)["detail"]
    status, body = await api.post(
        f"{USER}/attributions", {"data": [_event(medium="X"), _event(eventCode="Y")]}
    )
    assert [e["source"]["pointer"] for e in body["errors"]] == [
        "/data/0/attributes/medium",
        "/data/1/attributes/eventCode",
    ]
    status, _ = await api.post(f"{USER}/attributions", {"data": [_event()] * 100})
    assert status == 201
    assert len(kard_emulator.attribution_events) == 100


async def test_activate_and_boost(api: Api, kard_emulator: KardEmulator) -> None:
    status, body = await api.post(f"{USER}/offers/{SEED_OFFER}/activate")
    assert status == 200
    assert "included" not in body
    data = body["data"]
    assert data["type"] == "offerAttribution"
    assert data["attributes"]["entityId"] == SEED_OFFER
    assert (data["attributes"]["eventCode"], data["attributes"]["medium"]) == ("ACTIVATE", "CTA")

    status, _, body = await api.request(
        "POST",
        f"{USER}/offers/{SEED_OFFER}/boost",
        params={"include": "offer", "supportedComponents": "boostedReward"},
    )
    assert status == 200
    assert body["data"]["attributes"]["eventCode"] == "BOOST"
    [offer] = body["included"]
    assert offer["type"] == "standardOffer"
    assert offer["id"] == SEED_OFFER
    assert set(offer["attributes"]["components"]) == {"boostedReward"}

    events = kard_emulator.attribution_events
    assert [(e.source, e.type, e.attributes["eventCode"]) for e in events] == [
        ("activate", "offerAttribution", "ACTIVATE"),
        ("boost", "offerAttribution", "BOOST"),
    ]
    assert events[0].job_id == data["id"]
    assert events[0].attributes == data["attributes"]

    status, _, body = await api.request(
        "POST", f"{USER}/offers/{SEED_OFFER}/activate", params={"include": "categories"}
    )
    assert status == 400
    assert _error(body)["source"] == {"parameter": "include"}
    status, body = await api.post(f"{USER}/offers/missing/activate")
    assert status == 404
    assert len(kard_emulator.attribution_events) == 2


# --------------------------------------------------------------------------- faults


async def test_status_fault(api: Api, kard_emulator: KardEmulator) -> None:
    await api.token()
    fault = kard_emulator.inject(
        Fault(
            "status",
            status=429,
            retry_after="1",
            method="post",
            path="/attributions$",
            times=2,
            skip=1,
        )
    )
    results = []
    for _ in range(4):
        status, headers, body = await api.request(
            "POST", f"{USER}/attributions", json={"data": [_event()]}
        )
        results.append((status, headers.get("Retry-After")))
        if status == 429:
            assert _error(body) == {
                "status": "429",
                "title": "Too Many Requests",
                "detail": _error(body)["detail"],
            }
    assert results == [(201, None), (429, "1"), (429, "1"), (201, None)]
    assert fault.applied == 2
    assert len(kard_emulator.attribution_events) == 2  # faulted requests were not processed
    assert (await api.get(f"{USER}/offers"))[0] == 200  # GET does not match
    assert len(kard_emulator.requests) == 6


async def test_fault_probability_is_seeded(api: Api, kard_emulator: KardEmulator) -> None:
    async def run() -> list[int]:
        kard_emulator.clear_faults()
        kard_emulator.inject(
            Fault("status", status=500, probability=0.5, seed=7, times=None, path="offers")
        )
        return [(await api.get(f"{USER}/offers"))[0] for _ in range(12)]

    first = await run()
    assert first == await run()
    assert set(first) == {200, 500}


async def test_latency_fault(api: Api, kard_emulator: KardEmulator) -> None:
    await api.token()
    slow = kard_emulator.inject(Fault("latency", delay=0.15, path="offers"))
    kard_emulator.inject(Fault("latency", delay=0.1, path="offers"))
    kard_emulator.inject(Fault("status", status=502, path="offers"))
    start = time.perf_counter()
    status, _ = await api.get(f"{USER}/offers")
    assert status == 502
    assert time.perf_counter() - start >= 0.25
    assert slow.applied == 1
    start = time.perf_counter()
    assert (await api.get(f"{USER}/offers"))[0] == 200
    assert time.perf_counter() - start < 0.1


async def test_drop_before(api: Api, kard_emulator: KardEmulator) -> None:
    await api.token()
    fault = kard_emulator.inject(Fault("drop_before", path="attributions$"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(f"{USER}/attributions", {"data": [_event()]})
    assert fault.applied == 1
    assert kard_emulator.attribution_events == []
    assert kard_emulator.requests[-1].path == f"{USER}/attributions"
    assert (await api.post(f"{USER}/attributions", {"data": [_event()]}))[0] == 201


async def test_drop_after(api: Api, kard_emulator: KardEmulator) -> None:
    await api.token()
    kard_emulator.inject(Fault("drop_after", method="POST", path="attributions$"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(f"{USER}/attributions", {"data": [_event(), _event()]})
    events = kard_emulator.attribution_events
    assert len(events) == 2
    assert events[0].source == "attributions"


async def test_truncate_and_malformed(api: Api, kard_emulator: KardEmulator) -> None:
    await api.token()
    kard_emulator.inject(Fault("truncate", path="locations"))
    kard_emulator.inject(Fault("malformed", path="offers"))
    with pytest.raises(aiohttp.ClientPayloadError):
        await api.get(f"{USER}/locations", {"page[size]": "50"})
    url = f"{api.base_url}{USER}/offers"
    async with api.session.get(
        url, headers={"Authorization": f"Bearer {await api.token()}"}
    ) as response:
        assert response.status == 200
        raw = await response.read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert (await api.get(f"{USER}/locations"))[0] == 200


async def test_extras_fault(api: Api, kard_emulator: KardEmulator) -> None:
    await api.token()
    kard_emulator.inject(Fault("extras", times=None))
    _, plain_offers = await api.get(f"{USER}/offers", {"supportedComponents": "cta"})
    _, body = await api.get(f"{USER}/offers", {"supportedComponents": "cta"})
    assert "x-future-top-level" in body
    offer = body["data"][0]
    assert "x-future-resource-member" in offer
    assert "futureAttribute" in offer["attributes"]
    assert "CRYPTO" in offer["attributes"]["purchaseChannel"]
    assert offer["attributes"]["userReward"]["type"] == "TIERED"
    assert any(a["type"] == "VIDEO_VIEW" for a in offer["attributes"]["assets"])
    assert offer["attributes"]["components"]["cta"]["buttonStyle"] == "GHOST"
    assert "brand" in offer["relationships"]
    assert {i["type"] for i in body["included"]} >= {"merchantPromo", "premiumOffer"}
    assert plain_offers == body  # both requests were decorated
    status, job = await api.post(f"{USER}/attributions", {"data": [_event()]})
    assert status == 201
    assert job["data"]["attributes"]["status"] == "processing"
    kard_emulator.clear_faults()
    _, clean = await api.get(f"{USER}/offers", {"supportedComponents": "cta"})
    assert "x-future-top-level" not in clean
    assert "included" not in clean


async def test_quiesce_ends_leftover_requests(
    api: Api, kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    await api.token()
    kard_emulator.inject(Fault("latency", delay=5, path="attributions$"))
    pending = asyncio.create_task(api.post(f"{USER}/attributions", {"data": [_event()]}))
    for _ in range(500):  # until the server has the request (token request + this one)
        if len(kard_emulator.requests) == 2:
            break
        await asyncio.sleep(0.01)
    start = time.perf_counter()
    await asyncio.to_thread(kard_server.quiesce)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await pending
    assert time.perf_counter() - start < 2
    assert kard_emulator.attribution_events == []
    assert (await api.get(f"{USER}/offers"))[0] == 200


def test_quiesce_ignores_a_request_read_before_its_connection_closed(
    kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    """A leftover connection's request must not run in the next test.

    aiohttp may have read a request whose handler has not started yet when quiesce() closes
    the connection; that handler still runs afterwards. Reproduced deterministically: the
    server loop is held while the request arrives and quiesce() is queued, so quiesce runs
    first. With latency, the handler would record the token request after the reset (a
    token request, because the reset revokes the tokens other requests would need).
    """
    loop = kard_server._loop
    assert loop is not None
    leftover = HTTPConnection(kard_server.host, kard_server.port, timeout=5)
    try:
        leftover.request("GET", f"{USER}/offers")  # connects; a 401 is fine
        assert leftover.getresponse().read()
        kard_emulator.inject(Fault("latency", delay=0.3, path="token$"))
        body = json.dumps({"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET})
        request = (
            "POST /v2/auth/token HTTP/1.1\r\nHost: emulator\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        held = threading.Event()

        def hold() -> None:
            held.set()
            time.sleep(0.3)

        loop.call_soon_threadsafe(hold)
        assert held.wait(5)
        assert leftover.sock is not None
        leftover.sock.sendall(request)  # read by the server once the loop is free again
        kard_server.quiesce()
        kard_emulator.reset()  # what the kard_server fixture does next
        assert leftover.sock.recv(1024) == b""  # closed, never answered
    finally:
        leftover.close()
    time.sleep(0.5)  # longer than the latency the handler would have slept
    assert kard_emulator.requests == []
    assert kard_emulator.token_requests == []


def test_fault_parse() -> None:
    fault = Fault.parse("status=429,retry_after=1,path=/attributions,times=5")
    assert (fault.kind, fault.status, fault.retry_after, fault.path, fault.times) == (
        "status",
        429,
        "1",
        "/attributions",
        5,
    )
    fault = Fault.parse("drop_after,path=attributions$,times=None")
    assert (fault.kind, fault.path, fault.times) == ("drop_after", "attributions$", None)
    fault = Fault.parse("latency,delay=0.2")
    assert (fault.kind, fault.delay, fault.times) == ("latency", 0.2, 1)
    assert Fault.parse("kind=truncate,method=get").method == "GET"
    assert Fault.parse("status").status == 503
    assert Fault.parse("delay=1").kind == "latency"
    assert Fault.parse("malformed,path=^/v2/(a|b){1,3}$,skip=2").path == "^/v2/(a|b){1,3}$"
    fault = Fault.parse("status=503,retry_after=Wed, 21 Oct 2015 07:28:00 GMT,probability=0.5")
    assert fault.retry_after == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert fault.probability == 0.5
    for bad in (
        "",
        "explode",
        "status=abc",
        "latency,bogus=1",
        "latency,drop_before",
        "latency,delay=-1",
        "status=99",
        "times=0,status=500",
        "status,path=(",
        "probability=2,status=500",
        "status=500,status=502",
    ):
        with pytest.raises(ValueError, match=r"\S"):
            Fault.parse(bad)


# --------------------------------------------------------------------------- opt-in read cache


async def test_read_cache_layer(http: aiohttp.ClientSession) -> None:
    emulator = KardEmulator()
    cache = ReadCache()
    handled: Counter[str] = Counter()

    def counting(found: Route, call: Call, respond: Respond) -> bytes:
        def run(found: Route, call: Call) -> bytes:
            handled[found.handler.__name__] += 1
            return respond(found, call)

        return cache(found, call, run)

    runner, port = await start_runner(emulator, "127.0.0.1", 0, layer=counting)
    try:
        api = Api(http, f"http://127.0.0.1:{port}")
        _, first = await api.get(f"{USER}/locations", BENCHMARK_QUERY)
        _, second = await api.get(f"{USER}/locations", BENCHMARK_QUERY)
        assert first == second
        assert len(first["data"]) == 100
        assert handled["locations"] == 1
        other = f"/v2/issuers/{ORG}/users/other"
        _, theirs = await api.get(f"{other}/locations", BENCHMARK_QUERY)
        assert theirs["links"]["next"].startswith(f"{other}/locations?")
        assert handled["locations"] == 2
        # Auth runs before the cache; errors are never cached.
        status, _ = await api.get(
            f"{USER}/locations", BENCHMARK_QUERY, headers={"Authorization": "Bearer nope"}
        )
        assert status == 401
        for _ in range(2):
            status, _ = await api.get(f"{USER}/offers", {"page[size]": "0"})
            assert status == 400
        assert handled["offers"] == 2
        # Reads that depend on state (slot activations) are not cached.
        for _ in range(2):
            status, _ = await api.get(f"{USER}/placements/placement-batch-1/content")
            assert status == 200
        assert handled["placement_content"] == 2
        # The extras fault still decorates a cached read, and leaves the cache as it was.
        emulator.inject(Fault("extras"))
        _, decorated = await api.get(f"{USER}/locations", BENCHMARK_QUERY)
        assert "x-future-top-level" in decorated
        _, plain = await api.get(f"{USER}/locations", BENCHMARK_QUERY)
        assert plain == first
        assert handled["locations"] == 3
        assert len(emulator.requests) == 11  # every request is still recorded (and the token)
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- live offers


def _live(offer: dict[str, Any], now: datetime) -> bool:
    attributes = offer["attributes"]
    start = datetime.fromisoformat(attributes["startDate"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(attributes["expirationDate"].replace("Z", "+00:00"))
    return start <= now < end


async def test_no_list_shows_an_expired_offer(api: Api) -> None:
    """Seed dates are relative to today: every offer any list shows is live."""
    now = datetime.now(timezone.utc)
    _, offers = await api.get(f"{USER}/offers", {"page[size]": "1000"})
    _, locations = await api.get(f"{USER}/locations", {"page[size]": "1000", "include": "offers"})
    _, standard = await api.get(f"{USER}/placements/placement-1/content")
    _, batch = await api.get(f"{USER}/placements/placement-batch-1/content")
    shown = [
        *offers["data"],
        *locations["included"],
        *standard["data"],
        *(offer for slot in batch["data"] for offer in slot["attributes"]["offers"]),
    ]
    assert len(offers["data"]) == 58
    assert len(shown) > 100
    assert [offer["id"] for offer in shown if not _live(offer, now)] == []
    _, seed = await api.get(f"{USER}/offers", {"filter[search]": "worlds greatest"})
    assert seed["data"][0]["id"] == SEED_OFFER


def test_demo_lists_no_expired_offer() -> None:
    env = dict(os.environ, KARD_ASYNC_PLAIN="1", PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "kard_async", "demo", "--events", "10", "--users", "2"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={key: value for key, value in env.items() if key not in ("KARD_BASE_URL",)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Worlds Greatest Chicken" in result.stdout  # the seed example offer is listed...
    dates = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", result.stdout)
    assert len(dates) >= 5
    today = datetime.now(timezone.utc).date().isoformat()
    assert [date for date in dates if date < today] == []  # ...and nothing expired


# --------------------------------------------------------------------------- running it


def test_serve_custom_credentials_and_reset() -> None:
    async def scenario(base_url: str) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{base_url}/v2/auth/token", json={"client_id": "a", "client_secret": "b"}
            ) as response:
                token = (await response.json())["access_token"]
                assert response.status == 200
            async with session.get(
                f"{base_url}/v2/issuers/org-x/users/u/offers",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                assert response.status == 200

    with serve(client_id="a", client_secret="b", organization_id="org-x", token_ttl=5) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        asyncio.run(scenario(server.base_url))
        emulator = server.emulator
        emulator.token_ttl = 1
        emulator.reset()
        assert emulator.token_ttl == 5
        assert emulator.requests == []


async def test_benchmark_query(api: Api) -> None:
    await api.token()
    async with api.session.get(
        f"{api.base_url}{USER}/locations",
        params=BENCHMARK_QUERY,
        headers={"Authorization": f"Bearer {await api.token()}"},
    ) as response:
        raw = await response.read()
    body = json.loads(raw)
    assert len(body["data"]) == 100
    assert body["links"]["next"]
    assert {i["type"] for i in body["included"]} == {"standardOffer", "category"}
    assert 200_000 <= len(raw) <= 280_000


async def test_cli_subprocess() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kard_async.testing",
        "--port",
        "0",
        "--fault",
        "latency,delay=0",
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    assert process.stdout is not None
    try:
        base_url = None
        output: list[str] = []
        while base_url is None:
            line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
            assert line, "CLI exited before printing KARD_BASE_URL: " + "".join(output)
            output.append(line)
            if line.startswith("KARD_BASE_URL="):
                base_url = line.strip().split("=", 1)[1]
        assert any(TEST_CLIENT_SECRET in line and "curl" in line for line in output)
        assert any(TEST_ORGANIZATION_ID in line for line in output)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{base_url}/v2/auth/token",
                json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
            ) as response,
        ):
            assert response.status == 200
            assert (await response.json())["expires_in"] == 3600
    finally:
        if process.returncode is None:
            process.terminate()
        await process.stdout.read()
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0
