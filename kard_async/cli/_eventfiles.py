"""Attribution event files: JSON lines and CSV, read as a stream and written back.

Reading yields one item per record, in order: a :class:`Record` (the user id and the event
mapping, given to ``bulk_create`` as is, so the library's validation judges it) or a
:class:`Malformed` line that could not even be read as a record (bad JSON, wrong number of
CSV columns, a rank that is not a number). Writing produces a file in the same format that
the same command accepts, for sending events again.

JSONL: one object per line in the API's own camelCase names, with the user's id::

    {"userId": "u1", "type": "offerAttribution", "entityId": "...", "eventCode": "VIEW",
     "medium": "SEARCH", "eventDate": "2025-01-01T00:00:00Z"}

or nested as ``{"userId": ..., "type": ..., "attributes": {...}}``. CSV: a header with
``userId,type,entityId,eventCode,medium,eventDate`` and optionally ``rank,placementId,slotId``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
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


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    user_id: object
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    line: int
    reason: str
    raw: bytes | list[str]
    """The JSONL line as read (without its newline), or the CSV row's fields."""


Item = Record | Malformed


def detect_format(path: str, given: str | None) -> Format:
    if given is not None:
        return "csv" if given == "csv" else "jsonl"
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of {path!r} from its extension; pass --format jsonl or csv"
        )
    return EXTENSIONS[suffix]


def default_failed_path(path: str, fmt: Format) -> Path:
    """``events.jsonl`` -> ``events.failed.jsonl``; standard input -> ``./failed.jsonl``."""
    if path == "-":
        return Path(f"failed.{fmt}")
    source = Path(path)
    return source.with_name(f"{source.stem}.failed{source.suffix or '.' + fmt}")


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


# --------------------------------------------------------------------------- JSONL


class JsonlReader:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.header_lines = 0

    def __iter__(self) -> Iterator[Item]:
        for number, raw in enumerate(self._stream, 1):
            text = raw.rstrip(b"\r\n")
            if number == 1 and text.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
                text = text[3:]
            if not text.strip():
                continue
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
        if isinstance(item.raw, bytes):
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


class CsvReader:
    """Reads the header at once (a missing column is a :class:`UsageError`), rows lazily."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors=_ERRORS, newline="")
        self._rows = csv.reader(self._text)
        self.header_lines = 1
        try:
            header = next(self._rows)
        except StopIteration:
            header = []
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
        end = self._rows.line_num
        while True:
            start = end + 1
            try:
                row = next(self._rows)
            except StopIteration:
                return
            except csv.Error as error:
                end = self._rows.line_num
                yield Malformed(start, f"not valid CSV ({error})", [])
                continue
            end = self._rows.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            yield self._item(start, row)

    def _item(self, line: int, row: list[str]) -> Item:
        if len(row) != len(self.header):
            return Malformed(line, f"expected {len(self.header)} columns, got {len(row)}", row)
        if any("\udc80" <= char <= "\udcff" for field in row for char in field):
            return Malformed(line, "not valid UTF-8", row)
        values = dict(zip(self.header, row, strict=True))
        event: dict[str, Any] = {key: values[key] for key in REQUIRED_COLUMNS[1:]}
        state: dict[str, Any] = {}
        rank = values.get("rank", "").strip()
        if rank:
            try:
                state["rank"] = int(rank)
            except ValueError:
                return Malformed(line, f"rank {rank!r} is not an integer", row)
        for key in ("placementId", "slotId"):
            if values.get(key):
                state[key] = values[key]
        if state:
            event["state"] = state
        return Record(line, values["userId"], event)


class CsvWriter:
    def __init__(self, stream: IO[bytes], header: list[str]) -> None:
        self._text = io.TextIOWrapper(stream, encoding=_ENCODING, errors=_ERRORS, newline="")
        self._writer = csv.writer(self._text)
        self._header = header
        self._writer.writerow(header)

    def write_malformed(self, item: Malformed) -> None:
        if isinstance(item.raw, list):
            self._writer.writerow(item.raw)

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
        self._writer.writerow(
            ["" if fields.get(column) is None else str(fields[column]) for column in self._header]
        )

    def flush(self) -> None:
        self._text.flush()
        self._text.detach()


def open_reader(fmt: Format, stream: IO[bytes]) -> JsonlReader | CsvReader:
    return CsvReader(stream) if fmt == "csv" else JsonlReader(stream)


def open_writer(reader: JsonlReader | CsvReader, stream: IO[bytes]) -> JsonlWriter | CsvWriter:
    """A writer of the reader's format (and, for CSV, its header)."""
    if isinstance(reader, CsvReader):
        return CsvWriter(stream, reader.header)
    return JsonlWriter(stream)
