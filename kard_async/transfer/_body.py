"""A PUT body read from a file region, chunk by chunk in a worker thread, anew per attempt."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import IO, Protocol

import anyio.to_thread

from .._errors import KardError

CHUNK = 1 << 20
"""Bytes read per worker-thread hop: large enough that the hop costs nothing, small enough
that memory stays flat (at most a chunk or two in flight)."""


class SourceChangedError(KardError):
    """The file being uploaded changed size while it was sent (nothing can be trusted)."""


class BodyListener(Protocol):
    """Hears of each attempt (``opened``, numbered from 1) and each chunk handed on."""

    def opened(self, attempt: int) -> None: ...

    def chunk(self, size: int) -> None: ...


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    file.seek(offset)
    return file.read(size)


def _current_size(file: IO[bytes]) -> int | None:
    try:
        return os.fstat(file.fileno()).st_size
    except (AttributeError, OSError, ValueError):  # no file descriptor (e.g. BytesIO)
        return None


class FileBody:
    """``size`` bytes of ``file`` from ``offset``: a :class:`~kard_async._call.BodyStream`.

    Each ``open()`` (one per attempt) first checks the file still has the size it had, so
    that a retry never sends a body that does not match its ``Content-Length``. The
    ``listener`` hears of every attempt and chunk; ``attempts`` counts the opens. The
    bytes are not looked at: counting lines alone costs a quarter of the throughput on one
    core, and a file sent as is is Kard's to read.
    """

    def __init__(
        self,
        file: IO[bytes],
        offset: int,
        size: int,
        *,
        name: str,
        listener: BodyListener | None = None,
    ) -> None:
        self._file = file
        self._offset = offset
        self._size = size
        self._name = name
        self._file_size = _current_size(file)
        self._listener = listener
        self.attempts = 0

    @property
    def size(self) -> int:
        return self._size

    def open(self) -> AsyncIterator[bytes]:
        current = _current_size(self._file)
        if current != self._file_size:
            raise SourceChangedError(
                f"{self._name} changed while it was being uploaded "
                f"(it had {self._file_size:,} bytes, now {current:,}); nothing more was sent"
            )
        self.attempts += 1
        if self._listener is not None:
            self._listener.opened(self.attempts)
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        position, end = self._offset, self._offset + self._size
        while position < end:
            chunk = await anyio.to_thread.run_sync(
                _read_at, self._file, position, min(CHUNK, end - position)
            )
            if not chunk:  # fewer bytes than announced: the request is cut short
                raise SourceChangedError(
                    f"{self._name} ended after {position - self._offset:,} of "
                    f"{self._size:,} bytes while it was being uploaded"
                )
            position += len(chunk)
            if self._listener is not None:
                self._listener.chunk(len(chunk))
            yield chunk
