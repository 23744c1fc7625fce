"""``kard-async attributions upload FILE`` (and ``users upload``, ``transactions upload``):
stream a JSONL or CSV file to a ``bulk_create``, report the outcome, and write what was not
accepted to ``--failed-out``. An :class:`UploadCommand` says what the file holds and where it goes.

Every line of the input ends up accepted, failed or invalid. Whatever stops the upload part
way (Ctrl-C, or an error the library raises with its partial report), the events that were
not accepted are written out before the command exits: those surely not recorded to
``--failed-out``, those whose request was in flight (outcome unknown) to a separate file.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import re
import shlex
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from .. import APIError, AsyncKard, AuthenticationError
from ..bulk import BulkProgress, BulkReport
from ._eventfiles import (
    FORMATS,
    CsvReader,
    JsonlReader,
    Malformed,
    Record,
    count_lines,
    default_failed_path,
    detect_format,
    open_reader,
    open_writer,
    sniff_format,
    unknown_path,
)
from ._kinds import ATTRIBUTIONS, RecordKind
from ._outfiles import AppendedFile, ReplacedFile, check_target
from ._output import Output, make_output
from ._settings import (
    CONNECTION_HELP,
    UsageError,
    add_connection_arguments,
    client_kwargs,
    int_at_least,
)
from ._stream import LineMap, ReadFailed, ThreadedReader

MAX_SHOWN = 20
MAX_SHOWN_ERRORS = 5
DEFAULT_UPLOAD_RETRIES = 8
# How long to wait, after an interrupt, for the reading thread to let go of the input: a
# file's reader is never blocked for long, standard input's may be (an idle pipe).
_LET_GO_FILE = 10.0
_LET_GO_STDIN = 0.2

EPILOG = f"""\
examples:
  kard-async attributions upload events.jsonl
  kard-async attributions upload events.csv --concurrency 32
  zcat events.csv.gz | kard-async attributions upload - --failed-out retry.csv

FILE holds one event per line, with its user's id, in the API's own field names:
  {{"userId": "u1", "type": "offerAttribution", "entityId": "<offer id>", "eventCode": "VIEW",
   "medium": "SEARCH", "eventDate": "2025-01-01T00:00:00Z"}}
(also {{"userId": ..., "type": ..., "attributes": {{...}}}}), or is a CSV file with the header
  userId,type,entityId,eventCode,medium,eventDate[,rank,placementId,slotId]
Each line is read on its own: a broken line (an unclosed quote, say) is reported with its
number and never hides the lines after it. Standard input's format is told from its first
line (a JSON object, or a CSV header), or given with --format.

Events that were not accepted (failed requests, and invalid lines, whose line numbers and
reasons are printed) are written to --failed-out in the same format; send that file with
the same command to retry them (what still fails is written to the same file again). A
file already at --failed-out is replaced, emptied when nothing failed: it never holds
events that were sent since.
Events whose request failed with an unknown outcome may have been recorded already, and
sending them again may count them twice: --exclude-unknown keeps them out of --failed-out
and adds them to a separate file instead (events.unknown.jsonl beside events.failed.jsonl).
On Ctrl-C, the events not accepted so far (the rest of the file included) are written the
same way, those that were in flight always to the separate file; the exit status is 130.

exit status: 0 when every event was accepted, 1 otherwise, 2 for usage errors, 130 when
interrupted.

{CONNECTION_HELP}"""


@dataclass(frozen=True)
class UploadCommand:
    """One ``... upload FILE`` command: what its lines hold, and the bulk helper they go to."""

    name: str
    """As typed: ``attributions upload``."""
    records: RecordKind
    bulk: Callable[[AsyncKard], Callable[..., Awaitable[BulkReport]]]
    """The client's bulk helper, e.g. ``lambda kard: kard.users.bulk_create``."""
    item: Callable[[Record], object]
    """What the helper takes for one line."""
    help: str
    description: str
    epilog: str

    @property
    def noun(self) -> str:
        return self.records.noun

    @property
    def one(self) -> str:
        """``event(s)``."""
        return f"{self.noun[:-1]}(s)"

    @property
    def unknown_what(self) -> str:
        return f"the file of {self.noun} with an unknown outcome"


