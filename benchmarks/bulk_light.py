"""The client-bound bulk measure: ours and the minimal uploader in one process, round by round.

Both upload the same events (20,000 for 200 users in a full run), 32 requests in flight, to
:mod:`benchmarks.light_server`, which answers at once: the clients are the bottleneck, so
what counts is each client's CPU per event. The two take turns, one whole upload each (ours
first in even rounds, the minimal uploader first in odd ones), every upload timed with
``process_time`` after a ``gc.collect()`` outside the clock, so neither pays for the other's
garbage. A machine that slows down for a while weighs on both alike: on a shared VM, runs of
the two in separate processes a second apart differed by up to a factor of two.

The result carries one entry per variant under ``paired`` (the orchestrator files each under
its variant) and ``cpu_ratio``: ours' events per CPU-second over the minimal uploader's,
from the CPU time of all rounds.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from . import minimal, ours
from ._common import WorkerArgs, bulk_plan, in_turns, worker_main

MEASURES = ("bulk",)
MAX_ROUNDS = 100


async def paired(args: WorkerArgs) -> dict[str, Any]:
    plan = bulk_plan(args.events, args.users)
    concurrency = max(1, args.concurrency)
    async with ours.client(args.base_url) as kard, aiohttp.ClientSession() as session:
        uploads: dict[str, Callable[[], Awaitable[int]]] = {
            "ours": await ours.bulk_uploader(
                kard, [(user, ours.event(n)) for user, n in plan], concurrency
            ),
            "minimal": await minimal.bulk_uploader(
                session, args.base_url, [(user, minimal.event(n)) for user, n in plan], concurrency
            ),
        }
        for upload in uploads.values():  # connections, caches: warm before the clock
            await upload()
        wall = dict.fromkeys(uploads, 0.0)
        cpu = dict.fromkeys(uploads, 0.0)
        rounds = 0
        while rounds < 2 or (sum(wall.values()) < 2 * args.duration and rounds < MAX_ROUNDS):
            for name in in_turns(list(uploads), rounds):
                started, cpu_started = time.perf_counter(), time.process_time()
                sent = await uploads[name]()
                wall[name] += time.perf_counter() - started
                cpu[name] += time.process_time() - cpu_started
                if sent != len(plan):
                    raise RuntimeError(f"{name} sent {sent} of {len(plan)} events")
            rounds += 1
    events = rounds * len(plan)
    rates = {
        name: {"events_per_s": events / wall[name], "events_per_cpu_s": events / cpu[name]}
        for name in uploads
    }
    return {
        "events": args.events,
        "users": args.users,
        "rounds": rounds,
        "paired": rates,
        "cpu_ratio": cpu["minimal"] / cpu["ours"],
    }


def run(args: WorkerArgs) -> dict[str, Any]:
    return {"variant": "paired", **asyncio.run(paired(args))}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.bulk_light", measures=MEASURES, run=run)


if __name__ == "__main__":
    sys.exit(main())
