"""Hostile or unusual servers: redirects, odd token responses, failing callbacks and sources.

These use a tiny aiohttp.web server of their own on 127.0.0.1 where the emulator, which
behaves like the real API, cannot produce the situation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timezone

import pytest
from aiohttp import web

from kard_async import APIStatusError, AsyncKard, ResponseValidationError, RetryPolicy
from kard_async.models import OfferAttribution
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
)

SECRET = "MY-CLIENT-SECRET"
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def event(n: int) -> OfferAttribution:
    return OfferAttribution(
        entity_id=f"offer-{n}", event_code="VIEW", medium="SEARCH", event_date=WHEN
    )


@pytest.fixture
async def serve_app() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_redirects_are_not_followed_so_the_secret_stays_put(
    serve_app: Callable[[web.Application], Awaitable[str]],
) -> None:
    received: list[bytes] = []

    async def elsewhere(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.json_response({"access_token": "t", "expires_in": 3600})

    other = web.Application()
    other.router.add_post("/steal", elsewhere)
    thief = await serve_app(other)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(thief.replace("127.0.0.1", "localhost") + "/steal")

    api = web.Application()
    api.router.add_post("/v2/auth/token", redirect)
    base = await serve_app(api)

    async with AsyncKard(
        "client", SECRET, organization_id="org", base_url=base, max_retries=0
    ) as kard:
        with pytest.raises(APIStatusError) as caught:
            await kard.users.rewards.offers("user-1")
    assert caught.value.status == 307
    assert received == [], "the token request body was replayed to another host"


async def test_token_responses_never_leak_and_numeric_strings_are_accepted(
    serve_app: Callable[[web.Application], Awaitable[str]],
) -> None:
    token_body: dict[str, object] = {"access_token": "SECRET-ACCESS-TOKEN", "expires_in": []}

    async def token(request: web.Request) -> web.Response:
        return web.json_response(token_body)

    async def offers(request: web.Request) -> web.Response:
        return web.json_response({"data": [], "links": {"self": "/x"}})

    app = web.Application()
    app.router.add_post("/v2/auth/token", token)
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)

    async with AsyncKard("client", SECRET, organization_id="org", base_url=base) as kard:
        with pytest.raises(ResponseValidationError) as caught:
            await kard.users.rewards.offers("u")
        assert "SECRET-ACCESS-TOKEN" not in str(caught.value)
        assert b"SECRET-ACCESS-TOKEN" not in caught.value.body
        assert caught.value.before_send

        token_body["expires_in"] = "3600"  # as some OAuth servers send it
        page = await kard.users.rewards.offers("u")
    assert page.data == []


async def test_an_unreadable_token_response_is_not_counted_as_accepted_events(
    serve_app: Callable[[web.Application], Awaitable[str]],
) -> None:
    posts: list[str] = []

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"token": "no access_token member"})

    async def attributions(request: web.Request) -> web.Response:
        posts.append(request.path)
        return web.json_response({"data": {"type": "job", "id": "j", "attributes": {}}})

    app = web.Application()
    app.router.add_post("/v2/auth/token", token)
    app.router.add_post("/v2/issuers/org/users/{user}/attributions", attributions)
    base = await serve_app(app)

    async with AsyncKard("client", SECRET, organization_id="org", base_url=base) as kard:
        report = await kard.users.attributions.bulk_create(
            [(f"u{n % 3}", event(n)) for n in range(250)], max_retries=0
        )
    assert report.accepted == 0
    assert report.failed_count == 250
    assert all(not batch.outcome_unknown for batch in report.failed)
    assert posts == []


async def test_bulk_create_fails_fast_when_every_worker_dies(kard_server: EmulatorServer) -> None:
    def broken_token() -> str:
        raise LookupError("secret store unavailable")

    async with AsyncKard(
        token=broken_token, organization_id=TEST_ORGANIZATION_ID, base_url=kard_server.base_url
    ) as kard:
        upload = kard.users.attributions.bulk_create(
            [(f"u{n % 50}", event(n)) for n in range(20_000)], concurrency=2
        )
        with pytest.raises(LookupError, match="secret store"):
            await asyncio.wait_for(upload, timeout=5)


async def test_a_failed_upload_still_tells_what_was_accepted(kard_server: EmulatorServer) -> None:
    def source() -> Iterator[tuple[str, OfferAttribution]]:
        for n in range(1_000):
            yield "u1", event(n)
        raise ConnectionError("the input stream broke")

    async with AsyncKard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
        retry_policy=RetryPolicy(max_retries=0),
    ) as kard:
        with pytest.raises(ConnectionError) as caught:
            await kard.users.attributions.bulk_create(source(), concurrency=1)
    report = caught.value.kard_bulk_report  # type: ignore[attr-defined]
    assert report.accepted + report.failed_count == 1_000, "every event taken is accounted for"
    maybe = sum(len(b.events) for b in report.failed if b.outcome_unknown)
    recorded = kard_server.emulator.attribution_event_count
    assert 0 < report.accepted <= recorded <= report.accepted + maybe


def test_an_explicit_environment_wins_over_kard_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARD_BASE_URL", "http://127.0.0.1:9")
    assert AsyncKard(token="t").base_url == "http://127.0.0.1:9"
    assert AsyncKard(token="t", environment="sandbox").base_url == (
        "https://test-rewards-api.getkard.com"
    )


async def test_a_new_resource_type_in_data_is_set_aside_not_fatal(
    serve_app: Callable[[web.Application], Awaitable[str]],
) -> None:
    offer = {
        "type": "standardOffer",
        "id": "o1",
        "attributes": {"name": "Known", "minRewardAmount": {"type": "CENTS", "value": 500.0}},
    }
    novel = {"type": "cardLinkedOffer", "id": "o2", "attributes": {"name": "Novel"}}

    async def offers(request: web.Request) -> web.Response:
        return web.json_response({"data": [offer, novel], "links": {"self": "/x", "next": None}})

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)

    async with AsyncKard(token="t", organization_id="org", base_url=base) as kard:
        page = await kard.users.rewards.offers("u")
        assert [o.id for o in page.data] == ["o1"]
        assert page.data[0].attributes.min_reward_amount is not None
        assert page.data[0].attributes.min_reward_amount.value == 500
        assert [(r.type, r.id, r.attributes) for r in page.unknown] == [
            ("cardLinkedOffer", "o2", {"name": "Novel"})
        ]
        assert [o.id async for o in kard.users.rewards.offers("u")] == ["o1"]


async def test_a_new_offer_type_inside_a_placement_slot_is_set_aside(
    serve_app: Callable[[web.Application], Awaitable[str]],
) -> None:
    known = {"type": "standardOffer", "id": "o1", "attributes": {"name": "Known"}}
    novel = {"type": "cardLinkedOffer", "id": "o2", "attributes": {"name": "Novel"}}
    slot = {
        "type": "placementBatch",
        "id": "slot-1",
        "attributes": {"name": "Weekly", "isActive": True, "offers": [known, novel]},
    }

    async def content(request: web.Request) -> web.Response:
        return web.json_response({"data": [slot], "meta": {"placementName": "Picks"}})

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/placements/p/content", content)
    base = await serve_app(app)

    async with AsyncKard(token="t", organization_id="org", base_url=base) as kard:
        result = await kard.users.rewards.placement_content("u", "p")
    [batch] = result.batches
    assert batch.id == "slot-1"
    assert [o.id for o in batch.attributes.offers] == ["o1"]
    assert [(r.type, r.id) for r in batch.attributes.unknown] == [("cardLinkedOffer", "o2")]
    assert result.meta.placement_name == "Picks"
