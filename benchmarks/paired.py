"""Ours and its baseline in one process, in turns: ``decode`` and ``tx-decode`` (ours vs the
plain ``gc=False`` Structs, on a page of locations or of earned rewards) and ``get`` (ours vs
the minimal aiohttp + msgspec client).

On a shared VM, two processes measured a second apart can differ by more than the few per
cent these comparisons are about: separate processes made the verdicts flip from run to run
while the code stayed the same. Here both variants share one process and take turns, a block
of work each (ours first in even blocks, the baseline first in odd ones), after a
``gc.collect()`` outside the clock; a slow spell of the machine weighs on both alike.

A decode block is a few back-to-back decodes of the page; a GET block is a fixed number of
requests at the cell's concurrency, against the same emulator. The result carries one entry
per variant under ``paired`` (the orchestrator files each under its variant, with the same
fields as the single-variant workers) and ``ratio``: ours' time per page over the baseline's
(decode), ours' throughput over the baseline's (GET), over all blocks.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from . import _transaction_data as transaction_data
from . import decode, minimal, ours, transactions
from ._common import (
    LoadResult,
    Turns,
    WorkerArgs,
    async_load,
    check_page,
    in_turns,
    median,
    worker_main,
)

MEASURES = ("decode", "tx-decode", "get")
DECODES_PER_BLOCK = 10
MIN_BLOCKS = 4  # per variant, however short the duration


def _decoders(args: WorkerArgs) -> tuple[bytes, dict[str, Callable[[bytes], Any]]]:
    """The page and the two decoders of ``args.measure``, each checked on the page."""
    decoders: dict[str, Callable[[bytes], Any]] = {}
    if args.measure == "tx-decode":  # a page of earned rewards (benchmarks/transactions.py)
        body = transaction_data.earned_rewards_page()
        for name in ("ours", "structs"):
            decoders[name] = transactions.decoder(name)
            if len(decoders[name](body).data) != 100:
                raise RuntimeError(f"tx-decode {name}: expected 100 rows")
        return body, decoders
    if not args.body:
        raise SystemExit("--body FILE (the page to decode) is required")
    with open(args.body, "rb") as file:
        body = file.read()
    for name in ("ours", "structs"):
        decoder, count = decode.decoder(name)
        check_page(count(decoder(body)), f"decode {name}")
        decoders[name] = decoder
    return body, decoders


def decode_paired(args: WorkerArgs) -> dict[str, Any]:
    body, decoders = _decoders(args)
    per_call: dict[str, list[float]] = {name: [] for name in decoders}
    perf = time.perf_counter
    block = 0
    while block < MIN_BLOCKS or DECODES_PER_BLOCK * sum(map(sum, per_call.values())) < (
        2 * args.duration
    ):
        for name in in_turns(list(decoders), block):
            decoder = decoders[name]
            started = perf()
            for _ in range(DECODES_PER_BLOCK):
                decoder(body)
            per_call[name].append((perf() - started) / DECODES_PER_BLOCK)
        block += 1
    return {
        "body_bytes": len(body),
        "paired": {
            name: {
                "iterations": len(times) * DECODES_PER_BLOCK,
                "median_ms": median(times) * 1e3,
                "min_ms": min(times) * 1e3,
                "mb_per_s": len(body) / median(times) / 1e6,
            }
            for name, times in per_call.items()
        },
        "ratio": sum(per_call["ours"]) / sum(per_call["structs"]),
    }


async def _block(
    fetch: Callable[[], Awaitable[Any]], concurrency: int, requests: int
) -> LoadResult:
    """Exactly ``requests`` calls of ``fetch``, ``concurrency`` at a time, however long."""
    return await async_load(
        fetch, concurrency=concurrency, duration=0.0, min_requests=requests, max_time=math.inf
    )


async def get_paired(args: WorkerArgs) -> dict[str, Any]:
    concurrency = max(1, args.concurrency)
    per_block = max(2 * concurrency, args.min_requests, 10)
    async with ours.client(args.base_url) as kard, aiohttp.ClientSession() as session:
        fetchers = {
            "ours": ours.locations_fetcher(kard),
            "minimal": await minimal.locations_fetcher(session, args.base_url),
        }
        check_page(len((await fetchers["ours"]()).data), "ours")
        for fetch in fetchers.values():  # token, connections, decoders: warm before the clock
            await _block(fetch, concurrency, 2 * concurrency)
        turns = Turns(
            list(fetchers),
            min_turns=MIN_BLOCKS,
            budget=2 * args.duration,
            max_time=max(args.max_time, 2 * args.duration),
        )
        for name in turns:
            turns.record(name, await _block(fetchers[name], concurrency, per_block))
    paired = {name: total.as_dict() for name, total in turns.totals.items()}
    return {
        "concurrency": concurrency,
        "paired": paired,
        "ratio": paired["ours"]["rps"] / paired["minimal"]["rps"],
    }


def run(args: WorkerArgs) -> dict[str, Any]:
    if args.measure in ("decode", "tx-decode"):
        return {"variant": "paired", **decode_paired(args)}
    return {"variant": "paired", **asyncio.run(get_paired(args))}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.paired", measures=MEASURES, run=run)


if __name__ == "__main__":
    sys.exit(main())
