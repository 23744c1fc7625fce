"""Writing one part of an upload to a temporary file: whole lines, gzipped on the fly or
not, never more than the part size limit. Blocking code: callers run it in a worker thread.

Why a temporary file (a spool) instead of streaming straight into the PUT: a presigned
S3-style URL needs ``Content-Length`` (S3 refuses chunked uploads with 501), and the gzipped
size is only known once it is written; a failed PUT is repeated from the first byte, which
a one-shot iterator or a pipe cannot give twice. The spool holds one part at a time, on
disk: memory stays flat whatever the size.
"""

from __future__ import annotations

import tempfile
import zlib
from typing import IO

GZIP_LEVEL = 1
"""zlib level 1: see benchmarks/RESULTS.md. On transaction JSONL it compresses about twice as
fast as level 6 for a file only about 15-20% larger; the network to the store is rarely
the bottleneck a higher level would relieve, the one CPU core doing it often is."""

_GZIP = 31  # wbits: a gzip container (header and CRC trailer) around raw deflate
_SLACK = 64  # gzip header and trailer, the final block, a sync flush marker


def _bound(raw: int) -> int:
    """Most compressed bytes ``raw`` pending input bytes can still produce (deflate's own
    worst case is about raw + raw/1000: incompressible data in stored blocks)."""
    return raw + (raw >> 10) + _SLACK


class PartWriter:
    """One part in a temporary file; ``size`` bytes written so far, ``lines`` lines."""

    def __init__(self, *, compress: bool, limit: int, directory: str | None) -> None:
        # Deleted when closed; it outlives this call, so no context manager.
        self.file: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115
            dir=directory, prefix="kard-upload-"
        )
        self.limit = limit
        self.size = 0
        self.lines = 0
        self.raw = 0  # uncompressed bytes taken
        self._deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP) if compress else None
        self._pending = 0  # uncompressed bytes given to deflate since its output was exact

    def add(self, block: bytes, lines: int) -> int:
        """Write the whole lines of ``block`` that fit (``lines`` of them in all); return how
        many bytes were taken: ``len(block)``, or less at the part size limit."""
        if self._room_for(len(block)):
            self._write(block)
            self.lines += lines
            return len(block)
        taken = 0  # at the limit: the lines that still fit, one by one
        while taken < len(block):
            end = block.find(b"\n", taken)
            end = len(block) if end < 0 else end + 1
            if not self._room_for(end - taken):
                break
            self._write(block[taken:end])
            self.lines += 1
            taken = end
        return taken

    def append(self, data: bytes) -> bool:
        """Write ``data`` as is (no line structure: a gzip stream); False if it would not
        fit, and then nothing is written."""
        if not self._room_for(len(data)):
            return False
        self._write(data)
        return True

    def finish(self) -> int:
        """Close the gzip stream; return the part's size. The file is left at its start."""
        if self._deflate is not None:
            tail = self._deflate.flush(zlib.Z_FINISH)
            self.file.write(tail)
            self.size += len(tail)
            self._deflate = None
        self.file.flush()
        self.file.seek(0)
        return self.size

    def close(self) -> None:
        self.file.close()

    def _room_for(self, more: int) -> bool:
        """Whether ``more`` input bytes surely fit. The compressed size of what deflate
        still buffers is only bounded, so when the bound says no, flush it to know."""
        if self._fits(more):
            return True
        if self._deflate is not None and self._pending:
            self._sync()
            return self._fits(more)
        return False

    def _fits(self, more: int) -> bool:
        if self._deflate is None:
            return self.size + more <= self.limit
        return self.size + _bound(self._pending + more) <= self.limit

    def _write(self, data: bytes) -> None:
        self.raw += len(data)
        if self._deflate is None:
            self.file.write(data)
            self.size += len(data)
            return
        out = self._deflate.compress(data)
        self._pending += len(data)
        if out:
            self.file.write(out)
            self.size += len(out)

    def _sync(self) -> None:
        if self._deflate is not None and self._pending:
            out = self._deflate.flush(zlib.Z_SYNC_FLUSH)
            self.file.write(out)
            self.size += len(out)
            self._pending = 0
