"""Plumbing for streaming input: read in a thread, and map event indexes back to lines."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from bisect import bisect_right
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ReadFailed:
    """Reading the input failed part way (the items before it were delivered)."""

    error: Exception


async def threaded(
    items: Iterable[T], *, chunk: int = 256, depth: int = 8
) -> AsyncIterator[T | ReadFailed]:
    """Iterate ``items`` in a daemon thread, so that slow input (a pipe) never blocks the
    event loop while requests are in flight. At most ``depth`` chunks wait in memory.

    A daemon thread, not the default executor: a thread blocked reading standard input must
    not keep the process alive after Ctrl-C.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[T] | ReadFailed | None] = asyncio.Queue()
    slots = threading.Semaphore(depth)

    def send(message: list[T] | ReadFailed | None) -> None:
        slots.acquire()
        loop.call_soon_threadsafe(queue.put_nowait, message)

    def produce() -> None:
        last: ReadFailed | None = None
        try:
            batch: list[T] = []
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    send(batch)
                    batch = []
            if batch:
                send(batch)
        except Exception as error:
            last = ReadFailed(error)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            send(last)

    threading.Thread(target=produce, name="kard-async-reader", daemon=True).start()
    while True:
        message = await queue.get()
        slots.release()
        if message is None:
            return
        if isinstance(message, ReadFailed):
            yield message
            return
        for item in message:
            yield item


class LineMap:
    """Line number of the n-th event given to ``bulk_create`` (its ``index``).

    Lines grow with indexes, so only the points where the gap between them changes (a blank
    or malformed line, a multi-line CSV record) are stored: memory does not grow with the
    number of events.
    """

    def __init__(self) -> None:
        self._indexes: list[int] = []
        self._offsets: list[int] = []

    def add(self, index: int, line: int) -> None:
        offset = line - index
        if not self._offsets or self._offsets[-1] != offset:
            self._indexes.append(index)
            self._offsets.append(offset)

    def line(self, index: int) -> int:
        position = bisect_right(self._indexes, index) - 1
        return index + (self._offsets[position] if position >= 0 else 1)
