"""Rendering for people: rich tables and progress bars, or plain lines when rich is absent.

``rich`` is optional (the ``cli`` extra) and imported only here, only when used. Plain output
is tab-separated rows and a progress line at most once a second; it is also what
``--plain`` or ``KARD_ASYNC_PLAIN=1`` select, and how progress is shown when it does not go
to a terminal (a redrawn bar would be saved as a cut-off fragment).

Every text goes through :func:`printable` on its way out: names, reasons and error details
come from the server, and a terminal must not obey escape sequences hidden in them.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, TextIO, cast

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgressBar
    from rich.progress import TaskID

PLAIN_ENV = "KARD_ASYNC_PLAIN"
_PLAIN_INTERVAL = 1.0

# Terminal escape sequences (ECMA-48): CSI (ESC [ or 0x9b) with its parameters; OSC, DCS, SOS,
# PM and APC strings up to their terminator (BEL, ESC \ or 0x9c) or the end of the line; other
# ESC sequences; then any C0 or C1 control character left, except tab and newline.
_CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c\n]*?(?:\x07|\x1b\\|\x9c|(?=\n)|$)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def printable(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab and newline
    stay): safe to print whatever the server sent."""
    return _CONTROL.sub("", text)


@dataclass(frozen=True)
class Column:
    header: str
    justify: Literal["left", "right"] = "left"
    no_wrap: bool = False


class ProgressLine(Protocol):
    def update(self, done: int, detail: str = "", *, total: int | None = None) -> None:
        """Report ``done`` items so far; ``total`` (when given) replaces the expected total."""


class Output(Protocol):
    """Human-readable output. Tables and notes go to stdout, warnings to stderr."""

    def heading(self, text: str) -> None: ...

    def line(self, text: str = "") -> None: ...

    def note(self, text: str) -> None:
        """Secondary text (dim in rich): hints, code equivalents."""

    def warn(self, text: str) -> None:
        """A line on stderr."""

    def table(
        self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, title: str = ""
    ) -> None:
        """Cells may hold several lines (joined with "; " in plain output)."""

    def summary(self, rows: Sequence[tuple[str, str]], *, title: str = "") -> None: ...

    def progress(
        self, description: str, total: int | None, *, stderr: bool = False
    ) -> AbstractContextManager[ProgressLine]:
        """A progress bar (rich) or a line at most once a second (plain), on stdout or stderr."""


def plain_requested(flag: bool) -> bool:
    return flag or os.environ.get(PLAIN_ENV, "").strip() not in ("", "0")


def make_output(*, plain: bool = False) -> Output:
    """Rich output when rich is installed and plain output was not asked for."""
    if not plain_requested(plain):
        try:
            return RichOutput()
        except ImportError:
            pass
    return PlainOutput(sys.stdout, sys.stderr)


# --------------------------------------------------------------------------- plain


class PlainOutput:
    def __init__(self, out: TextIO, err: TextIO) -> None:
        self._out = out
        self._err = err

    def _print(self, text: str, *, err: bool = False) -> None:
        print(printable(text), file=self._err if err else self._out, flush=err)

    def heading(self, text: str) -> None:
        self._print(f"\n== {text} ==")

    def line(self, text: str = "") -> None:
        self._print(text)

    def note(self, text: str) -> None:
        self._print(f"  {text}")

    def warn(self, text: str) -> None:
        self._print(text, err=True)

    def table(
        self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, title: str = ""
    ) -> None:
        if title:
            self._print(title)
        self._print("\t".join(_cell(column.header) for column in columns))
        for row in rows:
            self._print("\t".join(_cell(value) for value in row))
        self._out.flush()

    def summary(self, rows: Sequence[tuple[str, str]], *, title: str = "") -> None:
        if title:
            self._print(title)
        for key, value in rows:
            self._print(f"{key}: {value}")
        self._out.flush()

    @contextmanager
    def progress(
        self, description: str, total: int | None, *, stderr: bool = False
    ) -> Iterator[ProgressLine]:
        with _plain_progress(description, total, self._err if stderr else self._out) as line:
            yield line


