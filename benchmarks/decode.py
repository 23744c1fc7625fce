"""Measure 1: decode one locations page (bytes in, typed objects out), one variant per process.

Variants:

``ours``
    ``decoder_for(LocationsPage).decode(body)``, what every
    ``kard.users.rewards.locations()`` call runs.
``official``
    The official SDK's models through the exact path its ``users.rewards.locations`` takes on
    a 2xx response: ``httpx.Response.json()`` (stdlib ``json.loads`` of the body), then
    ``kard.core.pydantic_utilities.parse_obj_as(LocationsResponseObject, ...)``.
``structs``
    The minimal hand-written ``gc=False`` msgspec Structs of
    :mod:`benchmarks._minimal_models` (plain tagged union for ``included``).
``json``
    ``json.loads(body)``: dicts and lists, no types.

The garbage collector stays enabled, as in a real program.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ._common import Skip, WorkerArgs, check_page, median, worker_main

VARIANTS = ("ours", "official", "structs", "json")


def decoder(variant: str) -> tuple[Callable[[bytes], Any], Callable[[Any], int]]:
    """The decode function of ``variant`` and how to count the locations in its result."""
    if variant == "ours":
        from kard_async.models import LocationsPage
        from kard_async.models._base import decoder_for

        return decoder_for(LocationsPage).decode, lambda page: len(page.data)
    if variant == "structs":
        from ._minimal_models import LOCATIONS_DECODER as PLAIN

        return PLAIN.decode, lambda page: len(page.data)
    if variant == "json":
        return json.loads, lambda page: len(page["data"])
    if variant == "official":
        try:
            from kard.core.pydantic_utilities import parse_obj_as
            from kard.users.rewards.types import LocationsResponseObject
        except ImportError as error:
            raise Skip(
                "kard-financial-sdk is not installed (pip install -e . --group bench)"
            ) from error

        def parse(body: bytes) -> Any:
            return parse_obj_as(type_=LocationsResponseObject, object_=json.loads(body))

        return parse, lambda page: len(page.data)
    raise ValueError(f"unknown decode variant {variant!r}; choose from {VARIANTS}")


def measure(
    decode: Callable[[bytes], Any], body: bytes, *, duration: float, min_iterations: int
) -> list[float]:
    """Per-call times (s): back-to-back decodes for ``duration`` s and at least
    ``min_iterations`` calls, after a short warm-up."""
    for _ in range(3):
        decode(body)
    times: list[float] = []
    perf = time.perf_counter
    stop = perf() + duration
    while perf() < stop or len(times) < min_iterations:
        t0 = perf()
        decode(body)
        times.append(perf() - t0)
    return times


def run(args: WorkerArgs) -> dict[str, Any]:
    variant = args.variant or "ours"
    if not args.body:
        raise SystemExit("--body FILE (the page to decode) is required")
    with open(args.body, "rb") as file:
        body = file.read()
    decode, count = decoder(variant)
    check_page(count(decode(body)), f"decode {variant}")
    times = measure(decode, body, duration=args.duration, min_iterations=args.min_requests)
    per_call = median(times)
    return {
        "variant": variant,
        "iterations": len(times),
        "body_bytes": len(body),
        "median_ms": per_call * 1e3,
        "min_ms": min(times) * 1e3,
        "mb_per_s": len(body) / per_call / 1e6,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.decode", measures=("decode",), run=run)


if __name__ == "__main__":
    sys.exit(main())
