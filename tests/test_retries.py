"""Retries: what is retried, how long the client waits, and that writes are never duplicated
unless the caller opts in to at-least-once delivery."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from kard_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncKard,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from kard_async.testing import TEST_ORGANIZATION_ID, Fault, KardEmulator

USER = "user-1"
EVENTS = [
    {
        "type": "offerAttribution",
        "entityId": "offer-1",
        "eventCode": "VIEW",
        "medium": "BROWSE",
        "eventDate": "2025-01-01T00:00:00Z",
    },
    {
        "type": "offerAttribution",
        "entityId": "offer-2",
        "eventCode": "IMPRESSION",
        "medium": "MAP",
        "eventDate": "2025-01-01T00:00:01Z",
    },
]


def hits(emulator: KardEmulator, suffix: str) -> int:
    return sum(1 for r in emulator.requests if r.path.endswith(suffix))


async def warm(kard: AsyncKard) -> None:
    """Fetch the token first so faults only meet the call under test."""
    await kard.users.rewards.offers(USER, page_size=1)


async def wait_for_events(emulator: KardEmulator, count: int, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(emulator.attribution_events) >= count:
            return
        await asyncio.sleep(0.02)


def entity_ids(emulator: KardEmulator) -> list[str]:
    return [e.attributes["entityId"] for e in emulator.attribution_events]


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_read_retried_on_transient_status(
    kard: AsyncKard, kard_emulator: KardEmulator, status: int
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=status, path="/locations$", times=1))
    page = await kard.users.rewards.locations(USER, page_size=2)
    assert page.data
    assert hits(kard_emulator, "/locations") == 2


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
async def test_read_not_retried_on_other_4xx(
    kard: AsyncKard, kard_emulator: KardEmulator, status: int
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=status, path="/locations$", times=1))
    with pytest.raises(APIStatusError) as caught:
        await kard.users.rewards.locations(USER)
    assert caught.value.status == status
    assert hits(kard_emulator, "/locations") == 1


@pytest.mark.parametrize("kind", ["drop_before", "drop_after", "truncate"])
async def test_read_retried_after_broken_connection(
    kard: AsyncKard, kard_emulator: KardEmulator, kind: str
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind=kind, path="/offers$", times=1))  # type: ignore[arg-type]
    page = await kard.users.rewards.offers(USER, page_size=3)
    assert len(page.data) == 3
    assert hits(kard_emulator, "/offers") == 3  # warm-up, broken, retried


@pytest.mark.parametrize("kind", ["drop_before", "drop_after", "truncate"])
async def test_broken_connection_error_when_retries_exhausted(
    make_kard: Callable[..., AsyncKard],
    kard_emulator: KardEmulator,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="kard_async")
    kard = make_kard(max_retries=1)
    await warm(kard)
    kard_emulator.inject(Fault(kind=kind, path="/offers$", times=None))  # type: ignore[arg-type]
    with pytest.raises(APIConnectionError) as caught:
        await kard.users.rewards.offers(USER)
    assert caught.value.outcome_unknown is False  # a read: no side effect to worry about
    assert not isinstance(caught.value, APITimeoutError)
    # Our loop made max_retries + 1 attempts. (For a GET on a reused keep-alive connection
    # aiohttp itself may resend once after a disconnect, so the server can see more.)
    retries = [r for r in caplog.records if "retrying GET" in r.getMessage()]
    assert len(retries) == 1
    assert 1 + 2 <= hits(kard_emulator, "/offers") <= 1 + 2 * 2


async def test_read_timeout_retried_then_succeeds(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(timeout=0.2)
    await warm(kard)
    kard_emulator.inject(Fault(kind="latency", delay=0.5, path="/locations$", times=1))
    page = await kard.users.rewards.locations(USER, page_size=1)
    assert page.data
    assert hits(kard_emulator, "/locations") == 2


async def test_read_timeout_after_all_retries(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(timeout=0.1, max_retries=2)
    await warm(kard)
    kard_emulator.inject(Fault(kind="latency", delay=0.3, path="/locations$", times=None))
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        await kard.users.rewards.locations(USER)
    assert time.monotonic() - started < 2.0
    assert caught.value.outcome_unknown is False
    assert "timed out" in str(caught.value)
    assert hits(kard_emulator, "/locations") == 3


async def test_max_retries_zero_means_one_attempt(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(max_retries=0)
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=503, path="/offers$", times=1))
    with pytest.raises(InternalServerError):
        await kard.users.rewards.offers(USER)
    assert hits(kard_emulator, "/offers") == 2


@pytest.mark.parametrize("max_retries", [1, 3])
async def test_gives_up_after_max_retries_plus_one(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator, max_retries: int
) -> None:
    kard = make_kard(max_retries=max_retries)
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=502, path="/offers$", times=None))
    with pytest.raises(InternalServerError) as caught:
        await kard.users.rewards.offers(USER)
    assert caught.value.status == 502
    assert hits(kard_emulator, "/offers") == 1 + max_retries + 1


async def test_retry_after_seconds_is_honoured(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    # The one slow test: Retry-After: 1 must be waited out, not replaced by the tiny backoff.
    kard = make_kard(retry_policy=RetryPolicy(base_delay=0.001, max_delay=0.002))
    await warm(kard)
    kard_emulator.inject(
        Fault(kind="status", status=429, retry_after="1", path="/offers$", times=1)
    )
    started = time.monotonic()
    page = await kard.users.rewards.offers(USER, page_size=1)
    elapsed = time.monotonic() - started
    assert page.data
    assert 0.9 <= elapsed < 3.0
    assert hits(kard_emulator, "/offers") == 3


async def test_retry_after_http_date_is_parsed(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(max_retries=0)
    await warm(kard)
    when = datetime.fromtimestamp(time.time() + 30, tz=timezone.utc)
    kard_emulator.inject(
        Fault(
            kind="status",
            status=429,
            retry_after=format_datetime(when, usegmt=True),
            path="/offers$",
        )
    )
    with pytest.raises(RateLimitError) as caught:
        await kard.users.rewards.offers(USER)
    assert caught.value.retry_after is not None
    assert 27 <= caught.value.retry_after <= 31


async def test_retry_after_http_date_in_the_past_retries_at_once(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await warm(kard)
    past = format_datetime(datetime(2020, 1, 1, tzinfo=timezone.utc), usegmt=True)
    kard_emulator.inject(
        Fault(kind="status", status=503, retry_after=past, path="/offers$", times=1)
    )
    started = time.monotonic()
    assert (await kard.users.rewards.offers(USER, page_size=1)).data
    assert time.monotonic() - started < 0.5
    assert hits(kard_emulator, "/offers") == 3


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(retry_policy=RetryPolicy(base_delay=0.01, max_delay=0.05, budget=5.0))
    await warm(kard)
    kard_emulator.inject(
        Fault(kind="status", status=429, retry_after="30", path="/offers$", times=1)
    )
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await kard.users.rewards.offers(USER)
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 30
    assert hits(kard_emulator, "/offers") == 2


async def test_retry_after_is_capped_by_max_retry_after(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(retry_policy=RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=0.2))
    await warm(kard)
    kard_emulator.inject(
        Fault(kind="status", status=429, retry_after="30", path="/offers$", times=1)
    )
    started = time.monotonic()
    page = await asyncio.wait_for(kard.users.rewards.offers(USER, page_size=1), timeout=5)
    assert page.data
    assert 0.15 <= time.monotonic() - started < 2.0


async def test_token_endpoint_failures_follow_the_client_policy(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(max_retries=2)
    kard_emulator.inject(Fault(kind="status", status=503, path="/auth/token$", times=None))
    started = time.monotonic()
    with pytest.raises(InternalServerError) as caught:
        await kard.users.rewards.offers(USER)
    assert caught.value.path == "/v2/auth/token"
    # max_retries + 1 attempts in all, with the client's (tiny) delays: no nested retries.
    assert len(kard_emulator.token_requests) == 0  # refused before the endpoint ran
    assert hits(kard_emulator, "/auth/token") == 3
    assert time.monotonic() - started < 1.0
    assert hits(kard_emulator, "/offers") == 0

    kard_emulator.clear_faults()
    kard_emulator.inject(Fault(kind="drop_after", path="/auth/token$", times=1))
    assert (await kard.users.rewards.offers(USER, page_size=1)).data


async def test_token_endpoint_not_retried_with_max_retries_zero(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(max_retries=0)
    kard_emulator.inject(Fault(kind="status", status=503, path="/auth/token$", times=1))
    with pytest.raises(InternalServerError):
        await kard.users.rewards.offers(USER)
    assert hits(kard_emulator, "/auth/token") == 1


# --------------------------------------------------------------------------- writes


@pytest.mark.parametrize("status", [429, 503])
async def test_write_retried_when_surely_not_processed(
    kard: AsyncKard, kard_emulator: KardEmulator, status: int
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=status, path="/attributions$", times=1))
    job = await kard.users.attributions.create(USER, EVENTS)
    assert job.status == "queued"
    assert hits(kard_emulator, "/attributions") == 2
    assert entity_ids(kard_emulator) == ["offer-1", "offer-2"]  # exactly once


@pytest.mark.parametrize("status", [500, 502, 504, 408])
async def test_write_not_retried_on_ambiguous_status(
    kard: AsyncKard, kard_emulator: KardEmulator, status: int
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=status, path="/attributions$", times=1))
    with pytest.raises(APIStatusError) as caught:
        await kard.users.attributions.create(USER, EVENTS)
    assert caught.value.status == status
    assert caught.value.outcome_unknown is (status >= 500)
    assert hits(kard_emulator, "/attributions") == 1


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_write_retried_when_only_its_token_request_failed(
    kard: AsyncKard, kard_emulator: KardEmulator, status: int
) -> None:
    """The token fetch happens before the write is sent, so its failure is safe to retry."""
    kard_emulator.inject(Fault(kind="status", status=status, path="/auth/token$", times=1))
    job = await kard.users.attributions.create(USER, EVENTS)
    assert job.status == "queued"
    assert hits(kard_emulator, "/auth/token") == 2
    assert hits(kard_emulator, "/attributions") == 1
    assert entity_ids(kard_emulator) == ["offer-1", "offer-2"]


@pytest.mark.parametrize("kind", ["drop_after", "truncate"])
async def test_write_not_retried_after_it_reached_the_server(
    kard: AsyncKard, kard_emulator: KardEmulator, kind: str
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind=kind, path="/attributions$", times=1))  # type: ignore[arg-type]
    with pytest.raises(APIConnectionError) as caught:
        await kard.users.attributions.create(USER, EVENTS)
    error = caught.value
    assert error.outcome_unknown is True
    assert "outcome unknown" in str(error)
    assert (error.method, error.path) == (
        "POST",
        f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/{USER}/attributions",
    )
    assert hits(kard_emulator, "/attributions") == 1
    # The server did process it, once: a retry would have duplicated the events.
    assert entity_ids(kard_emulator) == ["offer-1", "offer-2"]


async def test_write_drop_before_is_conservatively_outcome_unknown(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind="drop_before", path="/attributions$", times=1))
    with pytest.raises(APIConnectionError) as caught:
        await kard.users.attributions.create(USER, EVENTS)
    assert caught.value.outcome_unknown is True
    assert hits(kard_emulator, "/attributions") == 1
    assert kard_emulator.attribution_events == []


async def test_write_read_timeout_is_outcome_unknown(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(timeout=0.1)
    await warm(kard)
    kard_emulator.inject(Fault(kind="latency", delay=0.3, path="/attributions$", times=1))
    with pytest.raises(APITimeoutError) as caught:
        await kard.users.attributions.create(USER, EVENTS)
    assert caught.value.outcome_unknown is True
    await wait_for_events(kard_emulator, 2)
    await asyncio.sleep(0.1)
    assert hits(kard_emulator, "/attributions") == 1
    assert entity_ids(kard_emulator) == ["offer-1", "offer-2"]


@pytest.mark.parametrize("action", ["activate", "boost"])
async def test_offer_actions_are_writes(
    kard: AsyncKard, kard_emulator: KardEmulator, action: str
) -> None:
    offer = (await kard.users.rewards.offers(USER, page_size=1)).data[0]
    kard_emulator.inject(Fault(kind="drop_after", path=f"/{action}$", times=1))
    with pytest.raises(APIConnectionError) as caught:
        await getattr(kard.users.attributions, action)(USER, offer.id)
    assert caught.value.outcome_unknown is True
    assert hits(kard_emulator, f"/{action}") == 1
    assert len(kard_emulator.attribution_events) == 1


async def test_slot_activation_is_a_write(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=500, path="/activate$", times=1))
    with pytest.raises(InternalServerError):
        await kard.users.attributions.activate_placement_slot(USER, "placement-batch-1", "slot-1")
    assert hits(kard_emulator, "/activate") == 1


async def test_retry_writes_opt_in_is_at_least_once(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    # retry_writes=True trades duplicates for delivery: the first attempt was processed
    # before the connection dropped, so the server now has every event twice.
    kard = make_kard(retry_writes=True)
    await warm(kard)
    kard_emulator.inject(Fault(kind="drop_after", path="/attributions$", times=1))
    job = await kard.users.attributions.create(USER, EVENTS)
    assert job.status == "queued"
    assert hits(kard_emulator, "/attributions") == 2
    assert entity_ids(kard_emulator) == ["offer-1", "offer-2", "offer-1", "offer-2"]
    # ...and ambiguous statuses are retried too.
    kard_emulator.inject(Fault(kind="status", status=500, path="/attributions$", times=1))
    await kard.users.attributions.create(USER, EVENTS[:1])
    assert hits(kard_emulator, "/attributions") == 4


# --------------------------------------------------------------------------- connection refused


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("write", [False, True])
async def test_connection_refused_is_retried(
    make_kard: Callable[..., AsyncKard], caplog: pytest.LogCaptureFixture, write: bool
) -> None:
    caplog.set_level(logging.DEBUG, logger="kard_async")
    kard = make_kard(base_url=f"http://127.0.0.1:{closed_port()}", token="static-token")
    call: Any = (
        kard.users.attributions.create(USER, EVENTS) if write else kard.users.rewards.offers(USER)
    )
    with pytest.raises(APIConnectionError) as caught:
        await call
    error = caught.value
    assert not isinstance(error, APITimeoutError)
    assert error.outcome_unknown is False
    assert "cannot connect" in str(error)
    retries = [r for r in caplog.records if r.name == "kard_async" and "retrying" in r.getMessage()]
    assert len(retries) == 2  # max_retries=2: both retries made, even for a write


# --------------------------------------------------------------------------- logging


async def test_each_retry_is_logged_and_backoff_is_silent(
    kard: AsyncKard, kard_emulator: KardEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await warm(kard)
    kard_emulator.inject(Fault(kind="status", status=503, path="/locations$", times=2))
    await kard.users.rewards.locations(USER, page_size=1)
    ours = [r for r in caplog.records if r.name == "kard_async"]
    assert len(ours) == 2
    for record in ours:
        assert record.levelno == logging.DEBUG
        message = record.getMessage()
        assert "retrying GET" in message
        assert f"/users/{USER}/locations" in message
        assert "HTTP 503" in message
    assert "attempt 1" in ours[0].getMessage()
    assert "attempt 2" in ours[1].getMessage()
    assert not [r for r in caplog.records if r.name.startswith("backoff")]
