"""Variant "ours (sync)": ``kard_async.Kard``, the blocking facade over the async client.

At concurrency N, N threads share one client (the facade is thread-safe). Skipped, with a
note, when ``from kard_async import Kard`` does not work in this checkout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID

from ._common import (
    GET_USER_ID,
    INCLUDE,
    LATITUDE,
    LONGITUDE,
    PAGE_SIZE,
    RADIUS,
    Skip,
    WorkerArgs,
    check_page,
    thread_load,
    worker_main,
)


def _facade() -> Any:
    try:
        from kard_async import Kard  # type: ignore[attr-defined,unused-ignore]
    except ImportError as error:
        raise Skip(f"the blocking facade is not available: {error}") from error
    return Kard


@contextmanager
def facade_client(base_url: str) -> Iterator[Callable[[], object]]:
    """A blocking ``Kard`` on ``base_url`` (closed at the end), as a call that fetches the
    benchmark's locations page."""
    kard_class = _facade()
    kard = kard_class(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=base_url,
    )
    try:
        locations = kard.users.rewards.locations

        def fetch() -> object:
            return locations(
                GET_USER_ID,
                latitude=LATITUDE,
                longitude=LONGITUDE,
                radius=RADIUS,
                page_size=PAGE_SIZE,
                include=INCLUDE,
            )

        yield fetch
    finally:
        close = getattr(kard, "close", None)
        if close is not None:
            close()


def get(args: WorkerArgs) -> dict[str, Any]:
    with facade_client(args.base_url) as fetch:
        check_page(len(fetch().data), "ours sync")  # type: ignore[attr-defined]
        load = thread_load(
            fetch,
            concurrency=args.concurrency,
            duration=args.duration,
            min_requests=args.min_requests,
            max_time=args.max_time,
        )
    return {"concurrency": args.concurrency, **load.as_dict()}


def run(args: WorkerArgs) -> dict[str, Any]:
    return {"variant": "ours-sync", **get(args)}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.ours_sync", measures=("get",), run=run)


if __name__ == "__main__":
    sys.exit(main())
