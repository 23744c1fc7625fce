"""What ``upload_file`` accepts, checked before anything is sent, and the parts each source
becomes.

* A ``.jsonl.gz`` path, a ``.jsonl`` path with ``compress=False``, or a seekable binary file
  (gzip already, or ``compress=False``) is sent as is, read from disk chunk by chunk; a retry
  reads it again from the start.
* Everything else is spooled: transactions (an iterable or async iterable of models or wire
  mappings) become JSONL, a ``.jsonl`` file to compress or a pipe is read by lines, each
  gzipped on the fly into a temporary file, one part at a time. Past ``max_part_bytes``
  the input rolls over to the next part, on a line boundary.
"""

from __future__ import annotations

import io
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, cast

import anyio.to_thread

from .._errors import InvalidParameterError
from ..models.files import check_filename
from ._body import CHUNK, BodyListener, FileBody
from ._parts import PartWriter
from .lines import append_line

MAX_PART_BYTES = 5_000_000_000
"""Kard takes files of up to 5 GB each (API reference §7.4)."""

GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE = 64 << 20
_BLOCK = 256 << 10  # JSONL bytes encoded per step (a thread hop for blocking iterables)
_ITEMS_PER_STEP = 2_000  # items of an async iterable encoded between two hops to the loop

Blocks = AsyncIterator[tuple[bytes, int]]
"""Complete lines, and how many: what a spooled part is written from."""

OnPrepared = Callable[[int, str, int, int], None]
"""``(part, filename, bytes written to the spool, lines)``, after each step."""


@dataclass
class Part:
    """One file to PUT: ``body`` (re-readable), its name, and its lines when known."""

    index: int
    filename: str
    body: FileBody
    lines: int | None
    first_line: int | None
    close: Callable[[], None]


@dataclass(frozen=True)
class _Spool:
    """Where spooled parts go, and how large one may grow."""

    limit: int
    directory: str | None

    def writer(self, compress: bool) -> PartWriter:
        return PartWriter(compress=compress, limit=self.limit, directory=self.directory)


@dataclass
class Source:
    """A checked source: the name of (the first) file, whether it is sent gzipped, and
    how to make its parts."""

    filename: str
    gzip: bool
    parts: Callable[[OnPrepared, BodyListener], AsyncGenerator[Part, None]]
    description: str


def part_name(filename: str, index: int) -> str:
    """``daily.jsonl.gz``, then ``daily-0001.jsonl.gz``, ``daily-0002.jsonl.gz``, ..."""
    if index == 0:
        return filename
    for suffix in (".jsonl.gz", ".jsonl"):
        if filename.endswith(suffix):
            return f"{filename[: -len(suffix)]}-{index:04d}{suffix}"
    return f"{filename}-{index:04d}"


def _check_name(filename: str | None, default: str, gzip: bool) -> str:
    if filename is None:
        return default
    check_filename("filename", filename)
    suffix = ".jsonl.gz" if gzip else ".jsonl"
    if not filename.endswith(suffix) or (not gzip and filename.endswith(".gz")):
        content = "gzipped JSONL" if gzip else "plain JSONL (compress=False)"
        raise InvalidParameterError(
            "filename", filename, f"must end with {suffix!r}: the file is sent as {content}"
        )
    return filename


def _default_name(gzip: bool) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"transactions-{stamp}.jsonl" + (".gz" if gzip else "")


def _derived_name(name: str, gzip: bool) -> str:
    """``x.jsonl`` -> ``x.jsonl.gz`` when it is compressed on the way."""
    base = os.path.basename(name)
    if gzip and not base.endswith(".gz"):
        base += ".gz"
    return base


async def plan(
    source: object,
    *,
    compress: bool,
    filename: str | None,
    max_part_bytes: int,
    spool_dir: str | None,
) -> Source:
    """Check ``source`` and the arguments that go with it; nothing is sent yet."""
    spool = _Spool(max_part_bytes, spool_dir)
    if isinstance(source, (str, os.PathLike)):
        return await _plan_path(os.fsdecode(source), compress, filename, spool)
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise InvalidParameterError(
            "source",
            f"<{len(source)} bytes>",
            "pass a path, a binary file (e.g. io.BytesIO(data)) or an iterable of "
            "transactions, not bytes",
        )
    if isinstance(source, io.TextIOBase):
        raise InvalidParameterError(
            "source", source, "is a text stream: open the file in binary mode ('rb')"
        )
    if callable(getattr(source, "read", None)):
        return await _plan_stream(cast(IO[bytes], source), compress, filename, spool)
    if isinstance(source, Mapping):
        raise InvalidParameterError(
            "source", source, "is one mapping: pass an iterable of transactions (e.g. [item])"
        )
    if isinstance(source, AsyncIterable):
        blocks: Blocks = _async_item_blocks(source)
    elif isinstance(source, Iterable):
        blocks = _item_blocks(source)
    else:
        raise InvalidParameterError(
            "source",
            source,
            "must be a path to a .jsonl or .jsonl.gz file, a binary file, or an iterable "
            "or async iterable of transactions (models or wire mappings)",
        )
    name = _check_name(filename, _default_name(compress), compress)
    return Source(
        name,
        compress,
        lambda prepared, listener: _spooled_parts(
            blocks, name, compress, spool, prepared, listener
        ),
        "the transactions",
    )


