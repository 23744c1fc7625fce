"""Variant "ours (async)": ``kard_async.AsyncKard``, used the way its README shows.

Measures: ``get`` (one locations page per call), ``bulk``
(``kard.users.attributions.bulk_create(pairs, concurrency=16)``) and ``memory`` (1,000,000
events for 10,000 users streamed from a generator through ``bulk_create``).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from kard_async import AsyncKard
from kard_async.models import OfferAttribution
from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID

from ._common import (
    EVENT_DATE,
    GET_USER_ID,
    INCLUDE,
    LATITUDE,
    LONGITUDE,
    PAGE_SIZE,
    RADIUS,
    WorkerArgs,
    async_load,
    bulk_plan,
    bulk_rounds,
    check_page,
    current_rss_mib,
    entity_id,
    event_code,
    memory_stream,
    peak_rss_mib,
    worker_main,
)

MEASURES = ("get", "bulk", "memory")
BULK_CONCURRENCY = 16  # unless --concurrency says otherwise


def client(base_url: str) -> AsyncKard:
    return AsyncKard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=base_url,
    )


def event(n: int) -> OfferAttribution:
    return OfferAttribution(
        entity_id=entity_id(n), event_code=event_code(n), medium="BROWSE", event_date=EVENT_DATE
    )


def locations_fetcher(kard: AsyncKard) -> Callable[[], Awaitable[Any]]:
    """One call: the benchmark's locations page, the way the README shows."""
    locations = kard.users.rewards.locations

    async def fetch() -> Any:
        return await locations(
            GET_USER_ID,
            latitude=LATITUDE,
            longitude=LONGITUDE,
            radius=RADIUS,
            page_size=PAGE_SIZE,
            include=INCLUDE,
        )

    return fetch


async def get(args: WorkerArgs) -> dict[str, Any]:
    async with client(args.base_url) as kard:
        fetch = locations_fetcher(kard)
        check_page(len((await fetch()).data), "ours")
        for _ in range(2):  # token, connections, decoder warm; no page kept (peak RSS)
            await asyncio.gather(*(fetch() for _ in range(args.concurrency)))
        load = await async_load(
            fetch,
            concurrency=args.concurrency,
            duration=args.duration,
            min_requests=args.min_requests,
            max_time=args.max_time,
        )
    return {"concurrency": args.concurrency, **load.as_dict()}


async def _warm_writes(kard: AsyncKard) -> None:
    create = kard.users.attributions.create
    await asyncio.gather(*(create("warm-user", [event(i)]) for i in range(BULK_CONCURRENCY)))


async def bulk(args: WorkerArgs) -> dict[str, Any]:
    pairs = [(user_id, event(n)) for user_id, n in bulk_plan(args.events, args.users)]
    concurrency = args.concurrency if args.concurrency > 1 else BULK_CONCURRENCY
    requests: list[int] = []
    async with client(args.base_url) as kard:
        upload = await bulk_uploader(kard, pairs, concurrency, requests=requests)
        rounds = await bulk_rounds(upload, min_time=args.duration)
    return {"events": args.events, "users": args.users, "requests": requests[-1], **rounds}


async def bulk_uploader(
    kard: AsyncKard,
    pairs: list[tuple[str, OfferAttribution]],
    concurrency: int,
    *,
    requests: list[int] | None = None,
) -> Callable[[], Awaitable[int]]:
    """Warm the client's writes; then each call is one whole ``bulk_create`` of ``pairs``
    (its number of requests appended to ``requests``)."""
    await _warm_writes(kard)

    async def upload() -> int:
        report = await kard.users.attributions.bulk_create(pairs, concurrency=concurrency)
        if not report.ok or report.accepted != len(pairs):
            raise RuntimeError(f"ours bulk_create did not deliver every event: {report}")
        if requests is not None:
            requests.append(len(report.jobs))
        return report.accepted

    return upload


def _stream(events: int, users: int) -> Iterator[tuple[str, OfferAttribution]]:
    for user_id, n in memory_stream(events, users):
        yield user_id, event(n)


async def memory(args: WorkerArgs) -> dict[str, Any]:
    async with client(args.base_url) as kard:
        await _warm_writes(kard)
        gc.collect()
        baseline = current_rss_mib()
        peak_before = peak_rss_mib()
        started = time.perf_counter()
        report = await kard.users.attributions.bulk_create(
            _stream(args.events, args.users), concurrency=BULK_CONCURRENCY
        )
        elapsed = time.perf_counter() - started
        peak = peak_rss_mib()
    if not report.ok or report.accepted != args.events:
        raise RuntimeError(f"ours bulk_create did not deliver every event: {report}")
    return {
        "events": args.events,
        "users": args.users,
        "sent": report.accepted,
        "requests": len(report.jobs),
        "elapsed_s": round(elapsed, 3),
        "events_per_s": report.accepted / elapsed,
        "baseline_rss_mib": round(baseline, 1),
        "peak_rss_before_mib": round(peak_before, 1),
        "peak_rss_after_mib": round(peak, 1),
        "rss_growth_mib": round(peak - baseline, 1),
    }


def run(args: WorkerArgs) -> dict[str, Any]:
    measure = {"get": get, "bulk": bulk, "memory": memory}[args.measure]
    return {"variant": "ours", **asyncio.run(measure(args))}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.ours", measures=MEASURES, run=run)


if __name__ == "__main__":
    sys.exit(main())
