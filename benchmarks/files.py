"""Daily transaction files and sharded API uploads.

Measures (``--measure``):

* ``upload``: a large uncompressed JSONL file PUT to the emulator's presigned URL,
  ``--variant ours`` (``upload_file(path, compress=False)``) against ``--variant raw``
  (aiohttp PUTting the same open file, with the URL asked for by hand), or ``--variant
  paired``: both in one process, in turns (what the orchestrator runs); MB/s, and the
  resident set's growth during the upload (sampled every 5 ms).
* ``gzip``: ``--events`` ``Transaction`` models from a generator, written as JSONL and gzipped on
  the fly (then sent): events/s, uncompressed MB/s, the compression ratio, and the event
  loop's longest stall meanwhile; plus zlib levels 1, 6 and 9 on the same lines, to show
  why level 1.
* ``sharded``: ``--events`` attribution events for ``--users`` users through
  ``bulk_create``, ``--variant one`` process against ``--variant four`` processes
  (``kard_async.sharding.run_sharded``), each with its own client; events/s.

The emulator should run with ``--skip-file-checks`` for ``upload`` (it then only counts
bytes, so that the client, not the emulator's line checks, is measured).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

from kard_async import AsyncKard
from kard_async.models import Merchant, OfferAttribution, Transaction
from kard_async.sharding import Shard, run_sharded
from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID
from kard_async.transfer._parts import GZIP_LEVEL
from kard_async.transfer.lines import append_line

from ._common import (
    EVENT_DATE,
    current_rss_mib,
    emit,
    entity_id,
    event_code,
    in_turns,
    peak_rss_mib,
    pin,
)

MEASURES = ("upload", "gzip", "sharded")
MB = 1_000_000


def client(base_url: str) -> AsyncKard:
    return AsyncKard(
        TEST_CLIENT_ID, TEST_CLIENT_SECRET, organization_id=TEST_ORGANIZATION_ID, base_url=base_url
    )


AUTHORIZED = datetime(2025, 1, 30, 18, 21, 7, tzinfo=timezone.utc)
SETTLED = datetime(2025, 1, 31, 4, 0, tzinfo=timezone.utc)


def transaction(n: int) -> Transaction:
    """A realistic transaction, built (and so checked) as a caller would (about 530 bytes
    of JSON)."""
    return Transaction(
        id=f"bench-txn-{n:09d}",
        user_id=f"user-{n % 50_000:06d}",
        transaction_id=f"bench-txn-{n:09d}",
        amount=500 + n % 20_000,
        status="SETTLED",
        currency="USD",
        description=f"POS PURCHASE MERCHANT {n % 997:03d} PHILADELPHIA PA",
        direction="DEBIT",
        card_bin="412345",
        card_last_four=f"{n % 10_000:04d}",
        authorization_date=AUTHORIZED,
        settled_date=SETTLED,
        mcc="5812",
        merchant=Merchant(
            name=f"Merchant {n % 997:03d}",
            id=f"{400_000_000_000_000 + n % 997}",
            addr_city="Philadelphia",
            addr_state="PA",
            addr_zipcode="19107",
        ),
    )


def transactions(count: int) -> Iterator[Transaction]:
    return (transaction(n) for n in range(count))


class RssSampler:
    """The largest resident set seen while running (polled every 5 ms in a thread)."""

    def __init__(self) -> None:
        self.peak = current_rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, current_rss_mib())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mib())


class StallMeter:
    """The event loop's longest stall: the largest overshoot of a 5 ms sleep."""

    def __init__(self) -> None:
        self.max_stall = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            self.max_stall = max(self.max_stall, time.perf_counter() - started - 0.005)
            self.ticks += 1

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.ensure_future(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


# --- upload ---


def jsonl_file(megabytes: int) -> Path:
    """A JSONL file of about ``megabytes`` MB, made once and kept in the temp directory."""
    path = Path(tempfile.gettempdir()) / "kard-async-bench" / f"upload-{megabytes}MB.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    with open(partial, "wb") as file:
        n = 0
        while file.tell() < megabytes * MB:
            block = bytearray()
            for _ in range(2_000):
                append_line(block, transaction(n), n)
                n += 1
            file.write(block)
    os.replace(partial, path)
    return path


Upload = Callable[[], Awaitable[None]]
UPLOAD_TURNS = 3  # paired: uploads of each variant, in turns


def _ours_upload(kard: AsyncKard, path: Path, size: int) -> Upload:
    async def upload() -> None:
        result = await kard.transactions.upload_file(path, compress=False)
        assert result.bytes == size

    return upload


async def _raw_upload(session: aiohttp.ClientSession, base: str, path: Path, size: int) -> Upload:
    """What a caller writes by hand: a token, then per upload a URL and a PUT of the file."""
    async with session.post(
        f"{base}/v2/auth/token",
        json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
    ) as response:
        token = (await response.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    urls = f"{base}/v2/issuers/{TEST_ORGANIZATION_ID}/transactions/uploads"

    async def new_url(name: str) -> str:
        body = {"data": [{"type": "incomingTransactionsFile", "attributes": {"filename": name}}]}
        async with session.post(urls, json=body, headers=headers) as response:
            document = await response.json()
        return str(document["data"][0]["attributes"]["url"])

    await new_url("warm-up.jsonl")  # token and connection

    async def upload() -> None:
        url = await new_url(path.name)
        with open(path, "rb") as file:  # noqa: ASYNC230 - what a raw caller writes
            async with session.put(
                aiohttp.client.URL(url, encoded=True),
                data=file,
                headers={"Content-Length": str(size)},
            ) as response:
                await response.read()
                assert response.status == 200, response.status

    return upload


async def _timed(upload: Upload, size: int) -> dict[str, Any]:
    """One upload: its time, MB/s, and how far the resident set rose meanwhile."""
    baseline = current_rss_mib()
    with RssSampler() as rss:
        started = time.perf_counter()
        await upload()
        elapsed = time.perf_counter() - started
    return {
        "bytes": size,
        "elapsed_s": round(elapsed, 4),
        "mb_per_s": size / MB / elapsed,
        "baseline_rss_mib": round(baseline, 1),
        "peak_rss_during_mib": round(rss.peak, 1),
        "rss_growth_mib": round(rss.peak - baseline, 1),
    }


async def upload(args: argparse.Namespace) -> dict[str, Any]:
    """``--variant ours``, ``raw``, or ``paired``: both in this process, in turns
    (``UPLOAD_TURNS`` uploads each, the order alternating, ``gc.collect()`` before each), so
    that their ratio compares them on the same machine at the same time. One upload of 1 GB
    per process, in separate processes, read 83% in one run and 148% in another."""
    path = jsonl_file(args.megabytes)
    size = path.stat().st_size
    async with client(args.base_url) as kard, aiohttp.ClientSession() as session:
        uploads: dict[str, Upload] = {}
        if args.variant in ("ours", "paired"):
            await kard.transactions.upload_urls([("warm-up.jsonl", "incoming")])  # token
            uploads["ours"] = _ours_upload(kard, path, size)
        if args.variant in ("raw", "paired"):
            uploads["raw"] = await _raw_upload(session, args.base_url, path, size)
        if args.variant != "paired":
            (only,) = uploads.values()
            return await _timed(only, size)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in uploads}
        for turn in range(UPLOAD_TURNS):
            for name in in_turns(list(uploads), turn):
                runs[name].append(await _timed(uploads[name], size))
    paired = {name: _combined(done) for name, done in runs.items()}
    return {
        "bytes": size,
        "paired": paired,
        "ratio": paired["ours"]["mb_per_s"] / paired["raw"]["mb_per_s"],
    }


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several uploads of one variant: MB/s over their total time, the largest RSS rise."""
    elapsed = sum(run["elapsed_s"] for run in runs)
    return {
        "uploads": len(runs),
        "elapsed_s": round(elapsed / len(runs), 4),
        "mb_per_s": sum(run["bytes"] for run in runs) / MB / elapsed,
        "rss_growth_mib": max(run["rss_growth_mib"] for run in runs),
    }


# --- gzip on the fly ---


def compare_levels(count: int = 50_000) -> dict[str, dict[str, float]]:
    """zlib at levels 1, 6 and 9 on the same JSONL lines: MB/s of input, and ratio."""
    block = bytearray()
    for n in range(count):
        append_line(block, transaction(n), n)
    data = bytes(block)
    found = {}
    for level in (1, 6, 9):
        started = time.perf_counter()
        deflate = zlib.compressobj(level, zlib.DEFLATED, 31)
        size = 0
        for start in range(0, len(data), 1 << 18):
            size += len(deflate.compress(data[start : start + (1 << 18)]))
        size += len(deflate.flush())
        elapsed = time.perf_counter() - started
        found[str(level)] = {"mb_per_s": len(data) / MB / elapsed, "ratio": len(data) / size}
    return found


async def gzip_on_the_fly(args: argparse.Namespace) -> dict[str, Any]:
    levels = compare_levels()
    async with client(args.base_url) as kard:
        files = kard.transactions
        await files.upload_urls([("warm-up.jsonl.gz", "incoming")])
        baseline = current_rss_mib()
        with RssSampler() as rss:
            async with StallMeter() as loop:
                started = time.perf_counter()
                result = await files.upload_file(
                    transactions(args.events), filename="bench.jsonl.gz"
                )
                elapsed = time.perf_counter() - started
    assert result.lines == args.events
    raw_bytes = sum(len(_line(n)) for n in range(args.events))  # after the clock stopped
    return {
        "events": args.events,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": args.events / elapsed,
        "raw_mb": raw_bytes / MB,
        "raw_mb_per_s": raw_bytes / MB / elapsed,
        "gzip_mb": result.bytes / MB,
        "ratio": raw_bytes / result.bytes,
        "level": GZIP_LEVEL,
        "levels": levels,
        "max_stall_ms": loop.max_stall * 1e3,
        "loop_ticks": loop.ticks,
        "rss_growth_mib": round(rss.peak - baseline, 1),
    }


def _line(n: int) -> bytes:
    buffer = bytearray()
    append_line(buffer, transaction(n), n)
    return bytes(buffer)


# --- sharded API uploads ---


def attribution_events(events: int, users: int) -> Iterator[tuple[str, OfferAttribution]]:
    """The same input in every process (as the bulk measures: models, users round-robin)."""
    for n in range(events):
        yield (
            f"shard-user-{n % users:06d}",
            OfferAttribution(
                entity_id=entity_id(n),
                event_code=event_code(n),
                medium="BROWSE",
                event_date=EVENT_DATE,
            ),
        )


def shard_upload(shard: Shard, *, base_url: str, events: int, users: int) -> dict[str, Any]:
    """One process of the sharded run (also the whole of the one-process run)."""

    async def main() -> dict[str, Any]:
        async with client(base_url) as kard:
            started = time.perf_counter()
            report = await kard.users.attributions.bulk_create(
                shard.select(attribution_events(events, users)), concurrency=16
            )
            return {"accepted": report.accepted, "elapsed_s": time.perf_counter() - started}

    return asyncio.run(main())


def sharded(args: argparse.Namespace) -> dict[str, Any]:
    processes = 4 if args.variant == "four" else 1
    task = functools.partial(
        shard_upload, base_url=args.base_url, events=args.events, users=args.users
    )
    started = time.perf_counter()
    results = [task(Shard(0, 1))] if processes == 1 else run_sharded(task, processes)
    elapsed = time.perf_counter() - started
    accepted = sum(r["accepted"] for r in results)
    assert accepted == args.events, (accepted, args.events)
    slowest = max(r["elapsed_s"] for r in results)
    return {
        "events": args.events,
        "users": args.users,
        "processes": processes,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": args.events / elapsed,
        "upload_events_per_s": args.events / slowest,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.measure == "upload":
        return asyncio.run(upload(args))
    if args.measure == "gzip":
        return asyncio.run(gzip_on_the_fly(args))
    return sharded(args)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files")
    parser.add_argument("--measure", choices=MEASURES, default="upload")
    parser.add_argument(
        "--variant", default="ours", help="upload: ours|raw|paired; sharded: one|four"
    )
    parser.add_argument("--base-url", default=os.environ.get("KARD_BASE_URL", ""))
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--json", action="store_true", help="print one JSON result line")
    parser.add_argument("--megabytes", type=int, default=1000, help="upload: file size")
    parser.add_argument("--events", type=int, default=1_000_000, help="gzip/sharded: events")
    parser.add_argument("--users", type=int, default=1_000, help="sharded: users")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # The sharded run spreads over the machine's CPUs: pinning its parent would pin them all.
    cpus = pin(None if args.measure == "sharded" else args.cpu)
    result = run(args)
    result.update(measure=args.measure, variant=args.variant, cpus=cpus)
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    emit(result, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
