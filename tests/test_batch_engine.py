"""The batch engine's guarantees under interruption (issue #8 items 3, 4, 6, 17 and 18):
every item taken from the input is in the report exactly once, never-sent batches are not
"outcome unknown", and the work is sized by the input."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import pytest

from kard_async import AsyncKard, Kard, RepeatedCursorError, ResponseInfo, RetryPolicy
from kard_async.bulk import BulkProgress, BulkReport
from kard_async.models import OfferAttribution
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

WHEN = datetime(2026, 1, 2, tzinfo=timezone.utc)


def event(n: int) -> OfferAttribution:
    return OfferAttribution(
        entity_id=f"offer-{n}", event_code="IMPRESSION", medium="BROWSE", event_date=WHEN
    )


@pytest.fixture
async def kard(kard_server: EmulatorServer) -> AsyncIterator[AsyncKard]:
    async with AsyncKard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
        retry_policy=RetryPolicy(base_delay=0.001, max_delay=0.01),
    ) as client:
        yield client


def entities(report: BulkReport) -> Counter[str]:
    """Every event id the report files anywhere (accepted ones from the server's records)."""
    seen: Counter[str] = Counter()
    for batch in report.failed:
        seen.update(e.entity_id for e in batch.items)
    for invalid in report.invalid:
        seen[str(invalid.item)] += 1
    return seen


async def test_item03_a_raising_progress_callback_counts_each_batch_once(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    def progress(_: BulkProgress) -> None:
        raise RuntimeError("callback bug")

    items = [(f"user-{n % 3}", event(n)) for n in range(300)]
    with pytest.raises(RuntimeError, match="callback bug") as caught:
        await kard.users.attributions.bulk_create(items, on_progress=progress, concurrency=1)
    report: BulkReport = caught.value.kard_bulk_report  # type: ignore[attr-defined]
    failed = entities(report)
    assert max(failed.values(), default=1) == 1
    assert report.accepted + report.failed_count == 300  # not 400
    recorded = {e.attributes["entityId"] for e in kard_emulator.attribution_events}
    accepted_or_unknown = recorded | {
        e.entity_id for b in report.failed if b.outcome_unknown for e in b.items
    }
    assert not (
        recorded & {e.entity_id for b in report.failed if not b.outcome_unknown for e in b.items}
    )
    assert len(accepted_or_unknown) >= report.accepted


async def test_item04_cancel_reports_everything_taken_and_stops_reading(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=0.3, method="POST", times=None))
    taken = 0
    lock = threading.Lock()

    def source() -> Iterator[tuple[str, OfferAttribution]]:
        nonlocal taken
        n = 0
        while True:
            with lock:
                taken += 1
            n += 1
            yield f"user-{n % 50}", event(n)

    generator = source()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(
            kard.users.attributions.bulk_create(generator, concurrency=4, max_buffered_events=500),
            timeout=0.5,
        )
    # asyncio.wait_for re-raises a new TimeoutError; the report rides on the cancellation.
    await asyncio.sleep(0.2)
    with lock:
        after_call = taken
    await asyncio.sleep(0.2)
    with lock:
        assert taken == after_call, "the input was read after the call ended"
    next(generator)  # not "generator already executing": nobody else is reading it


async def test_item04_cancel_report_covers_every_item_taken(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=0.3, method="POST", times=None))
    taken = 0

    def source() -> Iterator[tuple[str, OfferAttribution]]:
        nonlocal taken
        n = 0
        while True:
            taken += 1
            n += 1
            yield f"user-{n % 50}", event(n)

    upload = asyncio.ensure_future(
        kard.users.attributions.bulk_create(source(), concurrency=4, max_buffered_events=500)
    )
    await asyncio.sleep(0.5)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await upload
    report: BulkReport = caught.value.kard_bulk_report  # type: ignore[attr-defined]
    assert report.accepted + report.failed_count + len(report.invalid) == taken
    unsent = [b for b in report.failed if not b.sent]
    assert unsent
    assert all(not b.outcome_unknown for b in unsent)


class _Slow(http.server.BaseHTTPRequestHandler):
    """POSTs 1-4: 429 (the limit halves to 1); 5-10: 201 at once (their workers take new
    batches and wait for a slot); later ones: never answered (on the wire when cancelled)."""

    arrivals = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            type(self).arrivals += 1
            arrival = type(self).arrivals
        if arrival > 10:
            time.sleep(3)
            return
        status, body = (429, b'{"errors": []}') if arrival <= 4 else (201, JOB)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


JOB = b'{"data": {"type": "job", "id": "j", "attributes": {"status": "queued"}}}'


async def test_item06_batches_waiting_for_a_slot_are_unsent_not_unknown() -> None:
    _Slow.arrivals = 0
    with serve(_Slow) as url:
        items = [(f"user-{n % 20}", event(n)) for n in range(2_000)]
        async with AsyncKard(token="t", base_url=url, organization_id="org") as kard:
            upload = asyncio.ensure_future(
                kard.users.attributions.bulk_create(items, concurrency=8)
            )
            for _ in range(500):  # until some requests hang on the wire (bounded: 10 s)
                if _Slow.arrivals > 12:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)
            upload.cancel()
            with pytest.raises(asyncio.CancelledError) as caught:
                await upload
    report: BulkReport = caught.value.kard_bulk_report  # type: ignore[attr-defined]
    hanging = _Slow.arrivals - 10
    unknown = [b for b in report.failed if b.outcome_unknown]
    assert hanging > 0
    assert len(unknown) <= hanging, "only requests on the wire are outcome unknown"
    unsent = [b for b in report.failed if not b.sent]
    assert unsent, "batches held while waiting for a slot were never sent"
    assert len(report.failed_events(include_unknown=False)) == 100 * len(unsent)
    assert report.accepted + report.failed_count == 2_000


async def test_item18_concurrency_is_capped_and_workers_follow_the_input(
    kard: AsyncKard,
) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await kard.users.attributions.bulk_create([], concurrency=1_000_000)
    tasks: list[int] = []

    def count(_: ResponseInfo) -> None:
        tasks.append(len(asyncio.all_tasks()))

    report = await kard.with_options(on_response=count).users.attributions.bulk_create(
        [("user-1", event(1))], concurrency=1_024
    )
    assert report.accepted == 1
    assert max(tasks) < 10, "one event needs one worker, not 1,024"


# --- item 17: a server that repeats its cursor ---


class _Looping(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {
                "data": [{"type": "standardOffer", "id": "o1", "attributes": {"name": "Loop"}}],
                "links": {"self": "/x", "next": "/x?page[after]=same"},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_item17_a_repeated_cursor_stops_iteration() -> None:
    with serve(_Looping) as url:
        async with AsyncKard(token="t", base_url=url, organization_id="org") as kard:
            seen: list[str] = []

            async def walk() -> None:
                async for offer in kard.users.rewards.offers("u"):
                    seen.append(offer.id)

            with pytest.raises(RepeatedCursorError, match="repeated the cursor 'same'"):
                await walk()
            assert seen == ["o1", "o1"]  # the first page, and the one the cursor led to
            page = await kard.users.rewards.offers("u")
            assert page.next_cursor == "same"


def test_item17_a_repeated_cursor_stops_blocking_iteration() -> None:
    with serve(_Looping) as url, Kard(token="t", base_url=url, organization_id="org") as kard:
        offers = kard.users.rewards.offers("u")
        assert offers.next_cursor == "same"
        with pytest.raises(RepeatedCursorError):
            list(offers)
