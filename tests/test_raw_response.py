"""Per-call raw responses: ``kard.<resource>.with_raw_response.<method>(...)`` (async and
blocking), through the one request path, for single calls, writes and lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from kard_async import (
    AsyncKard,
    AsyncRawResponse,
    Kard,
    NotFoundError,
    Paginator,
    RawResponse,
    ResponseInfo,
    ResponseValidationError,
)
from kard_async._call import Call, StreamingDecoder
from kard_async.models import (
    ChildOrganizationsPage,
    Job,
    OfferAttribution,
    OffersPage,
    Organization,
    Ping,
    PlacementContent,
)
from kard_async.resources._base import AsyncResource
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

USER = "user-1"


def api_requests(emulator: KardEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path != "/v2/auth/token"]


async def test_a_single_get(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    raw = await kard.users.rewards.with_raw_response.placement_content(USER, "placement-1")
    assert isinstance(raw, AsyncRawResponse)
    assert raw.status == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.headers["Content-Type"] == raw.headers["content-type"]  # case-insensitive
    assert raw.request_id is not None
    assert raw.request_id == raw.headers["X-Request-Id"]
    assert (raw.method, raw.path) == (
        "GET",
        f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/{USER}/placements/placement-1/content",
    )
    assert raw.elapsed >= 0
    content = raw.parse()
    assert isinstance(content, PlacementContent)
    assert content == await kard.users.rewards.placement_content(USER, "placement-1")
    assert json.loads(raw.content)["data"][0]["id"] == content.offers[0].id
    assert raw.request_id in repr(raw)
    assert len(api_requests(kard_emulator)) == 2  # one each, no extra request


async def test_a_list_answers_with_its_first_page_and_continues(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    raw = await kard.users.rewards.with_raw_response.offers(USER, page_size=5)
    assert raw.status == 200
    assert len(api_requests(kard_emulator)) == 1  # the first page only
    page = raw.parse()
    assert isinstance(page, OffersPage)
    assert len(page.data) == 5
    second = await page.next_page()  # continues the same list, parsed as usual
    assert second is not None
    expected = [o.id async for o in kard.users.rewards.offers(USER, page_size=5)]
    assert [o.id for o in (*page.data, *second.data)] == expected[:10]
    queries = [r.query_string for r in api_requests(kard_emulator)]
    assert queries[0] == "page[size]=5"
    assert queries[1].startswith("page[size]=5&page[after]=")
    assert raw.parse() == page  # parse() decodes again, to the same value


async def test_a_write(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    event = OfferAttribution(
        entity_id="offer-1",
        event_code="VIEW",
        medium="BROWSE",
        event_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    )
    raw = await kard.users.attributions.with_raw_response.create(USER, [event])
    assert raw.status == 201
    job = raw.parse()
    assert isinstance(job, Job)
    assert job.status == "queued"
    assert len(kard_emulator.attribution_events) == 1


async def test_organization_calls_and_the_client_s_own(kard: AsyncKard) -> None:
    organization = await kard.organizations.with_raw_response.get()
    assert isinstance(organization.parse(), Organization)
    children = await kard.organizations.children.with_raw_response.list(page_size=1)
    assert isinstance(children.parse(), ChildOrganizationsPage)
    ping = await kard.with_raw_response.ping()
    assert ping.status == 200
    assert isinstance(ping.parse(), Ping)
    assert "ping" in dir(kard.with_raw_response)
    assert {"create", "delete", "get", "list", "update"} <= set(
        dir(kard.organizations.placements.with_raw_response)
    )


async def test_errors_raise_as_usual(kard: AsyncKard) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        await kard.organizations.placements.with_raw_response.get("missing")


async def test_the_response_after_retries_and_every_hook_call(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    seen: list[ResponseInfo] = []
    hooked = kard.with_options(on_response=seen.append)
    kard_emulator.inject(Fault(kind="status", status=503, path="/children$"))
    raw = await hooked.organizations.children.with_raw_response.list()
    assert raw.status == 200  # the answer that counted
    assert [info.status for info in seen] == [503, 200]  # the caller's hook saw both
    assert seen[-1].request_id == raw.request_id


async def test_organization_override(make_kard: Any, kard_emulator: KardEmulator) -> None:
    kard = make_kard(target_issuer="org-other")  # the token is for org-other
    raw = await kard.users.rewards.with_raw_response.offers(
        USER, organization_id="org-other", page_size=1
    )
    assert raw.status == 200
    assert api_requests(kard_emulator)[0].path == f"/v2/issuers/org-other/users/{USER}/offers"


async def test_an_undecodable_body_fails_in_parse(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="malformed", path="/offers$"))
    raw = await kard.users.rewards.with_raw_response.offers(USER)
    assert raw.status == 200
    with pytest.raises(ResponseValidationError, match=r"GET /v2/.*/offers: unexpected response"):
        raw.parse()


async def test_what_is_not_an_api_method(kard: AsyncKard) -> None:
    with pytest.raises(AttributeError, match="no API method 'nonexistent'"):
        _ = kard.users.rewards.with_raw_response.nonexistent
    with pytest.raises(AttributeError, match=r"namespace.*\.rewards\.with_raw_response"):
        _ = kard.users.with_raw_response.rewards
    with pytest.raises(AttributeError, match="no API method '_get'"):
        _ = kard.users.rewards.with_raw_response._get
    with pytest.raises(AttributeError, match="no API method 'with_raw_response'"):
        _ = kard.users.rewards.with_raw_response.with_raw_response
    with pytest.raises(AttributeError, match="no API method 'aclose'"):
        _ = kard.with_raw_response.aclose


async def test_a_batch_helper_is_refused_before_anything_is_sent(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(TypeError, match=r"bulk_create\(\) makes many requests.*nothing was sent"):
        await kard.users.attributions.with_raw_response.bulk_create({USER: []})
    with pytest.raises(TypeError, match=r"token\(\) does not answer with the response"):
        await kard.auth.with_raw_response.token()
    assert api_requests(kard_emulator) == []


class _TwoCalls(AsyncResource):
    async def both(self) -> Any:
        await self._get("/v2/ping", cast_to=Ping)
        return await self._get("/v2/ping", cast_to=Ping)


async def test_a_second_request_is_never_sent(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    resource = _TwoCalls(kard._requester)
    with pytest.raises(TypeError, match=r"_TwoCalls.both\(\) makes more than one request"):
        await resource.with_raw_response.both()
    assert len(api_requests(kard_emulator)) == 1
    assert (await resource.both()).status == "OK"  # the resource itself is unchanged


class _Discard(StreamingDecoder[int]):
    async def consume(self, content: aiohttp.StreamReader, headers: Mapping[str, str]) -> int:
        return len(await content.read())


class _Streams(AsyncResource):
    async def download(self) -> Any:
        # A response consumed as it arrives (a file download) has no whole-body decoder.
        return await self._requester.send(Call("GET", "/v2/ping", _Discard()))


async def test_a_streamed_response_is_refused_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(TypeError, match=r"download\(\) streams its response.*nothing was sent"):
        await _Streams(kard._requester).with_raw_response.download()
    assert api_requests(kard_emulator) == []
    assert await _Streams(kard._requester).download() > 0  # the call itself streams


def test_the_blocking_client(kard_server: EmulatorServer) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        raw = kard.users.rewards.with_raw_response.offers(USER, page_size=3)
        assert isinstance(raw, RawResponse)
        assert raw.status == 200
        assert raw.request_id == raw.headers["x-request-id"]
        assert raw.method == "GET"
        assert repr(raw).startswith("RawResponse(GET /v2/issuers/")
        page = raw.parse()
        assert isinstance(page, Paginator)  # iterate it for every item of every page
        everything = [offer.id for offer in page]
        assert everything == [offer.id for offer in kard.users.rewards.offers(USER, page_size=50)]
        assert len(everything) > 3

        ping = kard.with_raw_response.ping()
        assert isinstance(ping.parse(), Ping)
        assert kard.organizations.with_raw_response.get().parse().id == TEST_ORGANIZATION_ID
        assert json.loads(kard.organizations.with_raw_response.get().content)["type"] == (
            "organization"
        )
        with pytest.raises(NotFoundError):
            kard.organizations.children.with_raw_response.get("missing")
        with pytest.raises(AttributeError, match="no API method"):
            _ = kard.users.rewards.with_raw_response.nonexistent
        assert "offers" in dir(kard.users.rewards.with_raw_response)