ATTRIBUTIONS_UPLOAD = UploadCommand(
    name="attributions upload",
    records=ATTRIBUTIONS,
    bulk=lambda kard: kard.users.attributions.bulk_create,
    item=lambda record: (cast(str, record.user_id), record.event),
    help="upload a JSONL or CSV file of attribution events (any number of users)",
    description="Upload attribution events from a JSONL or CSV file, streaming it: events "
    "are grouped per user into requests of up to 100 and sent concurrently.",
    epilog=EPILOG,
)
UNKNOWN_WHAT = ATTRIBUTIONS_UPLOAD.unknown_what


def add_parser(commands: Any, command: UploadCommand = ATTRIBUTIONS_UPLOAD) -> None:
    noun = command.noun
    upload = commands.add_parser(
        "upload",
        help=command.help,
        description=command.description,
        epilog=command.epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    upload.add_argument("file", metavar="FILE", help="JSONL or CSV file; - reads standard input")
    upload.add_argument(
        "--format",
        choices=FORMATS,
        help="file format (default: from the extension; for standard input, from its first line)",
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
        help=f"where to write the {noun} that were not accepted (default: next to FILE, "
        f"e.g. {noun}.failed.jsonl; ./failed.jsonl for standard input); a regular file or a "
        "new path",
    )
    upload.add_argument(
        "--exclude-unknown",
        action="store_true",
        help=f"leave {noun} whose outcome is unknown (the server may have recorded them) out "
        "of --failed-out, like failed_items(include_unknown=False); they are added to "
        "NAME.unknown.EXT beside it instead",
    )
    upload.add_argument(
        "--plain", action="store_true", help="plain progress lines, even if rich is installed"
    )
    add_connection_arguments(upload)
    upload.set_defaults(run=functools.partial(run_upload, command=command))


def run_upload(args: argparse.Namespace, command: UploadCommand = ATTRIBUTIONS_UPLOAD) -> int:
    kwargs = client_kwargs(args)
    fmt = detect_format(args.file, args.format)
    stream = _open_input(args.file)
    try:
        lines: Iterator[bytes] = iter(stream)
        if fmt is None:
            fmt, lines = sniff_format(lines, command.records)
        failed_path = (
            Path(args.failed_out) if args.failed_out else default_failed_path(args.file, fmt)
        )
        unknown = unknown_path(failed_path)
        _check_outputs(
            args.file, failed_path, unknown, default_failed_path(args.file, fmt), command
        )
        reader = open_reader(fmt, lines, command.records)
        output = make_output(plain=args.plain)
        if isinstance(reader, CsvReader) and reader.unknown_columns:
            output.warn(f"ignoring unknown CSV column(s): {', '.join(reader.unknown_columns)}")
        total = None
        if args.file != "-" and os.path.isfile(args.file):
            counted = count_lines(args.file)
            total = None if counted is None else max(0, counted - reader.header_lines)
        upload = Upload(
            reader,
            failed_path,
            unknown,
            output,
            source=args.file,
            exclude_unknown=args.exclude_unknown,
            command=command,
        )
        retries = DEFAULT_UPLOAD_RETRIES if args.max_retries is None else args.max_retries
        try:
            return asyncio.run(
                upload.run(kwargs, concurrency=args.concurrency, max_retries=retries, total=total)
            )
        except KeyboardInterrupt:
            upload.stopped("interrupted")
            raise
        except Exception as error:
            if upload.partial is not None:  # the library's report of an upload cut short
                upload.stopped(f"the upload stopped: {error}")
            raise
        finally:
            upload.discard()
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


def _check_outputs(
    source: str, failed: Path, unknown: Path, default: Path, command: UploadCommand
) -> None:
    """Before anything is sent: the files written at the end must be writable. The failed-out
    file may be the input when the input is a failed-out file itself (sent again, it is
    replaced by what still fails once it was read to its end); the file of unknown outcomes,
    which is appended to, never."""
    check_target(failed, "--failed-out")
    check_target(unknown, command.unknown_what)
    if source == "-":
        return
    input_file = Path(source)
    if _same_file(failed, input_file) and not _same_file(default, input_file):
        raise UsageError(f"--failed-out {failed} is the input file; choose another path")
    if _same_file(unknown, input_file):
        raise UsageError(
            f"{unknown}, where {command.noun} with an unknown outcome are added, is the input "
            "file; "
            "choose another --failed-out"
        )


def _same_file(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


class Upload:
    """One upload: reads the input, runs ``bulk_create``, reports and writes failures."""

    def __init__(
        self,
        reader: JsonlReader | CsvReader,
        failed_path: Path,
        unknown: Path,
        output: Output,
        *,
        source: str,
        exclude_unknown: bool,
        command: UploadCommand = ATTRIBUTIONS_UPLOAD,
    ) -> None:
        self._command = command
        self._output = output
        self._path = source
        self._source = "standard input" if source == "-" else source
        self._exclude_unknown = exclude_unknown
        self._failed = ReplacedFile(
            failed_path,
            lambda stream, header: open_writer(reader, stream, header),
            what="--failed-out",
        )
        self._unknown = AppendedFile(
            unknown,
            lambda stream, header: open_writer(reader, stream, header),
            what=command.unknown_what,
        )
        self._input: ThreadedReader[Record | Malformed] = ThreadedReader(reader)
        self._lines = LineMap()
        self._malformed = 0
        self._shown: list[tuple[int, str]] = []
        self._last_line = 0
        self._read_error: Exception | None = None
        self._started = time.monotonic()
        self._report: BulkReport | None = None
        self._finishing = False
        self.partial: BulkReport | None = None
        """The report ``bulk_create`` attached to the exception that stopped it."""

    async def _events(self) -> AsyncIterator[object]:
        index = 0
        async for item in self._input:
            if isinstance(item, ReadFailed):
                self._read_error = item.error
                return
            self._last_line = item.line
            if isinstance(item, Malformed):
                self._take_malformed(item)
                continue
            self._lines.add(index, item.line)
            index += 1
            yield self._command.item(item)

    def _take_malformed(self, item: Malformed) -> None:
        self._malformed += 1
        self._failed.malformed(item)
        if len(self._shown) < MAX_SHOWN:
            self._shown.append((item.line, item.reason))

    async def run(
        self, kwargs: dict[str, Any], *, concurrency: int, max_retries: int, total: int | None
    ) -> int:
        self._started = started = time.monotonic()
        noun = self._command.noun
        with self._output.progress("uploading", total, stderr=True) as bar:

            def on_progress(progress: BulkProgress) -> None:
                done = progress.done + self._malformed
                invalid = progress.invalid + self._malformed
                bar.update(
                    done, _detail(progress.accepted, progress.failed, invalid, started, noun)
                )

            async with AsyncKard(**kwargs) as kard:
                try:
                    report = await self._command.bulk(kard)(
                        self._events(),
                        concurrency=concurrency,
                        max_retries=max_retries,
                        on_progress=on_progress,
                    )
                except BaseException as error:
                    self.partial = getattr(error, "kard_bulk_report", None)
                    raise
                self._report = report
            progress = report.progress()
            done = progress.done + self._malformed
            detail = _detail(
                progress.accepted,
                progress.failed,
                progress.invalid + self._malformed,
                started,
                noun,
            )
            bar.update(done, detail, total=done)
        return self._finish(report)

    def discard(self) -> None:
        """Remove the temporary failed-out file, if it was not moved into place."""
        self._failed.discard()

    def _settle(self, report: BulkReport, *, unknown_apart: bool) -> None:
        """Files the report's invalid and failed items (in flight ones apart if asked)."""
        spelled = self._command.records.wire_names
        self._shown.extend(
            (self._lines.line(invalid.index), _wire_names(invalid.reason, spelled))
            for invalid in report.invalid
        )
        for invalid in report.invalid:
            self._failed.given(invalid.user_id, invalid.event)
        for batch in report.failed:
            target = self._unknown if batch.outcome_unknown and unknown_apart else self._failed
            for event in batch.events:
                target.event(batch.user_id, event)

    def _keep_unread_input(self) -> None:
        """The input was not read to its end: replacing it would lose its unread lines."""
        path = self._failed.path
        if _same_file(path, Path(self._path)):
            self._failed.path = path.with_name(f"{path.stem}.failed{path.suffix}")

    def _finish(self, report: BulkReport) -> int:
        self._finishing = True
        self._settle(report, unknown_apart=self._exclude_unknown)
        if self._read_error is not None:
            self._keep_unread_input()
        apart = self._unknown.commit()  # first: cheap, and kept if the other one fails
        written = self._failed.commit()

        out = self._output
        noun, one, name = self._command.noun, self._command.one, self._command.name
        invalid_total = self._malformed + len(report.invalid)
        if not (report.progress().done or invalid_total or self._read_error):
            out.warn(f"no {noun} in {self._source}")
        self._show_invalid(invalid_total)
        self._show_errors(report)
        out.summary(summary_rows(report, self._malformed, noun), title=f"Upload of {self._source}")
        unknown = _unknown_count(report)
        if written:
            fix = "fix the invalid ones and " if invalid_total else ""
            out.line(
                f"{written:,} {one} not accepted were written to {self._failed.path}; "
                f"{fix}send them again with:\n"
                f"  kard-async {name} {shlex.quote(str(self._failed.path))}"
            )
        elif self._failed.emptied:
            out.line(
                f"{self._failed.path} was emptied: it held {noun} of an earlier run, and "
                "nothing of this run belongs in it."
            )
        if unknown and not apart:
            out.line(
                f"{unknown:,} of them failed with an unknown outcome: the server may have "
                "recorded them, and sending them again may count them twice "
                "(--exclude-unknown keeps them apart)."
            )
        if apart:
            out.line(
                f"{apart:,} {one} failed with an unknown outcome (the server may have "
                f"recorded them) and were added to {self._unknown.path}: check them before "
                "sending them again."
            )
        if self._read_error is not None:
            out.warn(
                f"error: stopped reading {self._source} after line {self._last_line}: "
                f"{self._read_error}; the rest of the input was not uploaded"
            )
        ok = report.ok and not self._malformed and self._read_error is None
        return 0 if ok else 1

    def stopped(self, why: str) -> None:
        """After an upload cut short: write what was not accepted, in flight apart."""
        if self._finishing:  # stopped while writing the outcome: leave it
            return
        out = self._output
        noun, one, name = self._command.noun, self._command.one, self._command.name
        out.warn(f"{why}: {noun} sent so far may have been recorded; saving the others")
        report = self.partial or self._report or BulkReport()
        report.elapsed = report.elapsed or time.monotonic() - self._started
        stdin = self._path == "-"
        # Standard input is not read on: after Ctrl-C its writer may never close it.
        left, rest = self._input.stop(timeout=_LET_GO_STDIN if stdin else _LET_GO_FILE)
        complete = self._input.finished or (rest is not None and not stdin)
        not_sent = self._take_unsent(iter(left))
        if rest is not None and not stdin:
            not_sent += self._take_unsent(rest)
        self._read_error = self._read_error or self._input.error
        if not complete or self._read_error is not None:
            complete = False
            self._keep_unread_input()
        self._settle(report, unknown_apart=True)
        apart = self._unknown.commit()  # first: cheap, and kept if the other one fails
        written = self._failed.commit()

        invalid_total = self._malformed + len(report.invalid)
        self._show_invalid(invalid_total)
        self._show_errors(report, stopped=True)
        rows = summary_rows(report, self._malformed, noun)
        rows.insert(3, ("not sent", f"{not_sent:,} (never handed to the library)"))
        out.summary(rows, title=f"Upload of {self._source} (stopped)")
        if written:
            fix = "fix the invalid ones and " if invalid_total else ""
            out.line(
                f"{written:,} {one} surely not recorded were written to "
                f"{self._failed.path}; {fix}send them with:\n"
                f"  kard-async {name} {shlex.quote(str(self._failed.path))}"
            )
        if apart:
            out.line(
                f"{apart:,} {one} were in flight or failed with an unknown outcome (the "
                f"server may have recorded them) and were added to {self._unknown.path}: "
                "check them before sending them again."
            )
        if not complete:
            error = "" if self._read_error is None else f" ({self._read_error})"
            out.warn(
                f"{self._source} was read up to line {self._last_line}{error}; what came "
                "after it was neither read nor saved"
            )

    def _take_unsent(self, items: Iterator[Record | Malformed]) -> int:
        """Input read but never given to ``bulk_create``: records go to --failed-out as
        read, malformed lines are reported like the others. Returns the records."""
        count = 0
        try:
            for item in items:
                self._last_line = item.line
                if isinstance(item, Malformed):
                    self._take_malformed(item)
                else:
                    self._failed.given(item.user_id, item.event)
                    count += 1
        except Exception as error:  # reading the rest of the file failed
            self._read_error = error
        return count

    def _show_invalid(self, total: int) -> None:
        if not total:
            return
        out = self._output
        shown = sorted(self._shown)
        out.warn(f"{total:,} invalid {self._command.one} (line: reason):")
        for line, reason in shown[:MAX_SHOWN]:
            out.warn(f"  line {line}: {reason}")
        if total > MAX_SHOWN:
            out.warn(f"  ... and {total - MAX_SHOWN:,} more")

    def _show_errors(self, report: BulkReport, *, stopped: bool = False) -> None:
        """The errors of failed requests; after a stop, not the library's note on batches it
        settled because of the stop (they are counted in the summary)."""
        failed = [b for b in report.failed if not stopped or isinstance(b.error, APIError)]
        if not failed:
            return
        out = self._output
        errors = Counter(_REQUEST_ID.sub("", str(batch.error)) for batch in failed)
        out.warn(f"{len(failed):,} request(s) failed:")
        for message, count in errors.most_common(MAX_SHOWN_ERRORS):
            out.warn(f"  {count} x {message}")
        if len(errors) > MAX_SHOWN_ERRORS:
            out.warn(f"  ... and {len(errors) - MAX_SHOWN_ERRORS} other error(s)")
        if any(isinstance(batch.error, AuthenticationError) for batch in failed):
            out.warn(
                "  check the credentials: --client-id/--client-secret or "
                "KARD_CLIENT_ID/KARD_CLIENT_SECRET (and --base-url or --sandbox)"
            )


def _unknown_count(report: BulkReport) -> int:
    return sum(len(batch.events) for batch in report.failed if batch.outcome_unknown)


_REQUEST_ID = re.compile(r" \(request id [^)]*\)")
_SNAKE = re.compile(r"\b([a-z]+)((?:_[a-z]+)+)\b")


def _wire_names(reason: str, spelled: Mapping[str, str] | None = None) -> str:
    """``invalid event_date=...`` -> ``invalid eventDate=...``, ``invalid
    phone_numbers[0].number=...`` -> ``invalid phoneNumbers[0].number=...``: name fields as
    the file does (``spelled``: names the API spells otherwise, ``card_bin``: ``cardBIN``)."""
    if not reason.startswith("invalid "):
        return reason
    name, equals, rest = reason.partition("=")

    def camel(match: re.Match[str]) -> str:
        if spelled and match.group(0) in spelled:
            return spelled[match.group(0)]
        return match.group(1) + "".join(part.title() for part in match.group(2).split("_")[1:])

    return _SNAKE.sub(camel, name) + equals + rest


def _detail(accepted: int, failed: int, invalid: int, started: float, noun: str) -> str:
    elapsed = time.monotonic() - started
    rate = (accepted + failed + invalid) / elapsed if elapsed > 0 else 0.0
    return f"{accepted:,} accepted, {failed:,} failed, {invalid:,} invalid, {rate:,.0f} {noun}/s"


def summary_rows(
    report: BulkReport, malformed: int = 0, noun: str = "events"
) -> list[tuple[str, str]]:
    """accepted, failed (outcome unknown vs surely not recorded), invalid, requests, elapsed,
    items/s. ``malformed`` counts input lines that never reached ``bulk_create``."""
    unknown = _unknown_count(report)
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
        (f"{noun}/s", f"{handled / elapsed if elapsed > 0 else 0:,.0f}"),
    ]
