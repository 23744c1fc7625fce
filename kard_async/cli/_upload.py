"""``kard-async attributions upload FILE``: stream a JSONL or CSV file of events to
``bulk_create``, report the outcome, and write what was not accepted to ``--failed-out``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import IO, Any, cast

from .._client import AsyncKard
from .._errors import AuthenticationError
from ..bulk import BulkProgress, BulkReport
from ..models.attributions import EVENT_CLASSES, AttributionEvent
from ._eventfiles import (
    FORMATS,
    CsvReader,
    CsvWriter,
    JsonlReader,
    JsonlWriter,
    Malformed,
    count_lines,
    default_failed_path,
    detect_format,
    open_reader,
    open_writer,
)
from ._output import Output, make_output
from ._settings import (
    CONNECTION_HELP,
    UsageError,
    add_connection_arguments,
    client_kwargs,
    int_at_least,
)
from ._stream import LineMap, ReadFailed, threaded

MAX_SHOWN = 20
MAX_SHOWN_ERRORS = 5
DEFAULT_UPLOAD_RETRIES = 8

EPILOG = f"""\
examples:
  kard-async attributions upload events.jsonl
  kard-async attributions upload events.csv --concurrency 32
  zcat events.jsonl.gz | kard-async attributions upload - --failed-out retry.jsonl

FILE holds one event per line, with its user's id, in the API's own field names:
  {{"userId": "u1", "type": "offerAttribution", "entityId": "<offer id>", "eventCode": "VIEW",
   "medium": "SEARCH", "eventDate": "2025-01-01T00:00:00Z"}}
(also {{"userId": ..., "type": ..., "attributes": {{...}}}}), or is a CSV file with the header
  userId,type,entityId,eventCode,medium,eventDate[,rank,placementId,slotId]

Events that were not accepted (failed requests, and invalid lines, whose line numbers and
reasons are printed) are written to --failed-out in the same format: fix the invalid ones
and run the same command on that file to send them again. Events whose request failed with
an unknown outcome may have been recorded already; sending them again may count them twice.

exit status: 0 when every event was accepted, 1 otherwise, 2 for usage errors.

