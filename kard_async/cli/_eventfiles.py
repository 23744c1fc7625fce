"""Attribution event files: JSON lines and CSV, read as a stream and written back.

Both formats are read one physical line at a time, so one broken line never hides the lines
after it (in CSV, a quoted field cannot span lines: an unclosed quote makes its own line
malformed, and the next line is read on its own). Reading yields one item per line, in
order: a :class:`Record` (the user id and the event mapping, given to ``bulk_create`` as is,
so the library's validation judges it) or a :class:`Malformed` line that could not even be
read as a record (bad JSON, an unclosed quote, wrong number of CSV columns, a rank that is
not a number). Writing produces a file in the same format that the same command accepts,
for sending events again; a malformed line is written back byte for byte.

JSONL: one object per line in the API's own camelCase names, with the user's id::

    {"userId": "u1", "type": "offerAttribution", "entityId": "...", "eventCode": "VIEW",
     "medium": "SEARCH", "eventDate": "2025-01-01T00:00:00Z"}

or nested as ``{"userId": ..., "type": ..., "attributes": {...}}``. CSV: a header with
``userId,type,entityId,eventCode,medium,eventDate`` and optionally ``rank,placementId,slotId``.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import msgspec

from ..models.attributions import AttributionEvent
from ._settings import UsageError

Format = Literal["jsonl", "csv"]
FORMATS: tuple[str, ...] = ("jsonl", "csv")
EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}
REQUIRED_COLUMNS = ("userId", "type", "entityId", "eventCode", "medium", "eventDate")
STATE_COLUMNS = ("rank", "placementId", "slotId")
# Flat JSONL lines may carry the state fields at the top level, like the CSV columns.
_STATE_KEYS = (*STATE_COLUMNS, "filters")
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # undecodable bytes survive a round trip to the failed-out file
_BOM = b"\xef\xbb\xbf"
_SNIFF_LINES = 100  # blank lines skipped at most when telling the format of standard input


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    user_id: object
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    line: int
    reason: str
    raw: bytes
    """The line as read, without its line break."""


Item = Record | Malformed


def detect_format(path: str, given: str | None) -> Format | None:
    """The format named by ``--format`` or by the file's extension; None for standard input
    without ``--format`` (then :func:`sniff_format` reads it from the first line)."""
    if given is not None:
        return "csv" if given == "csv" else "jsonl"
    if path == "-":
        return None
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of {path!r} from its extension; pass --format jsonl or csv"
        )
    return EXTENSIONS[suffix]


def sniff_format(lines: Iterator[bytes]) -> tuple[Format, Iterator[bytes]]:
    """The format of standard input, from its first non-blank line: a JSON object starts
    with ``{``, a CSV file with its header. Returns the format and all the lines, those read
    here included."""
    head: list[bytes] = []
    for line in itertools.islice(lines, _SNIFF_LINES):
        head.append(line)
        text = line.removeprefix(_BOM).strip() if len(head) == 1 else line.strip()
        if not text:
            continue
        if text.startswith(b"{"):
            return "jsonl", itertools.chain(head, lines)
        header = [column.strip() for column in _csv_fields(text.decode(_ENCODING, _ERRORS))]
        if "userId" in header:
            return "csv", itertools.chain(head, lines)
        shown = text[:60].decode(_ENCODING, "replace")
        raise UsageError(
            f"cannot tell the format of standard input: its first line ({shown!r}) is "
            "neither a JSON object nor a CSV header with userId; pass --format jsonl or csv"
        )
    return "jsonl", itertools.chain(head, lines)  # empty (or blank): nothing to upload


def default_failed_path(path: str, fmt: Format) -> Path:
    """``events.jsonl`` -> ``events.failed.jsonl``, which is also where sending
    ``events.failed.jsonl`` again writes what still fails; standard input ->
    ``./failed.jsonl``."""
    if path == "-":
        return Path(f"failed.{fmt}")
    source = Path(path)
    if source.stem.endswith(".failed"):
        return source
    return source.with_name(f"{source.stem}.failed{source.suffix or '.' + fmt}")


def unknown_path(failed: Path) -> Path:
    """Where events with an unknown outcome go when they are kept apart from ``failed``:
    ``events.failed.jsonl`` -> ``events.unknown.jsonl``, ``retry.csv`` ->
    ``retry.unknown.csv``."""
    stem = failed.stem.removesuffix(".failed")
    return failed.with_name(f"{stem}.unknown{failed.suffix}")


def count_lines(path: str) -> int | None:
    """Lines in a regular file (an estimate of the events, for the progress bar)."""
    try:
        with open(path, "rb") as stream:
            count = 0
            last = b"\n"
            while chunk := stream.read(1 << 20):
                count += chunk.count(b"\n")
                last = chunk[-1:]
            return count + (last != b"\n")
    except OSError:
        return None


def _lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered lines without their line break (and without a UTF-8 byte order mark)."""
    for number, raw in enumerate(lines, 1):
        text = raw.rstrip(b"\r\n")
        if number == 1:
            text = text.removeprefix(_BOM)
        yield number, text


# --------------------------------------------------------------------------- JSONL


class JsonlReader:
    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.header_lines = 0

    def __iter__(self) -> Iterator[Item]:
        for number, text in _lines(self._lines):
            if text.strip():
                yield _jsonl_item(number, text)


def _jsonl_item(number: int, text: bytes) -> Item:
    try:
        obj = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        return Malformed(number, f"not valid JSON ({error})", text)
    if not isinstance(obj, dict):
        return Malformed(number, f"expected a JSON object, got {type(obj).__name__}", text)
    if "userId" not in obj:
        return Malformed(number, 'no "userId"', text)
    if "attributes" not in obj and "state" not in obj and any(k in obj for k in _STATE_KEYS):
        state = {key: obj[key] for key in _STATE_KEYS if key in obj}
        obj = {key: value for key, value in obj.items() if key not in _STATE_KEYS}
        obj["state"] = state
    return Record(number, obj["userId"], obj)


class JsonlWriter:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def write_malformed(self, item: Malformed) -> None:
        self._stream.write(item.raw + b"\n")

    def write_given(self, user_id: object, event: Mapping[str, Any]) -> None:
        """An event as it was read (it was refused by validation)."""
        self._stream.write(msgspec.json.encode(event) + b"\n")

    def write_event(self, user_id: str, event: AttributionEvent) -> None:
        line = {"userId": user_id, "type": event.TYPE, **msgspec.to_builtins(event)}
        self._stream.write(msgspec.json.encode(line) + b"\n")

    def flush(self) -> None:
        self._stream.flush()


# --------------------------------------------------------------------------- CSV


class _OneLine:
    """Feeds ``csv.reader`` one line at a time: a record that would continue on the next
    line meets the end of the input instead, which ``strict`` reports as an error."""

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        line, self.line = self.line, None
        if line is None:
            raise StopIteration
        return line


class _CsvLines:
    """Parses single lines of CSV."""

    def __init__(self) -> None:
        self._feed = _OneLine()
        self._rows = csv.reader(self._feed, strict=True)

    def fields(self, text: str) -> list[str]:
        """The fields of one line; ``csv.Error`` when it is not valid CSV on its own."""
        self._feed.line = text
        try:
            return next(self._rows)
        except StopIteration:
            return []
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                raise csv.Error("unclosed quote (a quoted field cannot span lines)") from None
            raise


def _csv_fields(text: str) -> list[str]:
    try:
        return _CsvLines().fields(text)
    except csv.Error:
        return []


class CsvReader:
    """Reads the header at once (a missing column is a :class:`UsageError`), rows lazily."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = _lines(lines)
        self._parser = _CsvLines()
        self.header_lines = 1
        first = next(self._lines, None)
        header: list[str] = []
        if first is not None:
            try:
                header = self._parser.fields(first[1].decode(_ENCODING, _ERRORS))
            except csv.Error as error:
                raise UsageError(f"cannot read the CSV header: {error}") from None
        self.header = [column.strip() for column in header]
        missing = [column for column in REQUIRED_COLUMNS if column not in self.header]
        if missing:
            raise UsageError(
                f"the CSV header lacks {', '.join(missing)}; expected "
                f"{','.join(REQUIRED_COLUMNS)}[,{','.join(STATE_COLUMNS)}]"
                + (f", got {','.join(self.header)}" if self.header else " (the file is empty)")
            )
        known = set(REQUIRED_COLUMNS) | set(STATE_COLUMNS)
        self.unknown_columns = [column for column in self.header if column not in known]

    def __iter__(self) -> Iterator[Item]:
        fields = self._parser.fields
        for number, raw in self._lines:
            try:
                row = fields(raw.decode(_ENCODING))
            except UnicodeDecodeError:
                yield Malformed(number, "not valid UTF-8", raw)
                continue
            except csv.Error as error:
                yield Malformed(number, f"not valid CSV: {error}", raw)
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            yield self._item(number, row, raw)

    def _item(self, line: int, row: list[str], raw: bytes) -> Item:
        if len(row) != len(self.header):
            return Malformed(line, f"expected {len(self.header)} columns, got {len(row)}", raw)
        values = dict(zip(self.header, row, strict=True))
        event: dict[str, Any] = {key: values[key] for key in REQUIRED_COLUMNS[1:]}
        state: dict[str, Any] = {}
        rank = values.get("rank", "").strip()
        if rank:
            try:
                state["rank"] = int(rank)
            except ValueError:
                return Malformed(line, f"rank {rank!r} is not an integer", raw)
        for key in ("placementId", "slotId"):
            if values.get(key):
                state[key] = values[key]
        if state:
            event["state"] = state
        return Record(line, values["userId"], event)


class CsvWriter:
    def __init__(self, stream: IO[bytes], header: list[str], *, with_header: bool = True) -> None:
        self._stream = stream
        self._text = io.StringIO()
        self._writer = csv.writer(self._text)
        self._header = header
        if with_header:
            self._row(header)

    def _row(self, fields: list[str]) -> None:
        self._writer.writerow(fields)
        self._stream.write(self._text.getvalue().encode(_ENCODING, _ERRORS))
        self._text.seek(0)
        self._text.truncate()

    def write_malformed(self, item: Malformed) -> None:
        self._stream.write(item.raw + b"\r\n")  # csv.writer's line break

    def write_given(self, user_id: object, event: Mapping[str, Any]) -> None:
        state = event.get("state")
        fields = {**event, **(state if isinstance(state, Mapping) else {})}
        fields["userId"] = user_id
        self._write(fields)

    def write_event(self, user_id: str, event: AttributionEvent) -> None:
        fields = {"userId": user_id, "type": event.TYPE, **msgspec.to_builtins(event)}
        fields.update(fields.pop("state", None) or {})
        self._write(fields)

    def _write(self, fields: Mapping[str, Any]) -> None:
        self._row(
            ["" if fields.get(column) is None else str(fields[column]) for column in self._header]
        )

    def flush(self) -> None:
        self._stream.flush()


def open_reader(fmt: Format, lines: Iterable[bytes]) -> JsonlReader | CsvReader:
    return CsvReader(lines) if fmt == "csv" else JsonlReader(lines)


def open_writer(
    reader: JsonlReader | CsvReader, stream: IO[bytes], with_header: bool = True
) -> JsonlWriter | CsvWriter:
    """A writer of the reader's format (and, for CSV, its header unless told otherwise)."""
    if isinstance(reader, CsvReader):
        return CsvWriter(stream, reader.header, with_header=with_header)
    return JsonlWriter(stream)
