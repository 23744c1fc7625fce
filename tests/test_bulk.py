"""bulk_create against the emulator: accounting, batching, back-pressure, faults, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import pytest

from kard_async import AsyncKard, ResponseInfo, RetryPolicy
from kard_async.bulk import _READ_CHUNK, BulkProgress, BulkReport, BulkUploadError
from kard_async.models import NotificationAttribution, OfferAttribution
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
FAST_RETRIES = RetryPolicy(base_delay=0.001, max_delay=0.01)


def event(n: int) -> OfferAttribution:
    return OfferAttribution(
        entity_id=f"offer-{n}", event_code="IMPRESSION", medium="BROWSE", event_date=WHEN
    )


def pairs(count: int, users: int, *, seed: int = 7) -> list[tuple[str, OfferAttribution]]:
    items = [(f"user-{n % users}", event(n)) for n in range(count)]
    random.Random(seed).shuffle(items)
    return items


@pytest.fixture
async def kard(kard_server: EmulatorServer) -> AsyncIterator[AsyncKard]:
    client = AsyncKard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
        retry_policy=FAST_RETRIES,
    )
    async with client:
        yield client


def recorded(emulator: KardEmulator) -> Counter[tuple[str, str]]:
    return Counter((e.user_id, e.attributes["entityId"]) for e in emulator.attribution_events)


def assert_accounted(report: BulkReport, sent: list[tuple[str, OfferAttribution]]) -> None:
    """Every valid input event is in exactly one of accepted / failed."""
    failed = [(u, e.entity_id) for u, e in report.failed_events()]
    assert len(failed) == len(set(failed))
    assert report.accepted + report.failed_count + len(report.invalid) == len(sent)


def assert_exactly_once(
    report: BulkReport, sent: list[tuple[str, OfferAttribution]], emulator: KardEmulator
) -> None:
    """The server holds each accepted event exactly once and no event known to have failed."""
    seen = recorded(emulator)
    assert all(count == 1 for count in seen.values()), "an event was recorded twice"
    known_failed = {
        (batch.user_id, e.entity_id)
        for batch in report.failed
        if not batch.outcome_unknown
        for e in batch.events
    }
    failed = {(u, e.entity_id) for u, e in report.failed_events()}
    accepted = {(u, e.entity_id) for u, e in sent} - failed
    assert len(accepted) == report.accepted
    assert accepted <= set(seen)
    assert not known_failed & set(seen)


async def test_groups_by_user_in_requests_of_at_most_100(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    sent = pairs(2_050, users=7)
    report = await kard.users.attributions.bulk_create(sent, concurrency=4)

    assert report.ok, report
    assert report.accepted == 2_050
    assert not report.failed
    assert not report.invalid
    assert sum(job.event_count for job in report.jobs) == 2_050
    assert all(1 <= job.event_count <= 100 for job in report.jobs)
    assert all(job.job_id for job in report.jobs)
    # 7 users with 292 or 293 events each: 2 full batches and one partial per user.
    assert len(report.jobs) == 7 * 2 + 7
    assert_exactly_once(report, sent, kard_emulator)
    posts = [r for r in kard_emulator.requests if r.path.endswith("/attributions")]
    assert len(posts) == len(report.jobs)


@pytest.mark.parametrize("source", ["list", "generator", "async generator"])
async def test_full_batches_are_cut_into_full_requests_whatever_the_input(
    kard: AsyncKard, kard_emulator: KardEmulator, source: str
) -> None:
    # Batches are looked at every few hundred items, not per item: a user whose events come
    # in a run has several requests' worth by then, and only the last request is partial.
    sent = [("solo", event(n)) for n in range(1_050)] + pairs(30, users=3)

    async def agen() -> AsyncIterator[tuple[str, OfferAttribution]]:
        for pair in sent:
            yield pair

    items: object = {"list": sent, "generator": iter(sent), "async generator": agen()}[source]
    report = await kard.users.attributions.bulk_create(items, concurrency=3)  # type: ignore[arg-type]
    assert report.ok, report
    solo = sorted((job.count for job in report.jobs if job.key == "solo"), reverse=True)
    assert solo == [100] * 10 + [50]
    assert sorted(job.count for job in report.jobs if job.key != "solo") == [10, 10, 10]
    assert_exactly_once(report, sent, kard_emulator)


async def test_accepts_a_mapping_and_an_async_iterable(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    by_user = {
        "alice": [event(1), event(2)],
        "bob": [
            NotificationAttribution(
                entity_id="note-1", event_code="VIEW", medium="PUSH", event_date=WHEN
            )
        ],
    }
    report = await kard.users.attributions.bulk_create(by_user)
    assert report.ok
    assert report.accepted == 3

    async def stream() -> AsyncIterator[tuple[str, OfferAttribution]]:
        for n in range(250):
            yield f"stream-{n % 3}", event(1000 + n)

    report = await kard.users.attributions.bulk_create(stream())
    assert report.ok
    assert report.accepted == 250
    assert sum(recorded(kard_emulator).values()) == 253


async def test_alternating_event_types_and_unbuilt_items_in_between_are_each_checked(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    note = NotificationAttribution(
        entity_id="note", event_code="VIEW", medium="PUSH", event_date=WHEN
    )
    items: list[object] = [("u", event(0)), ("u", note), ("u", event(2))]
    items += [("u", {"type": "offerAttribution"}), ("u", note), ("u", 42), ("u", event(6))]
    report = await kard.users.attributions.bulk_create(items)  # type: ignore[arg-type]

    assert [i.index for i in report.invalid] == [3, 5]
    assert report.accepted == 5
    kinds = Counter(e.type for e in kard_emulator.attribution_events)
    assert kinds == {"offerAttribution": 3, "notificationAttribution": 2}


async def test_a_pair_is_a_tuple_or_a_list_of_two_and_every_item_is_checked_alike(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    # The per-item fast path (a built event for a user that already has a batch) and the
    # full check must agree on what a pair is, wherever in the input an item comes.
    items: list[object] = [
        ["u1", event(1)],  # a list pair (JSON-loaded input) opens u1's batch
        ("u1", event(2)),
        ["u1", event(3)],
        ("u1", event(4), "extra"),  # three items: not a pair, although u1 has a batch
        {"u1": event(5)},  # a mapping is never a pair
        ("u1", "not an event"),
        ("u1", event(6)),
    ]
    report = await kard.users.attributions.bulk_create(items)  # type: ignore[arg-type]
    assert report.accepted == 4
    assert [i.index for i in report.invalid] == [3, 4, 5]
    assert all("pair" in i.reason for i in report.invalid[:2])
    assert report.invalid[2].user_id == "u1"
    stored = sorted(e.attributes["entityId"] for e in kard_emulator.attribution_events)
    assert stored == ["offer-1", "offer-2", "offer-3", "offer-6"]


async def test_wire_mappings_are_validated_and_invalid_items_do_not_block_valid_ones(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    wire_ok = {
        "type": "notificationAttribution",
        "entityId": "n-1",
        "eventCode": "IMPRESSION",
        "medium": "EMAIL",
        "eventDate": "2025-01-01T00:00:00+02:00",
    }
    items: list[object] = [
        ("u1", event(1)),
        ("", event(2)),  # empty user id
        ("u1", {**wire_ok, "medium": "MAP"}),  # medium not allowed for notifications
        ("u1", {**wire_ok, "eventDate": "2025-01-01T00:00:00"}),  # naive
        "not a pair",
        ("u2", 42),
        ("u2", wire_ok),
    ]
    report = await kard.users.attributions.bulk_create(items)  # type: ignore[arg-type]

    assert report.accepted == 2
    assert not report.ok
    assert [i.index for i in report.invalid] == [1, 2, 3, 4, 5]
    reasons = [i.reason for i in report.invalid]
    assert "user_id" in reasons[0]
    assert "medium" in reasons[1]
    assert "'PUSH', 'EMAIL'" in reasons[1]
    assert "timezone" in reasons[2]
    assert "pair" in reasons[3]
    assert "event" in reasons[4]
    assert report.invalid[2].user_id == "u1"
    stored = {e.attributes["entityId"]: e for e in kard_emulator.attribution_events}
    assert set(stored) == {"offer-1", "n-1"}
    assert stored["n-1"].attributes["eventDate"] in (
        "2024-12-31T22:00:00Z",
        "2025-01-01T00:00:00+02:00",
    )


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(
            [Fault(kind="status", status=429, retry_after="0", probability=0.3, times=None)],
            id="429-storm",
        ),
        pytest.param(
            [Fault(kind="status", status=503, probability=0.3, times=None, seed=3)],
            id="503-storm",
        ),
        pytest.param(
            [
                Fault(kind="status", status=500, probability=0.1, times=None, seed=1),
                Fault(kind="drop_before", probability=0.1, times=None, seed=2),
                Fault(kind="drop_after", probability=0.1, times=None, seed=3),
                Fault(kind="truncate", probability=0.05, times=None, seed=4),
                Fault(kind="status", status=429, probability=0.1, times=None, seed=5),
            ],
            id="mixed",
        ),
    ],
)
async def test_every_event_is_accounted_for_under_faults(
    kard: AsyncKard, kard_emulator: KardEmulator, faults: list[Fault]
) -> None:
    for fault in faults:
        fault.method, fault.path = "POST", "attributions$"
        kard_emulator.inject(fault)
    sent = pairs(6_000, users=40)

    report = await kard.users.attributions.bulk_create(sent, concurrency=8, max_retries=20)

    assert_accounted(report, sent)
    assert_exactly_once(report, sent, kard_emulator)
    assert sum(f.applied for f in faults) > 0
    if all(f.status in (429, 503) and f.kind == "status" for f in faults):
        assert report.ok, "429/503 are surely unprocessed, so they are retried until accepted"
    else:
        assert report.failed, "500 and dropped connections must be reported, not retried"
        unknown = [b for b in report.failed if b.outcome_unknown]
        assert unknown, "a dropped connection leaves the outcome unknown"


async def test_failed_events_can_be_sent_again(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="status", status=400, method="POST", times=2))
    sent = pairs(450, users=3)
    report = await kard.users.attributions.bulk_create(sent, concurrency=2)
    assert not report.ok
    assert report.failed_count > 0
    assert all(not batch.outcome_unknown for batch in report.failed)
    with pytest.raises(BulkUploadError) as caught:
        report.raise_for_failures()
    assert caught.value.report is report
    assert "failed" in str(caught.value)

    again = await kard.users.attributions.bulk_create(report.failed_events())
    assert again.ok
    assert again.accepted == report.failed_count
    again.raise_for_failures()
    assert sorted(recorded(kard_emulator).elements()) == sorted((u, e.entity_id) for u, e in sent)


async def test_memory_stays_bounded_and_input_is_consumed_lazily(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    produced = 0
    lag: list[int] = []
    users = 1_500

    def stream() -> Iterator[tuple[str, OfferAttribution]]:
        nonlocal produced
        rng = random.Random(5)
        for n in range(30_000):
            produced += 1
            yield f"user-{rng.randrange(users)}", event(n)

    def progress(p: BulkProgress) -> None:
        lag.append(produced - p.done)

    report = await kard.users.attributions.bulk_create(
        stream(), concurrency=4, max_buffered_events=2_000, on_progress=progress
    )
    assert report.ok
    assert report.accepted == 30_000
    # Buffered events, a queue of `concurrency` batches, the requests in flight, and one
    # chunk read ahead from the iterator (read off the event loop).
    assert max(lag) <= 2_000 + 4 * 100 + 4 * 100 + 100 + _READ_CHUNK
    # ~1.3 buffered events per user when the bound is hit: flushing everything would send
    # batches of ~1.3 events; flushing the largest first does at least twice as well.
    assert len(report.jobs) < 30_000 / 2, "early flushes should send the largest batches"


@pytest.mark.parametrize("max_buffered", [1, 3, 40])
async def test_a_tiny_memory_bound_with_invalid_items_still_accounts_for_everything(
    kard: AsyncKard, kard_emulator: KardEmulator, max_buffered: int
) -> None:
    items: list[object] = [(f"user-{n % 9}", event(n)) for n in range(240)]
    for n in range(5, 240, 17):
        items[n] = (f"user-{n % 9}", {"type": "offerAttribution"})  # invalid
    report = await kard.users.attributions.bulk_create(
        items,  # type: ignore[arg-type]
        concurrency=4,
        max_buffered_events=max_buffered,
    )
    assert [i.index for i in report.invalid] == list(range(5, 240, 17))
    assert report.accepted == 240 - len(report.invalid)
    assert not report.failed
    assert sum(recorded(kard_emulator).values()) == report.accepted
    # Never more than the bound waits: requests are cut that small.
    assert max(job.count for job in report.jobs) <= max(max_buffered, 1) + 1


async def test_progress_is_reported_in_running_totals_not_per_event(kard: AsyncKard) -> None:
    seen: list[BulkProgress] = []
    report = await kard.users.attributions.bulk_create(
        pairs(5_000, users=50), on_progress=seen.append
    )
    assert 1 <= len(seen) < 5_000 / 100 + 1
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1] == BulkProgress(accepted=report.accepted, failed=0, invalid=0)


async def test_retry_after_pauses_the_whole_uploader(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    responses: list[tuple[float, int]] = []

    def record(info: ResponseInfo) -> None:
        responses.append((time.monotonic(), info.status))

    kard_emulator.inject(
        Fault(kind="status", status=429, retry_after="0.5", method="POST", skip=3, times=1)
    )
    client = kard.with_options(on_response=record)
    report = await client.users.attributions.bulk_create(pairs(3_000, users=30), concurrency=6)

    assert report.ok
    throttled_at = next(t for t, status in responses if status == 429)
    # Requests already in flight may still finish; nothing new is sent during the pause.
    during = [t for t, status in responses if throttled_at + 0.1 < t < throttled_at + 0.45]
    assert not during, f"{len(during)} responses arrived during the Retry-After pause"
    assert any(t >= throttled_at + 0.45 for t, _ in responses)


async def test_cancelling_stops_promptly_with_no_orphan_tasks(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=0.2, method="POST", times=None))

    async def endless() -> AsyncIterator[tuple[str, OfferAttribution]]:
        n = 0
        while True:
            n += 1
            yield f"user-{n % 10}", event(n)

    before = asyncio.all_tasks()
    upload = asyncio.ensure_future(kard.users.attributions.bulk_create(endless(), concurrency=4))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert time.monotonic() - started < 1.0
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before


async def test_programming_errors_propagate(kard: AsyncKard) -> None:
    def broken() -> Iterator[tuple[str, OfferAttribution]]:
        yield "u", event(1)
        raise LookupError("bug in the caller's generator")

    before = asyncio.all_tasks()
    with pytest.raises(LookupError, match="caller's generator"):
        await kard.users.attributions.bulk_create(broken())

    def bad_progress(progress: BulkProgress) -> None:
        raise ZeroDivisionError("bug in the progress callback")

    with pytest.raises(ZeroDivisionError):
        await kard.users.attributions.bulk_create(pairs(300, users=3), on_progress=bad_progress)
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before


async def test_arguments_are_checked_before_anything_is_sent(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    for kwargs in (
        {"concurrency": 0},
        {"concurrency": 1_000_000},
        {"max_buffered_events": 0},
        {"max_retries": -1},
    ):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            await kard.users.attributions.bulk_create(pairs(10, users=1), **kwargs)  # type: ignore[arg-type]
    no_org = AsyncKard(token="t", base_url=kard.base_url)
    with pytest.raises(ValueError, match="organization_id"):
        await no_org.users.attributions.bulk_create(pairs(10, users=1))
    await no_org.aclose()
    assert not kard_emulator.requests


async def test_refused_credentials_fail_fast_without_flooding_the_token_endpoint(
    kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    async with AsyncKard(
        TEST_CLIENT_ID,
        "wrong-secret",
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
        retry_policy=FAST_RETRIES,
    ) as client:
        sent = pairs(2_000, users=20)
        report = await client.users.attributions.bulk_create(sent, concurrency=4)

    assert report.accepted == 0
    assert report.failed_count == 2_000
    assert all(not batch.outcome_unknown for batch in report.failed)
    assert "401" in str(report.failed[0].error)
    token_requests = [r for r in kard_emulator.requests if r.path.endswith("/auth/token")]
    assert len(token_requests) <= 4, "one refused token request per worker at most"
    assert not kard_emulator.attribution_events


async def test_concurrency_halves_on_push_back_and_ramps_back_up() -> None:
    from kard_async.bulk import _AdaptiveLimit

    limit = _AdaptiveLimit(16)
    limit.pushed_back()
    limit.pushed_back()
    assert limit.limit == 4.0
    for _ in range(4):
        await limit.acquire()
    blocked = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0.01)
    assert not blocked.done(), "a fifth request must wait while the limit is 4"
    limit.release()
    await asyncio.wait_for(blocked, 1.0)
    for _ in range(200):  # additive increase: about one more slot per round of successes
        limit.succeeded()
    assert limit.limit == 16.0
    for _ in range(10):
        limit.pushed_back()
    assert limit.limit == 1.0, "never below one request in flight"


async def test_a_slow_iterator_is_read_off_the_event_loop(kard: AsyncKard) -> None:
    """A blocking source (a file, a pipe, a cursor) must not stall other tasks."""

    def slow_source() -> Iterator[tuple[str, OfferAttribution]]:
        for n in range(300):
            time.sleep(0.001)  # a blocking read
            yield f"user-{n % 3}", event(n)

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.ensure_future(ticker())
    started = time.monotonic()
    report = await kard.users.attributions.bulk_create(slow_source())
    elapsed = time.monotonic() - started
    ticking.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticking
    assert report.ok
    assert report.accepted == 300
    # Blocked, the loop would tick only between batches (a handful of times).
    assert ticks >= elapsed / 0.005 / 3
