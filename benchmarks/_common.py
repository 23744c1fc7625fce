"""What every benchmark worker shares: arguments, CPU pinning, timing loops, memory, output.

A worker is one client variant in its own process (``python -m benchmarks.<variant> --json
...``). It warms up (token, connections), measures, and prints exactly one JSON result line
prefixed with :data:`RESULT_PREFIX`; a variant whose dependencies are missing prints a result
with ``"skipped"`` instead of failing. The same run functions are importable, so tests can
run a variant in-process on tiny sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "

# The page every GET variant asks for: BENCHMARK_QUERY of kard_async.testing (100 locations
# around Philadelphia with include=offers,categories), as typed arguments.
GET_USER_ID = "bench-user"
LATITUDE = 39.9526
LONGITUDE = -75.1652
RADIUS = 25
PAGE_SIZE = 100
INCLUDE = ("offers", "categories")
EXPECTED_LOCATIONS = 100

EVENT_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)


class Skip(Exception):
    """Raised by a variant whose optional dependencies are missing (reported, not an error)."""


# --- process setup ---


def pin(cpu: int | None) -> list[int] | None:
    """Pin this process to ``cpu`` where the OS allows; return the CPUs it runs on."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    return sorted(os.sched_getaffinity(0))


def current_rss_mib() -> float:
    """Resident set size now, in MiB (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return float(psutil.Process().memory_info().rss) / 2**20
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_rss_mib()


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (the kernel's high-water mark), in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return float(peak) / (2**20 if sys.platform == "darwin" else 2**10)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


# --- worker command line and output ---


@dataclass
class WorkerArgs:
    measure: str
    base_url: str
    cpu: int | None
    json: bool
    concurrency: int
    duration: float
    min_requests: int
    max_time: float
    events: int
    users: int
    body: str | None
    variant: str | None
    mode: str | None


def parse_args(argv: Sequence[str] | None, *, measures: Sequence[str], prog: str) -> WorkerArgs:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--measure", choices=measures, default=measures[0])
    parser.add_argument("--base-url", default=os.environ.get("KARD_BASE_URL", ""))
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--json", action="store_true", help="print one JSON result line")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=3.0, help="GET: seconds to measure")
    parser.add_argument("--min-requests", type=int, default=20, help="GET: at least this many")
    parser.add_argument(
        "--max-time", type=float, default=30.0, help="wall-time cap of the measured part (s)"
    )
    parser.add_argument("--events", type=int, default=20_000, help="bulk: number of events")
    parser.add_argument("--users", type=int, default=200, help="bulk: number of users")
    parser.add_argument("--body", default=None, help="decode: file with the page body")
    parser.add_argument("--variant", default=None)
    parser.add_argument("--mode", default=None)
    ns = parser.parse_args(argv)
    return WorkerArgs(**vars(ns))


def emit(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        return
    for key, value in result.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else value
        print(f"{key:>22}: {shown}")


def worker_main(
    argv: Sequence[str] | None,
    *,
    prog: str,
    measures: Sequence[str],
    run: Callable[[WorkerArgs], dict[str, Any]],
) -> int:
    args = parse_args(argv, measures=measures, prog=prog)
    cpus = pin(args.cpu)
    try:
        result = run(args)
    except Skip as skip:
        result = {"skipped": str(skip)}
    result.setdefault("measure", args.measure)
    result["cpus"] = cpus
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    emit(result, as_json=args.json)
    return 0


# --- two variants sharing a process ---


def in_turns(names: Sequence[str], turn: int) -> Iterator[str]:
    """``names`` in order on even turns and reversed on odd ones, with a ``gc.collect()``
    before each (outside any clock): variants that share a process take turns, and none
    pays for another's garbage."""
    for name in names if turn % 2 == 0 else list(reversed(names)):
        gc.collect()
        yield name


# --- GET: closed-loop load at a fixed concurrency ---


@dataclass
class LoadResult:
    requests: int
    elapsed: float
    cpu: float
    latencies: list[float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "elapsed_s": round(self.elapsed, 4),
            "rps": self.requests / self.elapsed if self.elapsed > 0 else 0.0,
            "cpu_ms_per_request": self.cpu / self.requests * 1e3 if self.requests else 0.0,
            "p50_ms": percentile(self.latencies, 50) * 1e3,
            "p99_ms": percentile(self.latencies, 99) * 1e3,
        }

    def add(self, other: LoadResult) -> None:
        self.requests += other.requests
        self.elapsed += other.elapsed
        self.cpu += other.cpu
        self.latencies += other.latencies


