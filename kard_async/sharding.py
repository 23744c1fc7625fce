"""Past one core: API uploads sharded by user (or organization) across processes.

For daily volume, upload a file (``kard.transactions.upload_file``): Kard's object store
does the heavy lifting. For API uploads that need more than one core (attribution events,
say), give each process a share of the keys and its own client::

    from kard_async import AsyncKard
    from kard_async.sharding import Shard, run_sharded

    def upload(shard: Shard) -> int:          # a module-level function: it is pickled
        async def main() -> int:
            async with AsyncKard() as kard:   # one client per process, never shared
                report = await kard.users.attributions.bulk_create(
                    shard.select(read_events("events.jsonl"))  # only this shard's users
                )
                return report.accepted
        return asyncio.run(main())

    accepted = sum(run_sharded(upload, shards=4))

Every process reads the input and keeps the keys it owns (:meth:`Shard.select`); nothing
is shipped between processes, and each key is owned by exactly one shard, so each event is
sent by exactly one process. Ownership is a stable hash of the key (the same in every
process and every run, unlike Python's ``hash``), so a rerun gives a key to the same shard.
The same function maps onto Dask, Ray or Spark partitions (see the README).
"""

from __future__ import annotations

import multiprocessing
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import TypeVar

from ._errors import InvalidParameterError
from ._validate import require_int

__all__ = ["Shard", "run_sharded", "shard_of"]

T = TypeVar("T")
R = TypeVar("R")


def shard_of(key: str, shards: int) -> int:
    """The shard (0 to ``shards - 1``) that owns ``key``: CRC-32 of its UTF-8 bytes."""
    if not isinstance(key, str):
        raise InvalidParameterError("key", key, "must be a string (a user or organization id)")
    return zlib.crc32(key.encode("utf-8")) % shards


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``: which keys one process handles."""

    index: int
    count: int

    def __post_init__(self) -> None:
        require_int("count", self.count, low=1)
        require_int("index", self.index, low=0, high=self.count - 1)

    def owns(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index

    def select(self, pairs: Iterable[tuple[str, T]]) -> Iterator[tuple[str, T]]:
        """The ``(key, item)`` pairs whose key this shard owns, lazily."""
        count, index = self.count, self.index
        for pair in pairs:
            if zlib.crc32(pair[0].encode("utf-8")) % count == index:
                yield pair


def run_sharded(
    task: Callable[[Shard], R],
    shards: int,
    *,
    mp_context: BaseContext | str | None = "spawn",
) -> list[R]:
    """Run ``task(Shard(i, shards))`` for every shard, each in its own process, and return
    the results in shard order. ``task`` must be picklable (a module-level function, or a
    ``functools.partial`` of one) and build its own client. ``mp_context`` defaults to
    ``"spawn"``: a fresh interpreter per process, safe even when the parent runs threads
    (a blocking ``Kard``'s loop thread, a server); ``None`` uses the platform default.
    A task that raises makes this raise, after the other shards finished."""
    require_int("shards", shards, low=1)
    context = multiprocessing.get_context(mp_context) if isinstance(mp_context, str) else mp_context
    with ProcessPoolExecutor(max_workers=shards, mp_context=context) as pool:
        futures = [pool.submit(task, Shard(index, shards)) for index in range(shards)]
        return [future.result() for future in futures]
