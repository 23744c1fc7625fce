"""How much the blocking facade costs compared with the async client.

    python benchmarks/sync_overhead.py [--seconds 0.5] [--repetitions 21]

Starts the emulator in its own process (``python -m kard_async.testing --port 0``), then
measures, in interleaved repetitions (async, sync, async, sync, ...):

* sequential GET throughput on the ~240 KB page of 100 locations with offers and categories
  (``kard_async.testing.BENCHMARK_QUERY``): ``AsyncKard`` at concurrency 1 vs ``Kard``;
* latency of a tiny GET (one offer), async vs sync: the per-call overhead of the facade;
* a bare portal hop (an empty coroutine run through the facade's runtime).

It prints medians and the sync/async ratio (the goal: sync >= 90% of async throughput).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kard_async import AsyncKard, Kard
from kard_async.testing import (
    BENCHMARK_QUERY,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
)

USER = "bench-user"


def location_filters() -> dict[str, Any]:
    """BENCHMARK_QUERY (raw query parameters) as keyword arguments of ``locations()``."""
    query = BENCHMARK_QUERY
    return {
        "latitude": float(query["filter[latitude]"]),
        "longitude": float(query["filter[longitude]"]),
        "radius": int(query["filter[radius]"]),
        "page_size": int(query["page[size]"]),
        "include": query["include"].split(","),
    }


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kard_async.testing", "--port", "0", "--cache-reads"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("KARD_BASE_URL="):
            return process, line.strip().split("=", 1)[1]
        if not line and process.poll() is not None:
            break
    process.kill()
    raise SystemExit("the emulator did not start")


def settings(base_url: str) -> dict[str, Any]:
    return {
        "client_id": TEST_CLIENT_ID,
        "client_secret": TEST_CLIENT_SECRET,
        "organization_id": TEST_ORGANIZATION_ID,
        "base_url": base_url,
    }


async def async_rate(
    kard: AsyncKard, call: Callable[[], Awaitable[object]], seconds: float
) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await call()
        count += 1
    return count / elapsed


def sync_rate(call: Callable[[], object], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        call()
        count += 1
    return count / elapsed


def report(name: str, unit: str, async_values: list[float], sync_values: list[float]) -> None:
    a, s = statistics.median(async_values), statistics.median(sync_values)
    print(f"{name}")
    print(
        f"  async : median {a:10.1f} {unit}  (runs: {', '.join(f'{v:.0f}' for v in async_values)})"
    )
    print(
        f"  sync  : median {s:10.1f} {unit}  (runs: {', '.join(f'{v:.0f}' for v in sync_values)})"
    )
    print(f"  sync/async = {s / a:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one run")
    parser.add_argument("--repetitions", type=int, default=21)
    parser.add_argument(
        "--base-url", help="use an emulator that is already running (e.g. on another CPU)"
    )
    args = parser.parse_args()
    emulator, base_url = (None, args.base_url) if args.base_url else start_emulator()
    filters = location_filters()
    loop = asyncio.new_event_loop()
    try:
        async_kard = AsyncKard(**settings(base_url))
        sync_kard = Kard(**settings(base_url))

        async def big_async() -> object:
            return await async_kard.users.rewards.locations(USER, **filters)

        async def tiny_async() -> object:
            return await async_kard.users.rewards.offers(USER, page_size=1)

        def big_sync() -> object:
            return sync_kard.users.rewards.locations(USER, **filters)

        def tiny_sync() -> object:
            return sync_kard.users.rewards.offers(USER, page_size=1)

        page = big_sync()
        size = len(getattr(page, "data", []))
        print(f"emulator at {base_url}; benchmark page: {size} locations")
        for _ in range(20):  # warm up both (token, connections, caches)
            loop.run_until_complete(big_async())
            big_sync()

        results: dict[str, tuple[list[float], list[float]]] = {
            "big": ([], []),
            "tiny": ([], []),
        }
        for _ in range(args.repetitions):
            results["big"][0].append(
                loop.run_until_complete(async_rate(async_kard, big_async, args.seconds))
            )
            results["big"][1].append(sync_rate(big_sync, args.seconds))
            results["tiny"][0].append(
                loop.run_until_complete(async_rate(async_kard, tiny_async, args.seconds / 2))
            )
            results["tiny"][1].append(sync_rate(tiny_sync, args.seconds / 2))

        report(
            "GET 100 locations + offers + categories (~240 KB), sequential, requests/s",
            "req/s",
            *results["big"],
        )
        tiny_async_us = [1e6 / rate for rate in results["tiny"][0]]
        tiny_sync_us = [1e6 / rate for rate in results["tiny"][1]]
        report("GET one offer, latency per call, microseconds", "us", tiny_async_us, tiny_sync_us)
        overhead = statistics.median(tiny_sync_us) - statistics.median(tiny_async_us)
        print(f"  facade overhead per call: {overhead:.0f} us")

        handle = sync_kard._handle

        async def nothing() -> None:
            return None

        hops = []
        for _ in range(args.repetitions):
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < args.seconds / 3:
                handle.run(nothing())
                count += 1
            hops.append((time.perf_counter() - started) / count * 1e6)
        print(f"bare portal hop (empty coroutine): median {statistics.median(hops):.1f} us")

        sync_kard.close()
        loop.run_until_complete(async_kard.aclose())
    finally:
        loop.close()
        if emulator is not None:
            emulator.terminate()
            emulator.wait(10)


if __name__ == "__main__":
    main()
