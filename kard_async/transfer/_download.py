"""Downloads of the files Kard sends you (reconciliation reports): to disk, or as chunks.

The body is consumed as it arrives, never held whole. A download that breaks part way is
retried from the start by the client's retry policy (the GET is idempotent); a download
URL (valid 30 minutes) that expired is replaced by listing the file again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

import aiohttp
import anyio.to_thread

from .._call import StreamingDecoder
from .._errors import APIConnectionError, APIStatusError, InvalidParameterError, KardError
from .._requester import Requester
from ..models.files import FileMetadata, check_filename
from ._presigned import Expiry, describe, presigned_call, refused_as_expired
from ._upload import MAX_URL_REFRESHES, store_requester

T = TypeVar("T")

WRITE_CHUNK = 1 << 20
STREAM_CHUNK = 256 << 10
_HEADERS = {"Accept-Encoding": "identity"}  # the file's own bytes, not a re-encoding

Refresh = Callable[[FileMetadata], Awaitable[FileMetadata]]


@dataclass(frozen=True)
class DownloadProgress:
    """Passed to ``on_progress``: ``bytes`` received of ``total`` (when the server said);
    a retry starts again from 0 (``attempt``)."""

    bytes: int
    total: int | None
    attempt: int


class FileDownloadError(KardError):
    """The store refused a download (other than for an expired URL, which is renewed)."""


def _expected(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _short(path: str, received: int, expected: int) -> APIConnectionError:
    return APIConnectionError(
        f"GET {path}: received {received:,} of {expected:,} bytes",
        method="GET",
        path=path,
        outcome_unknown=False,
    )


def _rewind(file: IO[bytes]) -> None:
    file.seek(0)
    file.truncate()


class _ToFile(StreamingDecoder[int]):
    """Writes the body to ``file`` (from its start at each attempt), off the event loop."""

    def __init__(
        self, file: IO[bytes], path: str, on_progress: Callable[[DownloadProgress], None] | None
    ) -> None:
        self._file = file
        self._path = path
        self._on_progress = on_progress
        self._attempt = 0

    async def consume(self, content: aiohttp.StreamReader, headers: Mapping[str, str]) -> int:
        self._attempt += 1
        await anyio.to_thread.run_sync(_rewind, self._file)
        expected = _expected(headers)
        received = 0
        async for chunk in content.iter_chunked(WRITE_CHUNK):
            await anyio.to_thread.run_sync(self._file.write, chunk)
            received += len(chunk)
            if self._on_progress is not None:
                self._on_progress(DownloadProgress(received, expected, self._attempt))
        if expected is not None and received != expected:
            raise _short(self._path, received, expected)
        return received


class _ToQueue(StreamingDecoder[int]):
    """Hands chunks to a reader through a small queue (so the download goes at the
    reader's pace); a retry skips the bytes the reader already has."""

    def __init__(self, queue: asyncio.Queue[bytes], path: str) -> None:
        self._queue = queue
        self._path = path
        self.delivered = 0

    async def consume(self, content: aiohttp.StreamReader, headers: Mapping[str, str]) -> int:
        expected = _expected(headers)
        seen = 0
        async for chunk in content.iter_chunked(STREAM_CHUNK):
            start, seen = seen, seen + len(chunk)
            if seen <= self.delivered:  # a retry: the reader has these bytes already
                continue
            fresh = chunk[self.delivered - start :] if start < self.delivered else chunk
            await self._queue.put(fresh)
            self.delivered += len(fresh)
        if expected is not None and seen != expected:
            raise _short(self._path, seen, expected)
        return seen


async def _fetch(
    requester: Requester, file: FileMetadata, decoder: StreamingDecoder[T], refresh: Refresh
) -> T:
    store = store_requester(requester)
    url, refreshes = file.download_url, 0
    while True:
        if refreshes < MAX_URL_REFRESHES and Expiry.of_url(url).expired():
            file, refreshes = await refresh(file), refreshes + 1
            url = file.download_url
            continue
        try:
            result: T = await store.send(presigned_call("GET", url, decoder, headers=_HEADERS))
        except APIStatusError as error:
            if refused_as_expired(error) and refreshes < MAX_URL_REFRESHES:
                file, refreshes = await refresh(file), refreshes + 1
                url = file.download_url
                continue
            raise FileDownloadError(
                f"download of {file.file_name} ({file.id}) failed: {describe(error)}"
            ) from error
        return result


def _target(file: FileMetadata, destination: str | os.PathLike[str]) -> Path:
    path = Path(destination)
    if path.is_dir():
        try:
            name = check_filename("file_name", file.file_name)
        except InvalidParameterError:  # a name that is not a plain file name: use the id
            name = check_filename("id", file.id.replace("/", "_"))
        path = path / name
    if not path.parent.is_dir():
        raise InvalidParameterError(
            "destination", str(destination), "must be a directory, or a file in one"
        )
    return path


def _open_temp(path: Path) -> tuple[IO[bytes], str]:
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    return os.fdopen(descriptor, "wb"), temp


def _commit(file: IO[bytes], temp: str, path: Path) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()
    os.replace(temp, path)


def _discard(file: IO[bytes], temp: str) -> None:
    file.close()
    with contextlib.suppress(OSError):
        os.unlink(temp)


async def download(
    requester: Requester,
    file: FileMetadata,
    destination: str | os.PathLike[str],
    refresh: Refresh,
    on_progress: Callable[[DownloadProgress], None] | None,
) -> Path:
    if not isinstance(file, FileMetadata):
        raise InvalidParameterError(
            "file", file, "must be a FileMetadata item from kard.files.list()"
        )
    if on_progress is not None and not callable(on_progress):
        raise InvalidParameterError("on_progress", on_progress, "must be a callable")
    path = await anyio.to_thread.run_sync(_target, file, destination)
    handle, temp = await anyio.to_thread.run_sync(_open_temp, path)
    try:
        decoder = _ToFile(handle, urlsplit(file.download_url).path, on_progress)
        await _fetch(requester, file, decoder, refresh)
        await anyio.to_thread.run_sync(_commit, handle, temp, path)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard, handle, temp)
        raise
    return path


async def stream(
    requester: Requester, file: FileMetadata, refresh: Refresh
) -> AsyncGenerator[bytes, None]:
    if not isinstance(file, FileMetadata):
        raise InvalidParameterError(
            "file", file, "must be a FileMetadata item from kard.files.list()"
        )
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=2)
    decoder = _ToQueue(queue, urlsplit(file.download_url).path)
    task = asyncio.ensure_future(_fetch(requester, file, decoder, refresh))
    getter: asyncio.Future[bytes] | None = None
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
                continue
            task.result()  # the download failed: raise why
            while not queue.empty():
                yield queue.get_nowait()
            return
    finally:
        for pending in (getter, task):
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