class Turns:
    """Blocks of several variants in one process, in turns (see :func:`in_turns`): at least
    ``min_turns`` turns, then more until the blocks took ``budget`` seconds together or
    ``max_time`` seconds passed. Iterate it for whose block is next and ``record`` each
    block; ``totals`` sums them per variant, ``last`` keeps each one's latest."""

    def __init__(
        self, names: Sequence[str], *, min_turns: int, budget: float, max_time: float
    ) -> None:
        self.names = list(names)
        self.totals = {name: LoadResult(0, 0.0, 0.0, []) for name in names}
        self.last: dict[str, LoadResult] = {}
        self._min_turns = min_turns
        self._budget = budget
        self._deadline = time.perf_counter() + max(max_time, budget)

    def __iter__(self) -> Iterator[str]:
        turn = 0
        while turn < self._min_turns or (
            sum(t.elapsed for t in self.totals.values()) < self._budget
            and time.perf_counter() < self._deadline
        ):
            yield from in_turns(self.names, turn)
            turn += 1

    def record(self, name: str, block: LoadResult) -> None:
        self.last[name] = block
        self.totals[name].add(block)


class _Clock:
    """When to stop: after ``duration`` once ``min_requests`` are done, or at ``max_time``."""

    def __init__(self, duration: float, min_requests: int, max_time: float) -> None:
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.soft = self.start + duration
        self.hard = self.start + max(max_time, duration)
        self.min_requests = min_requests

    def more(self, done: int) -> bool:
        now = time.perf_counter()
        return now < self.hard and (now < self.soft or done < self.min_requests)


async def async_load(
    fetch: Callable[[], Awaitable[object]],
    *,
    concurrency: int,
    duration: float,
    min_requests: int,
    max_time: float,
) -> LoadResult:
    """``concurrency`` tasks each calling ``fetch`` back to back until the clock stops."""
    latencies: list[float] = []
    clock = _Clock(duration, min_requests, max_time)
    started = 0

    async def worker() -> None:
        nonlocal started
        while clock.more(started):
            started += 1
            t0 = time.perf_counter()
            await fetch()
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(
        len(latencies),
        time.perf_counter() - clock.start,
        time.process_time() - clock.cpu_start,
        latencies,
    )


def thread_load(
    fetch: Callable[[], object],
    *,
    concurrency: int,
    duration: float,
    min_requests: int,
    max_time: float,
) -> LoadResult:
    """``concurrency`` threads each calling a blocking ``fetch`` back to back."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    clock = _Clock(duration, min_requests, max_time)
    started = 0

    def worker() -> None:
        nonlocal started
        try:
            while True:
                with lock:
                    if not clock.more(started):
                        return
                    started += 1
                t0 = time.perf_counter()
                fetch()
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
        except BaseException as error:  # reported to the main thread
            errors.append(error)

    if concurrency == 1:
        worker()
    else:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return LoadResult(
        len(latencies),
        time.perf_counter() - clock.start,
        time.process_time() - clock.cpu_start,
        latencies,
    )


def check_page(count: int, what: str) -> None:
    if count != EXPECTED_LOCATIONS:
        raise RuntimeError(f"{what}: expected {EXPECTED_LOCATIONS} locations, got {count}")


# --- bulk attributions: the same input for every variant ---


def bulk_plan(events: int, users: int) -> list[tuple[str, int]]:
    """``(user_id, n)`` pairs in arrival order: events come round-robin over the users
    (as they would by time), so every variant has to group them per user."""
    user_ids = [f"bulk-user-{i:05d}" for i in range(users)]
    return [(user_ids[i % users], i) for i in range(events)]


def entity_id(n: int) -> str:
    return f"offer-{n % 997:04d}"


def event_code(n: int) -> str:
    return "VIEW" if n % 3 else "IMPRESSION"


async def bulk_rounds(
    upload: Callable[[], Awaitable[int]], *, min_time: float, max_rounds: int = 50
) -> dict[str, Any]:
    """Time ``upload`` (one whole bulk upload; returns the events it sent) round after round
    until ``min_time`` seconds are measured; the rate is the median round's."""
    rates: list[float] = []
    cpu_rates: list[float] = []
    total = 0.0
    sent = 0
    while not rates or (total < min_time and len(rates) < max_rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        sent = await upload()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        total += elapsed
        rates.append(sent / elapsed if elapsed > 0 else 0.0)
        cpu_rates.append(sent / cpu if cpu > 0 else float("nan"))
    return {
        "rounds": len(rates),
        "sent": sent,
        "measured_s": round(total, 4),
        "events_per_s": median(rates),
        "events_per_cpu_s": median(cpu_rates),
    }


def group_chunks(pairs: list[tuple[str, Any]], size: int = 100) -> list[tuple[str, list[Any]]]:
    """The straightforward user code: group by user, cut each user's events into chunks."""
    by_user: dict[str, list[Any]] = {}
    for user_id, event in pairs:
        by_user.setdefault(user_id, []).append(event)
    return [
        (user_id, events[i : i + size])
        for user_id, events in by_user.items()
        for i in range(0, len(events), size)
    ]


def memory_stream(events: int, users: int, window: int = 500) -> Iterator[tuple[str, int]]:
    """``(user_id, n)`` for the memory run: users in windows of ``window``, round-robin
    inside a window, so about ``window * 100`` events wait for their batch to fill."""
    per_user = max(1, events // users)
    produced = 0
    for first in range(0, users, window):
        members = [f"mem-user-{u:06d}" for u in range(first, min(users, first + window))]
        for _ in range(per_user):
            for user_id in members:
                if produced >= events:
                    return
                yield user_id, produced
                produced += 1


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
