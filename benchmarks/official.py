"""Variant "official": the official Python SDK, ``kard-financial-sdk`` (httpx + pydantic).

``--mode async`` uses ``kard.AsyncKardApi``, ``--mode sync`` ``kard.KardApi`` (at
concurrency N, N threads share one client). For GET, ours (``AsyncKard`` with the async SDK,
``Kard`` with the sync one) runs in the same process, in turns with the SDK: the result
carries ``ours_rps`` and ``ours_ratio`` (ours' requests/s over the SDK's), which the report
judges the "100x" targets on. The SDK's clients are built the way its README shows:
``base_url`` plus ``client_id``/``client_secret`` OAuth. The httpx client is passed in only
so that it can be closed: it is configured exactly as the SDK's default
(``timeout=60, follow_redirects=True``; the SDK's optional aiohttp transport is not used).

Bulk is the straightforward code a user of the SDK would write, since the SDK has no bulk
helper: group the events per user, cut them into chunks of 100, and send the chunks with
``asyncio.gather`` under a semaphore of 16 on ``AsyncKardApi``. The SDK is about 100x
slower than the other variants, so its measured part stops starting new requests after
``--max-time`` seconds and its rate is what it sent in the time it took.

If the SDK is not installed the variant is skipped (with a note), never an error.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID

from . import ours, ours_sync
from ._common import (
    EVENT_DATE,
    GET_USER_ID,
    INCLUDE,
    LATITUDE,
    LONGITUDE,
    PAGE_SIZE,
    RADIUS,
    Skip,
    Turns,
    WorkerArgs,
    async_load,
    bulk_plan,
    bulk_rounds,
    check_page,
    entity_id,
    event_code,
    group_chunks,
    thread_load,
    worker_main,
)

MEASURES = ("get", "bulk")
BULK_CONCURRENCY = 16
SDK_TIMEOUT = 60.0  # the SDK's default
MISSING = "kard-financial-sdk is not installed (pip install -e . --group bench)"


def sdk_version() -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("kard-financial-sdk")
    except PackageNotFoundError:
        return None


def _import_sdk() -> Any:
    try:
        import kard
    except ImportError as error:
        raise Skip(MISSING) from error
    return kard


def _locations_kwargs() -> dict[str, Any]:
    return {
        "page_size": PAGE_SIZE,
        "filter_latitude": LATITUDE,
        "filter_longitude": LONGITUDE,
        "filter_radius": RADIUS,
        "include": ",".join(INCLUDE),  # CSV, as the API documents (a list would repeat keys)
    }


def _async_client(kard: Any, base_url: str, http: Any) -> Any:
    return kard.AsyncKardApi(
        base_url=base_url,
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
        httpx_client=http,
    )


def _http(*, sync: bool) -> Any:
    import httpx

    if sync:
        return httpx.Client(timeout=SDK_TIMEOUT, follow_redirects=True)
    return httpx.AsyncClient(timeout=SDK_TIMEOUT, follow_redirects=True)


async def get_async(args: WorkerArgs) -> dict[str, Any]:
    kard = _import_sdk()
    async with _http(sync=False) as http:
        return await _get_async(args, _async_client(kard, args.base_url, http))


async def _get_async(args: WorkerArgs, client: Any) -> dict[str, Any]:
    locations = client.users.rewards.locations
    kwargs = _locations_kwargs()

    async def fetch() -> object:
        return await locations(TEST_ORGANIZATION_ID, GET_USER_ID, **kwargs)

    check_page(len((await fetch()).data), "official async")  # token and connection
    await asyncio.gather(*(fetch() for _ in range(min(args.concurrency, 4))))
    async with ours.client(args.base_url) as kard:
        mine = ours.locations_fetcher(kard)
        check_page(len((await mine()).data), "ours")
        fetchers = {"official": fetch, "ours": mine}
        turns = _turns(args)
        for name in turns:
            turns.record(name, await async_load(fetchers[name], **_block(turns, name, args)))
    return {"concurrency": args.concurrency, **_with_ours(turns)}


def get_sync(args: WorkerArgs) -> dict[str, Any]:
    kard = _import_sdk()
    with _http(sync=True) as http:
        client = kard.KardApi(
            base_url=args.base_url,
            client_id=TEST_CLIENT_ID,
            client_secret=TEST_CLIENT_SECRET,
            httpx_client=http,
        )
        return _get_sync(args, client)


def _get_sync(args: WorkerArgs, client: Any) -> dict[str, Any]:
    locations = client.users.rewards.locations
    kwargs = _locations_kwargs()

    def fetch() -> object:
        return locations(TEST_ORGANIZATION_ID, GET_USER_ID, **kwargs)

    check_page(len(fetch().data), "official sync")  # type: ignore[attr-defined]
    with ours_sync.facade_client(args.base_url) as mine:
        fetchers = {"official": fetch, "ours": mine}
        check_page(len(mine().data), "ours sync")  # type: ignore[attr-defined]
        turns = _turns(args)
        for name in turns:
            turns.record(name, thread_load(fetchers[name], **_block(turns, name, args)))
    return {"concurrency": args.concurrency, **_with_ours(turns)}


# --- GET: ours in turns with the SDK, in its process ---

MIN_TURNS = 2  # each variant first once


def _turns(args: WorkerArgs) -> Turns:
    """The SDK and ours (async with async, blocking with blocking) take turns in one process,
    so that the ratio the targets use compares them on the same machine at the same time: in
    separate processes it swung from 90x to 180x on a shared VM while the code stayed the same.
    At least ``MIN_TURNS`` turns; then more until the blocks took twice ``--duration``, or
    ``--max-time`` passed."""
    return Turns(
        ("official", "ours"),
        min_turns=MIN_TURNS,
        budget=2 * args.duration,
        max_time=args.max_time,
    )


def _block(turns: Turns, name: str, args: WorkerArgs) -> dict[str, Any]:
    """The load of ``name``'s next block. The SDK: one request per caller in flight (at least
    2). Ours: as long as the SDK's last block (at most a second), at least twice as many."""
    requests, duration = max(args.concurrency, 2), 0.0
    if name == "ours":
        last = turns.last.get("official")
        requests, duration = 2 * requests, (min(last.elapsed, 1.0) if last else 0.0)
    return {
        "concurrency": args.concurrency,
        "duration": duration,
        "min_requests": requests,
        "max_time": args.max_time,
    }