{CONNECTION_HELP}"""


def add_parser(commands: Any) -> None:
    upload = commands.add_parser(
        "upload",
        help="upload a JSONL or CSV file of attribution events (any number of users)",
        description="Upload attribution events from a JSONL or CSV file, streaming it: events "
        "are grouped per user into requests of up to 100 and sent concurrently.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    upload.add_argument("file", metavar="FILE", help="JSONL or CSV file; - reads standard input")
    upload.add_argument(
        "--format", choices=FORMATS, help="file format (default: from the extension; jsonl for -)"
    )
    upload.add_argument(
        "--concurrency",
        type=int_at_least(1),
        default=16,
        metavar="N",
        help="requests in flight at most (default %(default)s); lowered automatically while "
        "the server pushes back",
    )
    upload.add_argument(
        "--failed-out",
        metavar="PATH",
        help="where to write the events that were not accepted (default: next to FILE, "
        "e.g. events.failed.jsonl; ./failed.jsonl for standard input)",
    )
    upload.add_argument(
        "--plain", action="store_true", help="plain progress lines, even if rich is installed"
    )
    add_connection_arguments(upload)
    upload.set_defaults(run=run_upload)


def run_upload(args: argparse.Namespace) -> int:
    fmt = detect_format(args.file, args.format)
    failed_path = Path(args.failed_out) if args.failed_out else default_failed_path(args.file, fmt)
    kwargs = client_kwargs(args)
    _check_failed_path(args.file, failed_path)
    stream = _open_input(args.file)
    try:
        reader = open_reader(fmt, stream)
        output = make_output(plain=args.plain)
        if isinstance(reader, CsvReader) and reader.unknown_columns:
            output.warn(f"ignoring unknown CSV column(s): {', '.join(reader.unknown_columns)}")
        total = None
        if args.file != "-" and os.path.isfile(args.file):
            lines = count_lines(args.file)
            total = None if lines is None else max(0, lines - reader.header_lines)
        upload = Upload(reader, failed_path, output, source=args.file)
        retries = DEFAULT_UPLOAD_RETRIES if args.max_retries is None else args.max_retries
        try:
            return asyncio.run(
                upload.run(kwargs, concurrency=args.concurrency, max_retries=retries, total=total)
            )
        except KeyboardInterrupt:
            output.warn(
                "interrupted: events sent so far may have been recorded; "
                f"nothing was written to {failed_path}"
            )
            raise
    finally:
        if args.file != "-":
            stream.close()


def _open_input(path: str) -> IO[bytes]:
    if path == "-":
        # A reader of our own, not sys.stdin.buffer: the reading thread may be blocked in it
        # when the process exits (Ctrl-C), and Python flushes sys.stdin's buffer at exit.
        return open(sys.stdin.fileno(), "rb", closefd=False)
    try:
        return open(path, "rb")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def _check_failed_path(source: str, failed: Path) -> None:
    if source != "-" and failed.resolve() == Path(source).resolve():
        raise UsageError(f"--failed-out {failed} is the input file; choose another path")
    directory = failed.parent
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise UsageError(
            f"cannot write --failed-out {failed}: {directory} is not a writable directory"
        )


class FailedOut:
    """The failed-out file, written to a temporary file and moved into place at the end;
    created only if something is written."""

    def __init__(
        self, path: Path, make_writer: Callable[[IO[bytes]], JsonlWriter | CsvWriter]
    ) -> None:
        self.path = path
        self.count = 0
        self._make_writer = make_writer
        self._file: IO[bytes] | None = None
        self._temp = ""
        self._writer: JsonlWriter | CsvWriter | None = None

    def _open(self) -> JsonlWriter | CsvWriter:
        if self._writer is None:
            fd, self._temp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            self._file = os.fdopen(fd, "wb")
            self._writer = self._make_writer(self._file)
        return self._writer

    def malformed(self, item: Malformed) -> None:
        self._open().write_malformed(item)
        self.count += 1

    def given(self, user_id: object, event: object) -> None:
        """An event the library refused, as it was given (a mapping) or built (a model)."""
        if isinstance(event, Mapping):
            self._open().write_given(user_id, event)
        elif isinstance(event, tuple(EVENT_CLASSES.values())):
            self._open().write_event(str(user_id), cast(AttributionEvent, event))
        else:
            return
        self.count += 1

    def event(self, user_id: str, event: AttributionEvent) -> None:
        self._open().write_event(user_id, event)
        self.count += 1

    def commit(self) -> int:
        if self._writer is None or self._file is None:
            return 0
        self._writer.flush()
        self._file.close()
        os.replace(self._temp, self.path)
        self._writer = None
        return self.count

    def discard(self) -> None:
        if self._file is not None and self._writer is not None:
            self._file.close()
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            self._writer = None


class Upload:
    """One upload: reads the input, runs ``bulk_create``, reports and writes failures."""

    def __init__(
        self, reader: JsonlReader | CsvReader, failed_path: Path, output: Output, *, source: str
    ) -> None:
        self._reader = reader
        self._output = output
        self._source = "standard input" if source == "-" else source
        self._failed = FailedOut(failed_path, lambda stream: open_writer(reader, stream))
        self._lines = LineMap()
        self._malformed = 0
        self._shown: list[tuple[int, str]] = []
        self._last_line = 0
        self._read_error: Exception | None = None

    async def _events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        index = 0
        async for item in threaded(self._reader):
            if isinstance(item, ReadFailed):
                self._read_error = item.error
                return
            self._last_line = item.line
            if isinstance(item, Malformed):
                self._malformed += 1
                self._failed.malformed(item)
                if len(self._shown) < MAX_SHOWN:
                    self._shown.append((item.line, item.reason))
                continue
            self._lines.add(index, item.line)
            index += 1
            yield cast(str, item.user_id), item.event

    async def run(
        self, kwargs: dict[str, Any], *, concurrency: int, max_retries: int, total: int | None
    ) -> int:
        started = time.monotonic()
        try:
            with self._output.progress("uploading", total, stderr=True) as bar:

                def on_progress(progress: BulkProgress) -> None:
                    done = progress.done + self._malformed
                    invalid = progress.invalid + self._malformed
                    bar.update(done, _detail(progress.accepted, progress.failed, invalid, started))

                async with AsyncKard(**kwargs) as kard:
                    report = await kard.users.attributions.bulk_create(
                        self._events(),
                        concurrency=concurrency,
                        max_retries=max_retries,
                        on_progress=on_progress,
                    )
                progress = report.progress()
                done = progress.done + self._malformed
                detail = _detail(
                    progress.accepted, progress.failed, progress.invalid + self._malformed, started
                )
                bar.update(done, detail, total=done)
            return self._finish(report)
        finally:
            self._failed.discard()

    def _finish(self, report: BulkReport) -> int:
        shown = list(self._shown)
        for invalid in report.invalid:
            self._failed.given(invalid.user_id, invalid.event)
            shown.append((self._lines.line(invalid.index), _wire_names(invalid.reason)))
        for batch in report.failed:
            for event in batch.events:
                self._failed.event(batch.user_id, event)
        written = self._failed.commit()

        out = self._output
        invalid_total = self._malformed + len(report.invalid)
        if not (report.progress().done or invalid_total or self._read_error):
            out.warn(f"no events in {self._source}")
        if invalid_total:
            shown.sort()
            out.warn(f"{invalid_total:,} invalid event(s) (line: reason):")
            for line, reason in shown[:MAX_SHOWN]:
                out.warn(f"  line {line}: {reason}")
            if invalid_total > MAX_SHOWN:
                out.warn(f"  ... and {invalid_total - MAX_SHOWN:,} more")
        if report.failed:
            errors = Counter(_REQUEST_ID.sub("", str(batch.error)) for batch in report.failed)
            out.warn(f"{len(report.failed):,} request(s) failed:")
            for message, count in errors.most_common(MAX_SHOWN_ERRORS):
                out.warn(f"  {count} x {message}")
            if len(errors) > MAX_SHOWN_ERRORS:
                out.warn(f"  ... and {len(errors) - MAX_SHOWN_ERRORS} other error(s)")
            if any(isinstance(batch.error, AuthenticationError) for batch in report.failed):
                out.warn(
                    "  check the credentials: --client-id/--client-secret or "
                    "KARD_CLIENT_ID/KARD_CLIENT_SECRET (and --base-url or --sandbox)"
                )

        unknown = sum(len(batch.events) for batch in report.failed if batch.outcome_unknown)
        out.summary(summary_rows(report, self._malformed), title=f"Upload of {self._source}")
        if written:
            out.line(
                f"{written:,} event(s) not accepted were written to {self._failed.path}; "
                f"fix the invalid ones and send them again with:\n"
                f"  kard-async attributions upload {self._failed.path}"
            )
        if unknown:
            out.line(
                f"{unknown:,} of them failed with an unknown outcome: the server may have "
                "recorded them, and sending them again may count them twice."
            )
        if self._read_error is not None:
            out.warn(
                f"error: stopped reading {self._source} after line {self._last_line}: "
                f"{self._read_error}; the rest of the input was not uploaded"
            )
        ok = report.ok and not self._malformed and self._read_error is None
        return 0 if ok else 1


_REQUEST_ID = re.compile(r" \(request id [^)]*\)")
_SNAKE_PARAMETER = re.compile(r"^(invalid |events\[\d+\]\.)?([a-z]+(?:_[a-z]+)+)(?==)")


def _wire_names(reason: str) -> str:
    """``invalid event_date=...`` -> ``invalid eventDate=...``: name fields as the file does."""

    def camel(match: re.Match[str]) -> str:
        head, *rest = match.group(2).split("_")
        return (match.group(1) or "") + head + "".join(part.title() for part in rest)

    return _SNAKE_PARAMETER.sub(camel, reason, count=1)


def _detail(accepted: int, failed: int, invalid: int, started: float) -> str:
    elapsed = time.monotonic() - started
    rate = (accepted + failed + invalid) / elapsed if elapsed > 0 else 0.0
    return f"{accepted:,} accepted, {failed:,} failed, {invalid:,} invalid, {rate:,.0f} events/s"


def summary_rows(report: BulkReport, malformed: int = 0) -> list[tuple[str, str]]:
    """accepted, failed (outcome unknown vs surely not recorded), invalid, requests, elapsed,
    events/s. ``malformed`` counts input lines that never reached ``bulk_create``."""
    unknown = sum(len(batch.events) for batch in report.failed if batch.outcome_unknown)
    invalid = malformed + len(report.invalid)
    handled = report.accepted + report.failed_count + invalid
    requests = len(report.jobs) + len(report.failed)
    elapsed = report.elapsed
    return [
        ("accepted", f"{report.accepted:,}"),
        (
            "failed",
            f"{report.failed_count:,} (outcome unknown: {unknown:,}, "
            f"not recorded: {report.failed_count - unknown:,})",
        ),
        ("invalid", f"{invalid:,}"),
        (
            "requests",
            f"{requests:,} ({len(report.jobs):,} accepted, {len(report.failed):,} failed)",
        ),
        ("elapsed", f"{elapsed:.2f} s"),
        ("events/s", f"{handled / elapsed if elapsed > 0 else 0:,.0f}"),
    ]