# --- paths and binary files ---


def _inspect_path(path: str) -> tuple[int, bytes]:
    try:
        status = os.stat(path)
    except OSError as error:
        raise InvalidParameterError("source", path, f"cannot be read: {error.strerror}") from None
    if not os.path.isfile(path):
        raise InvalidParameterError("source", path, "is not a regular file")
    with open(path, "rb") as file:
        return status.st_size, file.read(2)


async def _plan_path(path: str, compress: bool, filename: str | None, spool: _Spool) -> Source:
    base = os.path.basename(path)
    if not base.endswith((".jsonl", ".jsonl.gz")):
        raise InvalidParameterError("source", path, "must be a .jsonl or .jsonl.gz file")
    size, head = await anyio.to_thread.run_sync(_inspect_path, path)
    if not size:
        raise InvalidParameterError("source", path, "is empty: nothing to upload")
    gzip = base.endswith(".gz")
    if gzip and head != GZIP_MAGIC:
        raise InvalidParameterError("source", path, "is named .jsonl.gz but is not gzipped")
    if gzip or not compress:  # sent byte for byte
        name = _check_name(filename, base, gzip)
        _check_size(path, size, spool.limit)

        def direct(prepared: OnPrepared, listener: BodyListener) -> AsyncGenerator[Part, None]:
            return _direct_part(lambda: open(path, "rb"), True, 0, size, name, listener)

        return Source(name, gzip, direct, path)
    name = _check_name(filename, _derived_name(base, True), True)

    def spooled(prepared: OnPrepared, listener: BodyListener) -> AsyncGenerator[Part, None]:
        return _spooled_parts(_path_blocks(path), name, True, spool, prepared, listener)

    return Source(name, True, spooled, path)


def _check_size(what: str, size: int, limit: int) -> None:
    if size > limit:
        raise InvalidParameterError(
            "max_part_bytes",
            limit,
            f"{what} has {size:,} bytes, more than one file may hold; split it, or pass "
            "its transactions as an iterable to roll over into several files",
        )


