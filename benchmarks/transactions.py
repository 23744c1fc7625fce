"""The transaction measures, every variant in one worker (``--measure``, ``--variant``):

``bulk``
    100,000 transactions over 1,000 users, built before the clock starts, 32 requests in
    flight. ``ours``: ``kard.transactions.bulk_create(transactions, concurrency=32)``.
    ``minimal``: aiohttp + msgspec, the straightforward code (chunks of 500,
    ``asyncio.gather`` under a semaphore of 32, each body encoded when sent, each answer
    decoded). ``raw``: the same posting bodies encoded before the clock, answers not
    decoded: what the emulator can absorb. ``official``: the official SDK's
    ``AsyncKardApi.transactions.create`` the way its users would call it (chunks of 500,
    gather under a semaphore of 32), capped in wall time.
``memory``
    ``ours``: 1,000,000 transactions built lazily by a generator, through ``bulk_create``
    with its defaults (16 requests in flight); the peak RSS growth.
``decode``
    A 100-row earned-rewards page with merchants and offers: ``ours``
    (``decoder_for(EarnedRewardsPage)``), ``structs`` (plain ``gc=False`` Structs),
    ``json`` and ``official`` (``json.loads`` + ``parse_obj_as``).

One upload round per process: the emulator refuses an id twice, so ids carry a per-process
prefix and each variant sends its transactions once.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import aiohttp

from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID

from . import _transaction_data as data
from ._common import (
    Skip,
    WorkerArgs,
    bulk_rounds,
    current_rss_mib,
    median,
    peak_rss_mib,
    worker_main,
)
from .decode import measure as time_decodes

MEASURES = ("bulk", "memory", "decode")
CONCURRENCY = 32
PER_REQUEST = 500
DECODE_VARIANTS = ("ours", "structs", "json", "official")
MISSING = "kard-financial-sdk is not installed (pip install -e . --group bench)"


# --- ours ---


def _ours_client(base_url: str) -> Any:
    from kard_async import AsyncKard

    return AsyncKard(
        TEST_CLIENT_ID, TEST_CLIENT_SECRET, organization_id=TEST_ORGANIZATION_ID, base_url=base_url
    )


def _ours_transaction(fields: dict[str, Any]) -> Any:
    from kard_async.models import Merchant, Transaction

    return Transaction(**{**fields, "merchant": Merchant(**fields["merchant"])})


async def _ours_warm(kard: Any, prefix: str) -> None:
    warm = [_ours_transaction(data.transaction_fields(n, 1, prefix + "warm-")) for n in range(32)]
    await asyncio.gather(*(kard.transactions.create([t]) for t in warm))


async def bulk_ours(args: WorkerArgs) -> dict[str, Any]:
    prefix = data.run_prefix()
    items = [
        _ours_transaction(data.transaction_fields(n, args.users, prefix))
        for n in range(args.events)
    ]
    requests = 0
    async with _ours_client(args.base_url) as kard:
        await _ours_warm(kard, prefix)

        async def upload() -> int:
            nonlocal requests
            report = await kard.transactions.bulk_create(items, concurrency=CONCURRENCY)
            if not report.ok or report.accepted != len(items):
                raise RuntimeError(f"ours bulk_create did not deliver every transaction: {report}")
            requests = len(report.jobs)
            return int(report.accepted)

        rounds = await bulk_rounds(upload, min_time=0.0)
    return {"events": args.events, "users": args.users, "requests": requests, **rounds}


def _stream(count: int, users: int, prefix: str) -> Iterator[Any]:
    for n in range(count):
        yield _ours_transaction(data.transaction_fields(n, users, prefix))


async def memory_ours(args: WorkerArgs) -> dict[str, Any]:
    prefix = data.run_prefix()
    async with _ours_client(args.base_url) as kard:
        await _ours_warm(kard, prefix)
        gc.collect()
        baseline = current_rss_mib()
        peak_before = peak_rss_mib()
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await kard.transactions.bulk_create(_stream(args.events, args.users, prefix))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        peak = peak_rss_mib()
    if not report.ok or report.accepted != args.events:
        raise RuntimeError(f"ours bulk_create did not deliver every transaction: {report}")
    return {
        "events": args.events,
        "users": args.users,
        "sent": report.accepted,
        "requests": len(report.jobs),
        "elapsed_s": round(elapsed, 3),
        "events_per_s": report.accepted / elapsed,
        "events_per_cpu_s": report.accepted / cpu if cpu > 0 else float("nan"),
        "baseline_rss_mib": round(baseline, 1),
        "peak_rss_before_mib": round(peak_before, 1),
        "peak_rss_after_mib": round(peak, 1),
        "rss_growth_mib": round(peak - baseline, 1),
    }


# --- minimal and raw ---


async def bulk_minimal(args: WorkerArgs, *, decode: bool) -> dict[str, Any]:
    prefix = data.run_prefix()
    items = [
        data.minimal_transaction(data.transaction_fields(n, args.users, prefix))
        for n in range(args.events)
    ]
    chunks = [items[i : i + PER_REQUEST] for i in range(0, len(items), PER_REQUEST)]
    encode = msgspec_encoder()
    prebuilt = [encode(data.MBody(chunk)) for chunk in chunks] if not decode else []
    url = f"{args.base_url}/v2/issuers/{TEST_ORGANIZATION_ID}/transactions"
    job = msgspec_job_decoder()
    async with aiohttp.ClientSession() as session:
        payload = {"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET}
        async with session.post(f"{args.base_url}/v2/auth/token", json=payload) as response:
            token = (await response.json())["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

        async def post(body: bytes, count: int) -> int:
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                if response.status >= 300:
                    raise RuntimeError(f"POST transactions: HTTP {response.status}: {answer!r}")
            if decode:
                job(answer)
            return count

        warm = [
            data.minimal_transaction(data.transaction_fields(n, 1, prefix + "warm-"))
            for n in range(CONCURRENCY)
        ]
        await asyncio.gather(*(post(encode(data.MBody([t])), 1) for t in warm))

        async def upload() -> int:
            semaphore = asyncio.Semaphore(CONCURRENCY)

            async def send(n: int) -> int:
                async with semaphore:
                    body = encode(data.MBody(chunks[n])) if decode else prebuilt[n]
                    return await post(body, len(chunks[n]))

            return sum(await asyncio.gather(*(send(n) for n in range(len(chunks)))))

        rounds = await bulk_rounds(upload, min_time=0.0)
    return {"events": args.events, "users": args.users, "requests": len(chunks), **rounds}


def msgspec_encoder() -> Callable[[Any], bytes]:
    import msgspec

    return msgspec.json.Encoder().encode


def msgspec_job_decoder() -> Callable[[bytes], Any]:
    import msgspec

    return msgspec.json.Decoder(data.MJobResponse).decode


# --- the official SDK ---


def _sdk() -> Any:
    try:
        import kard
    except ImportError as error:
        raise Skip(MISSING) from error
    return kard


def _sdk_transaction(fields: dict[str, Any]) -> Any:
    from kard.transactions import Merchant, Transactions_Transaction, TransactionsAttributes

    attributes = {key: value for key, value in fields.items() if key != "id"}
    attributes["merchant"] = Merchant(**fields["merchant"])
    if attributes["settled_date"] is None:
        del attributes["settled_date"]
    return Transactions_Transaction(
        id=fields["id"], attributes=TransactionsAttributes(payment_type="CARD", **attributes)
    )


async def bulk_official(args: WorkerArgs) -> dict[str, Any]:
    kard = _sdk()
    import httpx

    prefix = data.run_prefix()
    items = [
        _sdk_transaction(data.transaction_fields(n, args.users, prefix)) for n in range(args.events)
    ]
    async with httpx.AsyncClient(timeout=60.0, follow_redirects=True) as http:
        client = kard.AsyncKardApi(
            base_url=args.base_url,
            client_id=TEST_CLIENT_ID,
            client_secret=TEST_CLIENT_SECRET,
            httpx_client=http,
        )
        create = client.transactions.create
        warm = [_sdk_transaction(data.transaction_fields(n, 1, prefix + "warm-")) for n in range(4)]
        await asyncio.gather(*(create(TEST_ORGANIZATION_ID, data=[t]) for t in warm))

        async def upload() -> int:
            deadline = time.perf_counter() + args.max_time
            semaphore = asyncio.Semaphore(CONCURRENCY)

            async def send(chunk: list[Any]) -> int:
                async with semaphore:
                    if time.perf_counter() > deadline:
                        return 0
                    await create(TEST_ORGANIZATION_ID, data=chunk)
                    return len(chunk)

            chunks = [items[i : i + PER_REQUEST] for i in range(0, len(items), PER_REQUEST)]
            return sum(await asyncio.gather(*(send(chunk) for chunk in chunks)))

        rounds = await bulk_rounds(upload, min_time=0.0)
    return {
        "events": args.events,
        "users": args.users,
        "capped": rounds["sent"] < args.events,
        **rounds,
    }


# --- decode ---


def decoder(variant: str) -> Callable[[bytes], Any]:
    if variant == "ours":
        from kard_async.models import EarnedRewardsPage
        from kard_async.models._base import decoder_for

        return decoder_for(EarnedRewardsPage).decode
    if variant == "structs":
        return data.EARNED_DECODER.decode
    if variant == "json":
        return json.loads
    if variant == "official":
        _sdk()
        from kard.core.pydantic_utilities import parse_obj_as
        from kard.transactions import GetEarnedRewardsResponse

        def parse(body: bytes) -> Any:
            return parse_obj_as(type_=GetEarnedRewardsResponse, object_=json.loads(body))

        return parse
    raise ValueError(f"unknown decode variant {variant!r}; choose from {DECODE_VARIANTS}")


def decode_run(args: WorkerArgs) -> dict[str, Any]:
    variant = args.variant or "ours"
    body = data.earned_rewards_page()
    decode = decoder(variant)
    page = decode(body)
    rows = len(page["data"] if isinstance(page, dict) else page.data)
    if rows != 100:
        raise RuntimeError(f"decode {variant}: expected 100 rows, got {rows}")
    times = time_decodes(decode, body, duration=args.duration, min_iterations=args.min_requests)
    per_call = median(times)
    return {
        "body_bytes": len(body),
        "iterations": len(times),
        "median_ms": per_call * 1e3,
        "min_ms": min(times) * 1e3,
        "mb_per_s": len(body) / per_call / 1e6,
    }


# --- entry point ---


def run(args: WorkerArgs) -> dict[str, Any]:
    variant = args.variant or "ours"
    if args.measure == "decode":
        return {"variant": variant, **decode_run(args)}
    if args.measure == "memory":
        if variant != "ours":
            raise ValueError("the memory measure runs ours only")
        return {"variant": variant, **asyncio.run(memory_ours(args))}
    bulk = {
        "ours": bulk_ours,
        "minimal": lambda a: bulk_minimal(a, decode=True),
        "raw": lambda a: bulk_minimal(a, decode=False),
        "official": bulk_official,
    }[variant]
    result = asyncio.run(bulk(args))
    result["cpu_us_per_event"] = 1e6 / result["events_per_cpu_s"]
    name = "official-async" if variant == "official" else variant
    return {"variant": name, **result}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.transactions", measures=MEASURES, run=run)


if __name__ == "__main__":
    sys.exit(main())
