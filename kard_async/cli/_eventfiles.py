"""Upload files (attribution events, users, transactions): JSON lines and CSV, read as a
stream and written back. What a line holds is the :class:`~._kinds.RecordKind` of the
command.

Both formats are read one physical line at a time, so one broken line never hides the lines
after it (in CSV, a quoted field cannot span lines: an unclosed quote makes its own line
malformed, and the next line is read on its own). Reading yields one item per line, in
order: a :class:`Record` (the user id and the event mapping, given to ``bulk_create`` as is,
so the library's validation judges it) or a :class:`Malformed` line that could not even be
read as a record (bad JSON, an unclosed quote, wrong number of CSV columns, a rank that is
not a number). Writing produces a file in the same format that the same command accepts,
for sending events again; a malformed line is written back byte for byte.

Attribution events (the default kind), JSONL: one object per line in the API's own
camelCase names, with the user's id::

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

from ._kinds import ATTRIBUTIONS, RecordKind
from ._settings import UsageError

Format = Literal["jsonl", "csv"]
FORMATS: tuple[str, ...] = ("jsonl", "csv")
EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # undecodable bytes survive a round trip to the failed-out file
_BOM = b"\xef\xbb\xbf"
_SNIFF_LINES = 100  # blank lines skipped at most when telling the format of standard input


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    user_id: object
    """The line's key (``RecordKind.key``): an event's user id, a user's or a transaction's
    own id."""
    event: dict[str, Any]
    """The item, as read: an attribution event, a user, a transaction."""


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


def sniff_format(
    lines: Iterator[bytes], kind: RecordKind = ATTRIBUTIONS
) -> tuple[Format, Iterator[bytes]]:
    """The format of standard input, from its first non-blank line: a JSON object starts
    with ``{``, a CSV file with its header (naming ``kind.key``). Returns the format and all
    the lines, those read here included."""
    head: list[bytes] = []
    for line in itertools.islice(lines, _SNIFF_LINES):
        head.append(line)
        text = line.removeprefix(_BOM).strip() if len(head) == 1 else line.strip()
        if not text:
            continue
        if text.startswith(b"{"):
            return "jsonl", itertools.chain(head, lines)
        header = [column.strip() for column in _csv_fields(text.decode(_ENCODING, _ERRORS))]
        if kind.key in header:
            return "csv", itertools.chain(head, lines)
        shown = text[:60].decode(_ENCODING, "replace")
        raise UsageError(
            f"cannot tell the format of standard input: its first line ({shown!r}) is "
            f"neither a JSON object nor a CSV header with {kind.key}; pass --format jsonl or csv"
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
    def __init__(self, lines: Iterable[bytes], kind: RecordKind = ATTRIBUTIONS) -> None:
        self._lines = lines
        self._kind = kind
        self.header_lines = 0

    def __iter__(self) -> Iterator[Item]:
        for number, text in _lines(self._lines):
            if text.strip():
                yield _jsonl_item(number, text, self._kind)


def _jsonl_item(number: int, text: bytes, kind: RecordKind) -> Item:
    try:
        obj = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        return Malformed(number, f"not valid JSON ({error})", text)
    if not isinstance(obj, dict):
        return Malformed(number, f"expected a JSON object, got {type(obj).__name__}", text)
    parsed = kind.from_json(obj)
    if isinstance(parsed, str):
        return Malformed(number, parsed, text)
    return Record(number, *parsed)


class JsonlWriter:
    def __init__(self, stream: IO[bytes], kind: RecordKind = ATTRIBUTIONS) -> None:
        self._stream = stream
        self._kind = kind

    def write_malformed(self, item: Malformed) -> None:
        self._stream.write(item.raw + b"\n")

    def write_given(self, user_id: object, event: Mapping[str, Any]) -> None:
        """An item as it was read (it was refused by validation)."""
        self._stream.write(msgspec.json.encode(event) + b"\n")

    def write_event(self, user_id: str, event: object) -> None:
        """An item the library built (a model)."""
        self._stream.write(msgspec.json.encode(self._kind.to_json(user_id, event)) + b"\n")

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

    def __init__(self, lines: Iterable[bytes], kind: RecordKind = ATTRIBUTIONS) -> None:
        self._lines = _lines(lines)
        self._kind = kind
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
        missing = [column for column in kind.columns if column not in self.header]
        if missing:
            raise UsageError(
                f"the CSV header lacks {', '.join(missing)}; expected "
                f"{','.join(kind.columns)}[,{','.join(kind.optional_columns)}]"
                + (f", got {','.join(self.header)}" if self.header else " (the file is empty)")
            )
        known = set(kind.columns) | set(kind.optional_columns)
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
        parsed = self._kind.from_csv(dict(zip(self.header, row, strict=True)))
        if isinstance(parsed, str):
            return Malformed(line, parsed, raw)
        return Record(line, *parsed)


class CsvWriter:
    def __init__(
        self,
        stream: IO[bytes],
        header: list[str],
        *,
        with_header: bool = True,
        kind: RecordKind = ATTRIBUTIONS,
    ) -> None:
        self._stream = stream
        self._kind = kind
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
        self._write(self._kind.to_csv(user_id, event))

    def write_event(self, user_id: str, event: object) -> None:
        self._write(self._kind.to_csv(user_id, self._kind.to_json(user_id, event)))

    def _write(self, fields: Mapping[str, Any]) -> None:
        self._row(
            ["" if fields.get(column) is None else str(fields[column]) for column in self._header]
        )

    def flush(self) -> None:
        self._stream.flush()


def open_reader(
    fmt: Format, lines: Iterable[bytes], kind: RecordKind = ATTRIBUTIONS
) -> JsonlReader | CsvReader:
    return CsvReader(lines, kind) if fmt == "csv" else JsonlReader(lines, kind)


def open_writer(
    reader: JsonlReader | CsvReader, stream: IO[bytes], with_header: bool = True
) -> JsonlWriter | CsvWriter:
    """A writer of the reader's format and kind (and, for CSV, its header unless told
    otherwise)."""
    if isinstance(reader, CsvReader):
        return CsvWriter(stream, reader.header, with_header=with_header, kind=reader._kind)
    return JsonlWriter(stream, reader._kind)