def _stream_layout(stream: IO[bytes]) -> tuple[int, int, bytes] | None:
    """``(position, bytes left, first two bytes)`` of a seekable stream, else None."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(position)
        head = stream.read(2)
        stream.seek(position)
    except (OSError, ValueError, AttributeError):
        return None
    return position, end - position, head


async def _plan_stream(
    stream: IO[bytes], compress: bool, filename: str | None, spool: _Spool
) -> Source:
    raw_name = getattr(stream, "name", None)
    own_name = raw_name if isinstance(raw_name, str) and not raw_name.startswith("<") else None
    description = own_name or "the file object"
    layout = await anyio.to_thread.run_sync(_stream_layout, stream)
    if layout is not None:
        position, size, head = layout
        if not size:
            raise InvalidParameterError("source", stream, "has no bytes left: nothing to upload")
        gzip = head == GZIP_MAGIC
        if gzip or not compress:
            default = _derived_name(own_name, gzip) if own_name else _default_name(gzip)
            name = _check_name(filename, default, gzip)
            _check_size(description, size, spool.limit)
            return Source(
                name,
                gzip,
                lambda prepared, listener: _direct_part(
                    lambda: stream, False, position, size, name, listener
                ),
                description,
            )
    # Not seekable (a pipe, a socket): read once, into a spool.
    first = b"" if layout is not None else await anyio.to_thread.run_sync(stream.read, CHUNK)
    if layout is None and not first:
        raise InvalidParameterError("source", stream, "is empty: nothing to upload")
    gzip = first.startswith(GZIP_MAGIC) or compress
    default = _derived_name(own_name, gzip) if own_name else _default_name(gzip)
    name = _check_name(filename, default, gzip)
    if first.startswith(GZIP_MAGIC):  # gzipped already: stored as is, it cannot be split

        def raw(prepared: OnPrepared, listener: BodyListener) -> AsyncGenerator[Part, None]:
            return _raw_part(_stream_chunks(stream, first), name, spool, prepared, listener)

        return Source(name, True, raw, description)
    return Source(
        name,
        gzip,
        lambda prepared, listener: _spooled_parts(
            _line_blocks(_stream_chunks(stream, first)), name, gzip, spool, prepared, listener
        ),
        description,
    )


async def _direct_part(
    opener: Callable[[], IO[bytes]],
    owned: bool,
    offset: int,
    size: int,
    name: str,
    listener: BodyListener,
) -> AsyncGenerator[Part, None]:
    file = await anyio.to_thread.run_sync(opener)
    try:
        body = FileBody(file, offset, size, name=name, listener=listener)
        yield Part(0, name, body, None, 0, lambda: None)
    finally:
        if owned:
            file.close()


# --- spooled parts ---


async def _spooled_parts(
    blocks: Blocks,
    filename: str,
    compress: bool,
    spool: _Spool,
    prepared: OnPrepared,
    listener: BodyListener,
) -> AsyncGenerator[Part, None]:
    """Parts of at most ``spool.limit`` bytes, written from ``blocks``, rolling over on a
    line boundary."""
    index, first_line = 0, 0
    writer: PartWriter | None = None
    try:
        async for whole, count in blocks:
            block, lines = whole, count
            while True:
                if writer is None:
                    writer = await anyio.to_thread.run_sync(spool.writer, compress)
                before = writer.lines
                taken = await anyio.to_thread.run_sync(writer.add, block, lines)
                prepared(index, part_name(filename, index), writer.size, writer.lines)
                if taken == len(block):
                    break
                if not writer.lines:
                    raise InvalidParameterError(
                        "max_part_bytes",
                        spool.limit,
                        f"line {first_line + 1} alone does not fit in a file of that size",
                    )
                lines -= writer.lines - before
                block = block[taken:]
                part = await _finish(writer, index, filename, first_line, listener)
                first_line += writer.lines
                writer, index = None, index + 1
                yield part
        if writer is None or not writer.lines:
            if index == 0:
                raise InvalidParameterError("source", None, "holds no lines: nothing to upload")
            return
        part = await _finish(writer, index, filename, first_line, listener)
        writer = None
        yield part
    finally:
        if writer is not None:
            writer.close()


async def _finish(
    writer: PartWriter, index: int, filename: str, first_line: int, listener: BodyListener
) -> Part:
    size = await anyio.to_thread.run_sync(writer.finish)
    name = part_name(filename, index)
    body = FileBody(writer.file, 0, size, name=f"the temporary file of {name}", listener=listener)
    return Part(index, name, body, writer.lines, first_line, writer.close)


async def _raw_part(
    chunks: AsyncIterator[bytes],
    filename: str,
    spool: _Spool,
    prepared: OnPrepared,
    listener: BodyListener,
) -> AsyncGenerator[Part, None]:
    """A gzip stream from a pipe, spooled as is (it cannot be split into parts)."""
    writer: PartWriter | None = await anyio.to_thread.run_sync(spool.writer, False)
    assert writer is not None
    try:
        async for chunk in chunks:
            if not await anyio.to_thread.run_sync(writer.append, chunk):
                raise InvalidParameterError(
                    "max_part_bytes",
                    spool.limit,
                    "the gzipped input is larger than one file may hold, and a gzip stream "
                    "cannot be split: pass it uncompressed to roll over into several files",
                )
            prepared(0, filename, writer.size, 0)
        size = await anyio.to_thread.run_sync(writer.finish)
        body = FileBody(writer.file, 0, size, name="the spooled input", listener=listener)
        part = Part(0, filename, body, None, 0, writer.close)
        writer = None
        yield part
    finally:
        if writer is not None:
            writer.close()


# --- blocks of lines ---


def _encode_some(items: Iterator[Any], start: int) -> tuple[bytes, int]:
    buffer = bytearray()
    count = 0
    for item in items:
        append_line(buffer, item, start + count)
        count += 1
        if len(buffer) >= _BLOCK:
            break
    return bytes(buffer), count


async def _item_blocks(items: Iterable[Any]) -> Blocks:
    """A blocking iterable (a list, a generator reading a database) is read and encoded in
    a worker thread, a block at a time."""
    iterator = iter(items)
    index = 0
    while True:
        block, count = await anyio.to_thread.run_sync(_encode_some, iterator, index)
        if not count:
            return
        index += count
        yield block, count


async def _async_item_blocks(items: AsyncIterable[Any]) -> Blocks:
    buffer = bytearray()
    count = index = 0
    async for item in items:
        append_line(buffer, item, index)
        index += 1
        count += 1
        if len(buffer) >= _BLOCK or count >= _ITEMS_PER_STEP:
            yield bytes(buffer), count
            buffer.clear()
            count = 0
    if count:
        yield bytes(buffer), count


async def _stream_chunks(stream: IO[bytes], first: bytes) -> AsyncIterator[bytes]:
    if first:
        yield first
    while chunk := await anyio.to_thread.run_sync(stream.read, CHUNK):
        yield chunk


async def _path_chunks(path: str) -> AsyncIterator[bytes]:
    file = await anyio.to_thread.run_sync(open, path, "rb")
    try:
        async for chunk in _stream_chunks(file, b""):
            yield chunk
    finally:
        file.close()


def _path_blocks(path: str) -> Blocks:
    return _line_blocks(_path_chunks(path))


async def _line_blocks(chunks: AsyncIterator[bytes]) -> Blocks:
    """Chunks of a JSONL stream cut after their last newline; the rest waits for the next."""
    carry = b""
    async for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut], data.count(b"\n", 0, cut)
        carry = data[cut:]
        if len(carry) > MAX_LINE:
            raise InvalidParameterError(
                "source", None, f"has a line longer than {MAX_LINE >> 20} MiB: is it JSONL?"
            )
    if carry:
        yield carry, 1