def _cell(value: str) -> str:
    return value.replace("\t", " ").replace("\r", "").replace("\n", "; ")


@contextmanager
def _plain_progress(description: str, total: int | None, stream: TextIO) -> Iterator[ProgressLine]:
    line = _PlainProgress(description, total, stream)
    try:
        yield line
    finally:
        line.emit()


class _PlainProgress:
    """A line at most once a second while items are done, and the final state once at the
    end. Nothing at all while nothing is done (an empty input shows no 0% line)."""

    def __init__(self, description: str, total: int | None, stream: TextIO) -> None:
        self._description = description
        self._total = total
        self._stream = stream
        self._done = 0
        self._detail = ""
        self._last = time.monotonic()
        self._shown: tuple[int, int | None] = (0, None)

    def update(self, done: int, detail: str = "", *, total: int | None = None) -> None:
        self._done, self._detail = done, detail
        if total is not None:
            self._total = total
        now = time.monotonic()
        if now - self._last >= _PLAIN_INTERVAL:
            self._last = now
            self.emit()

    def emit(self) -> None:
        """Print the state unless nothing is done, or these counts were printed already."""
        if not self._done or self._shown == (self._done, self._total):
            return
        self._shown = (self._done, self._total)
        text = f"{self._description}: {self._done:,}"
        if self._total:
            text += f"/{self._total:,} ({min(100, 100 * self._done // self._total)}%)"
        if self._detail:
            text += f"  {self._detail}"
        print(printable(text), file=self._stream, flush=True)


# --------------------------------------------------------------------------- rich


class RichOutput:
    """Raises ImportError when rich is not installed."""

    def __init__(self) -> None:
        from rich.console import Console

        # markup=False: data from the API is printed as is, never read as rich markup.
        self._out: Console = Console(highlight=False, markup=False)
        self._err: Console = Console(stderr=True, highlight=False, markup=False)

    def heading(self, text: str) -> None:
        self._out.print()
        self._out.rule(printable(text), align="left", style="cyan")

    # soft_wrap: long lines are left to the terminal, and stay whole when redirected.
    def line(self, text: str = "") -> None:
        self._out.print(printable(text), soft_wrap=True)

    def note(self, text: str) -> None:
        self._out.print(printable(text), style="dim", soft_wrap=True)

    def warn(self, text: str) -> None:
        self._err.print(printable(text), style="yellow", soft_wrap=True)

    def table(
        self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, title: str = ""
    ) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=printable(title) or None, title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap)
        for row in rows:
            table.add_row(*(Text(printable(value)) for value in row))
        self._out.print(table)

    def summary(self, rows: Sequence[tuple[str, str]], *, title: str = "") -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, value in rows:
            table.add_row(Text(printable(key)), Text(printable(value)))
        if title:
            self._out.print(printable(title), style="bold")
        self._out.print(table)

    @contextmanager
    def progress(
        self, description: str, total: int | None, *, stderr: bool = False
    ) -> Iterator[ProgressLine]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        console = self._err if stderr else self._out
        if not console.is_terminal:
            with _plain_progress(description, total, cast(TextIO, console.file)) as line:
                yield line
            return
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=console,
        )
        task = bar.add_task(description, total=total, detail="")
        line = _RichProgress(bar, task)
        try:
            yield line
        finally:
            if line.started:
                bar.stop()


class _RichProgress:
    """Drawn from the first item done on (an empty input shows no 0% bar)."""

    def __init__(self, bar: RichProgressBar, task: TaskID) -> None:
        self._bar = bar
        self._task = task
        self.started = False

    def update(self, done: int, detail: str = "", *, total: int | None = None) -> None:
        if not done and not self.started:
            return
        if not self.started:
            self.started = True
            self._bar.start()
        detail = printable(detail)
        if total is not None:
            self._bar.update(self._task, completed=done, detail=detail, total=total)
        else:
            self._bar.update(self._task, completed=done, detail=detail)