def _with_ours(turns: Turns) -> dict[str, Any]:
    """The SDK's figures, with ours' rate in the same process and the ratio of the two."""
    official = turns.totals["official"].as_dict()
    ours_rps = turns.totals["ours"].as_dict()["rps"]
    return {**official, "ours_rps": ours_rps, "ours_ratio": ours_rps / official["rps"]}


async def bulk(args: WorkerArgs) -> dict[str, Any]:
    kard = _import_sdk()
    from kard.users.attributions import (
        CreateAttributionRequestUnion_OfferAttribution,
        OfferAttributionAttributes,
    )

    def event(n: int) -> Any:
        return CreateAttributionRequestUnion_OfferAttribution(
            attributes=OfferAttributionAttributes(
                entity_id=entity_id(n),
                event_code=event_code(n),
                medium="BROWSE",
                event_date=EVENT_DATE,
            )
        )

    pairs = [(user_id, event(n)) for user_id, n in bulk_plan(args.events, args.users)]
    async with _http(sync=False) as http:
        return await _bulk(args, _async_client(kard, args.base_url, http), pairs, event)


async def _bulk(
    args: WorkerArgs, client: Any, pairs: list[tuple[str, Any]], event: Callable[[int], Any]
) -> dict[str, Any]:
    create = client.users.attributions.create
    await asyncio.gather(
        *(
            create(TEST_ORGANIZATION_ID, "warm-user", data=[event(i)])
            for i in range(BULK_CONCURRENCY)
        )
    )

    async def upload() -> int:
        deadline = time.perf_counter() + args.max_time
        semaphore = asyncio.Semaphore(BULK_CONCURRENCY)

        async def send(user_id: str, events: list[Any]) -> int:
            async with semaphore:
                if time.perf_counter() > deadline:
                    return 0
                await create(TEST_ORGANIZATION_ID, user_id, data=events)
                return len(events)

        chunks = group_chunks(pairs)
        return sum(await asyncio.gather(*(send(user_id, events) for user_id, events in chunks)))

    rounds = await bulk_rounds(upload, min_time=args.duration)
    return {
        "events": args.events,
        "users": args.users,
        "capped": rounds["sent"] < args.events,
        **rounds,
    }


def run(args: WorkerArgs) -> dict[str, Any]:
    mode = args.mode or "async"
    name = f"official-{mode}"
    if args.measure == "get":
        result = get_sync(args) if mode == "sync" else asyncio.run(get_async(args))
    else:
        result = asyncio.run(bulk(args))
    return {"variant": name, **result}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.official", measures=MEASURES, run=run)


if __name__ == "__main__":
    sys.exit(main())
