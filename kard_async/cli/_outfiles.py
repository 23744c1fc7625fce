"""The files an upload writes events to: checked before anything is sent, written safely.

``--failed-out`` (the events to send again) is written to a temporary file beside it and
moved into place at the end, so it is either the old file or the new one, never half of
each. The file of events whose outcome is unknown is appended to instead: it may still hold
events of an earlier run that nobody has checked yet.

Only a regular file or a new path in an existing directory is accepted: never a symbolic
link (it would be followed, or silently replaced by a file), a directory, a device, a FIFO
or a read-only file.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

from ._eventfiles import Malformed
from ._settings import UsageError


class Writer(Protocol):
    """Writes items in an input's format (``_eventfiles``, ``_transactionfiles``)."""

    def write_malformed(self, item: Malformed, /) -> None: ...

    def write_given(self, key: object, given: Mapping[str, Any], /) -> None: ...

    def write_event(self, key: str, item: Any, /) -> None: ...

    def flush(self) -> None: ...


MakeWriter = Callable[[IO[bytes], bool], Writer]
"""A writer in the input's format on a stream; the flag asks for a CSV header."""

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def check_target(path: Path, what: str) -> os.stat_result | None:
    """Refuse (:class:`UsageError`) a ``path`` that must not be written to; return its
    status when it is an existing regular file, None when it is a new path."""
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise UsageError(f"cannot write {what} {path}: {error.strerror}") from None
    if info is not None:
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            raise UsageError(
                f"{what} {path} is a symbolic link; give the file it points to, or a new path"
            )
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise UsageError(f"{what} {path} is {kind}; give a regular file or a new path")
        # By the mode bits too: root may write anything, but a read-only file says "keep".
        if not mode & 0o222 or not os.access(path, os.W_OK):
            raise UsageError(f"{what} {path} is read-only; give another path")
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {what} {path}: {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {what} {path}: {directory} is not writable")
    return info


class _Events:
    """Counting writer of events in the input's format."""

    def __init__(self) -> None:
        self.count = 0

    def _writer(self) -> Writer:
        raise NotImplementedError

    def malformed(self, item: Malformed) -> None:
        self._writer().write_malformed(item)
        self.count += 1

    def given(self, key: object, item: object) -> None:
        """An item as it was given (a mapping read from the file) or built (a model)."""
        if isinstance(item, Mapping):
            self._writer().write_given(key, item)
        else:
            self._writer().write_event(str(key), item)
        self.count += 1

    def event(self, key: str, item: Any) -> None:
        """An item the library built (an attribution event, a transaction)."""
        self._writer().write_event(key, item)
        self.count += 1


class ReplacedFile(_Events):
    """Written to a temporary file and moved onto ``path`` by :meth:`commit`. A file already
    at ``path`` is always replaced, emptied if nothing was written (a CSV header stays), so
    that it never holds events of an earlier run that have been sent since; nothing is
    created when nothing was written and nothing was there."""

    def __init__(self, path: Path, make_writer: MakeWriter, *, what: str) -> None:
        super().__init__()
        self.path = path
        self._what = what
        self._make_writer = make_writer
        self._temp: tuple[str, IO[bytes], Writer] | None = None
        self.emptied = False
        """Set by :meth:`commit` when it replaced a file with one holding no events."""

    def _writer(self) -> Writer:
        if self._temp is None:
            fd, name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            stream = os.fdopen(fd, "wb")
            self._temp = (name, stream, self._make_writer(stream, True))
        return self._temp[2]

    def commit(self) -> int:
        if self._temp is None:
            if not os.path.lexists(self.path):
                return 0
            self._writer()
            self.emptied = True
        assert self._temp is not None
        name, stream, writer = self._temp
        writer.flush()
        stream.close()
        self._temp = None
        try:  # again: something else may have appeared at the path during the upload
            info = check_target(self.path, self._what)
        except UsageError as error:
            raise UsageError(f"{error}; the events were left in {name}") from None
        if info is not None:
            os.chmod(name, stat.S_IMODE(info.st_mode))
        os.replace(name, self.path)
        return self.count

    def discard(self) -> None:
        if self._temp is not None:
            name, stream, _ = self._temp
            stream.close()
            with contextlib.suppress(OSError):
                os.unlink(name)
            self._temp = None


class AppendedFile(_Events):
    """Held in memory (events with an unknown outcome: at most the requests that were in
    flight) and appended to ``path`` by :meth:`commit`."""

    def __init__(self, path: Path, make_writer: MakeWriter, *, what: str) -> None:
        super().__init__()
        self.path = path
        self._what = what
        self._make_writer = make_writer
        self._buffer = io.BytesIO()
        self._open_writer: Writer | None = None

    def _writer(self) -> Writer:
        if self._open_writer is None:
            self._open_writer = self._make_writer(self._buffer, False)
        return self._open_writer

    def commit(self) -> int:
        if self._open_writer is None:
            return 0
        self._open_writer.flush()
        check_target(self.path, self._what)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "ab") as stream:
            if os.fstat(fd).st_size == 0:
                header = self._make_writer(stream, True)  # a CSV header, for a new file
                header.flush()
            stream.write(self._buffer.getvalue())
        self._open_writer = None
        return self.count
