"""Plumbing for streaming input: read in a thread, and map event indexes back to lines."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ReadFailed:
    """Reading the input failed part way (the items before it were delivered)."""

    error: Exception


class ThreadedReader(Generic[T]):
    """Iterates ``items`` in a daemon thread, so that slow input (a pipe) never blocks the
    event loop while requests are in flight. At most ``depth`` chunks wait in memory.

    A daemon thread, not the default executor: a thread blocked reading standard input must
    not keep the process alive after Ctrl-C. When the consumer stops early, :meth:`stop`
    hands back every item read but not delivered, and the rest of ``items`` when the thread
    let go of it.
    """

    def __init__(self, items: Iterable[T], *, chunk: int = 256, depth: int = 8) -> None:
        self._items = iter(items)
        self._chunk = chunk
        self._depth = depth
        # Chunks read, not yet taken by the consumer; then None (the end) or a ReadFailed.
        self._chunks: deque[list[T] | ReadFailed | None] = deque()
        self._changed = threading.Condition()
        self._stopping = False
        self._reading: list[T] = []  # the chunk the thread is filling
        self._current: list[T] = []  # the chunk being delivered, and how far
        self._delivered = 0
        self._thread: threading.Thread | None = None
        self.finished = False
        """True once the thread has read ``items`` to their end."""
        self.error: Exception | None = None
        """What stopped the thread reading, if anything went wrong."""
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aiter__(self) -> AsyncIterator[T | ReadFailed]:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._thread = threading.Thread(target=self._produce, name="kard-async-reader", daemon=True)
        self._thread.start()
        while True:
            with self._changed:
                ready = bool(self._chunks)
                message = self._chunks.popleft() if ready else None
                if ready:
                    self._changed.notify_all()
                else:
                    self._wakeup.clear()
            if not ready:
                await self._wakeup.wait()
            elif message is None:
                return
            elif isinstance(message, ReadFailed):
                yield message
                return
            else:
                self._current = message
                self._delivered = 0
                for item in message:
                    self._delivered += 1
                    yield item
                self._current = []

    def _produce(self) -> None:
        end: ReadFailed | None = None
        try:
            for item in self._items:
                self._reading.append(item)
                if len(self._reading) >= self._chunk and not self._put(self._reading):
                    return
                if self._stopping:
                    self._put(self._reading)
                    return
        except Exception as error:
            self.error = error
            end = ReadFailed(error)
        else:
            self.finished = True
        self._put(self._reading)
        self._put(end)

    def _put(self, message: list[T] | ReadFailed | None) -> bool:
        """Queue ``message`` (waiting for room unless stopping); False once stopping."""
        if isinstance(message, list):
            if not message:
                return not self._stopping
            self._reading = []
        with self._changed:
            while len(self._chunks) >= self._depth and not self._stopping:
                self._changed.wait()
            self._chunks.append(message)
        if self._loop is not None and self._wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
                self._loop.call_soon_threadsafe(self._wakeup.set)
        return not self._stopping

    def stop(self, *, timeout: float) -> tuple[list[T], Iterator[T] | None]:
        """Stop reading. Returns the items read but not delivered, in order, and the rest of
        the input: an iterator the caller may go on reading, or None when the thread did not
        let go of it within ``timeout`` seconds (blocked reading a pipe, say)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        stopped = self._thread is None
        if self._thread is not None:
            self._thread.join(timeout)
            stopped = not self._thread.is_alive()
        left = self._current[self._delivered :]
        self._current = []
        with self._changed:
            for message in self._chunks:
                if isinstance(message, list):
                    left.extend(message)
            self._chunks.clear()
        if not stopped:
            left.extend(list(self._reading))  # read by the thread, which is still blocked
            self._reading = []
        return left, self._items if stopped else None


class LineMap:
    """Line number of the n-th event given to ``bulk_create`` (its ``index``).

    Lines grow with indexes, so only the points where the gap between them changes (a blank
    or malformed line) are stored: memory does not grow with the number of events.
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
