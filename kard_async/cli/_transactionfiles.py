"""Transaction files: JSON lines and CSV, read as a stream and written back (see
``_eventfiles`` for the line-by-line reading both formats share).

JSONL: one transaction per line, in the API's own form (what ``Transaction.to_json()``
writes)::

    {"type": "transaction", "id": "evt-1", "attributes": {"userId": "u1", ...}}

or flat, the attributes at the top level beside ``id`` (``type`` defaults to
``transaction``). CSV: a header with the API's attribute names, nested ones dotted
(``merchant.name``, ``processorMids.mids.vmid``), ``id`` and optionally ``type``; at least
``id,userId,transactionId,status,amount,currency,description,direction``. Empty cells are
left out, ``amount`` and ``subtotal`` are integers (cents), ``cardLastFours`` is a list
separated by ``;``.

Each line becomes a :class:`~._eventfiles.Record` whose ``event`` is the transaction's
mapping (its ``user_id`` is unused), handed to ``bulk_create`` as is, so the library's
validation judges it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import msgspec

from ..models import CoreTransaction, Merchant, ProcessorMids, Transaction, VisaMids
from ._eventfiles import _ENCODING, _ERRORS, Format, Item, Malformed, Record, _CsvLines, _lines
from ._settings import UsageError

REQUIRED_COLUMNS = (
    "id",
    "userId",
    "transactionId",
    "status",
    "amount",
    "currency",
    "description",
    "direction",
)
INTEGER_COLUMNS = frozenset(("amount", "subtotal"))
LIST_COLUMNS = frozenset(("cardLastFours",))
_LIST_SEPARATOR = ";"


def _names(cls: type[msgspec.Struct], prefix: str = "") -> set[str]:
    return {prefix + field.encode_name for field in msgspec.structs.fields(cls)}


# Every column a transaction can fill (others would be ignored: warned about).
KNOWN_COLUMNS = frozenset(
    {"type"}
    | _names(Transaction) - {"merchant", "processorMids"}
    | _names(CoreTransaction)
    | _names(Merchant, "merchant.")
    | _names(ProcessorMids, "processorMids.") - {"processorMids.mids"}
    | _names(VisaMids, "processorMids.mids.")
)


class TransactionJsonlReader:
    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.header_lines = 0
        self.unknown_columns: list[str] = []

    def __iter__(self) -> Iterator[Item]:
        for number, text in _lines(self._lines):
            if not text.strip():
                continue
            try:
                obj = msgspec.json.decode(text)
            except msgspec.DecodeError as error:
                yield Malformed(number, f"not valid JSON ({error})", text)
                continue
            if not isinstance(obj, dict):
                yield Malformed(number, f"expected a JSON object, got {type(obj).__name__}", text)
                continue
            yield Record(number, None, obj)


class TransactionJsonlWriter:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def write_malformed(self, item: Malformed) -> None:
        self._stream.write(item.raw + b"\n")

    def write_given(self, key: object, given: Mapping[str, Any]) -> None:
        """A transaction as it was read (it was refused by validation)."""
        self._stream.write(msgspec.json.encode(given) + b"\n")

    def write_event(self, key: object, transaction: Transaction | CoreTransaction) -> None:
        self._stream.write(transaction.to_json() + b"\n")

    def flush(self) -> None:
        self._stream.flush()


class TransactionCsvReader:
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
                f"the CSV header lacks {', '.join(missing)}; expected at least "
                f"{','.join(REQUIRED_COLUMNS)} (and the other attributes by their API names, "
                "nested ones dotted: merchant.name)"
                + (f", got {','.join(self.header)}" if self.header else " (the file is empty)")
            )
        self.unknown_columns = [column for column in self.header if column not in KNOWN_COLUMNS]

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
        item: dict[str, Any] = {}
        for column, text in zip(self.header, row, strict=True):
            if text == "":
                continue
            value: Any = text
            if column in INTEGER_COLUMNS:
                try:
                    value = int(text)
                except ValueError:
                    return Malformed(line, f"{column} {text!r} is not an integer (cents)", raw)
            elif column in LIST_COLUMNS:
                value = text.split(_LIST_SEPARATOR)
            _put(item, column, value)
        return Record(line, None, item)


def _put(item: dict[str, Any], column: str, value: Any) -> None:
    """``merchant.name`` -> ``item["merchant"]["name"]``."""
    *parents, name = column.split(".")
    for parent in parents:
        child = item.setdefault(parent, {})
        if not isinstance(child, dict):  # "merchant" and "merchant.name" both given
            return
        item = child
    item[name] = value


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


class TransactionCsvWriter:
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

    def write_given(self, key: object, given: Mapping[str, Any]) -> None:
        self._write(dict(_flatten(given)))

    def write_event(self, key: object, transaction: Transaction | CoreTransaction) -> None:
        wire = transaction.to_wire()
        self._write({"type": wire["type"], "id": wire["id"], **dict(_flatten(wire["attributes"]))})

    def _write(self, fields: Mapping[str, Any]) -> None:
        self._row([_cell(fields.get(column)) for column in self._header])

    def flush(self) -> None:
        self._stream.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return _LIST_SEPARATOR.join(str(part) for part in value)
    return str(value)


def open_transaction_reader(
    fmt: Format, lines: Iterable[bytes]
) -> TransactionJsonlReader | TransactionCsvReader:
    return TransactionCsvReader(lines) if fmt == "csv" else TransactionJsonlReader(lines)


def open_transaction_writer(
    reader: object, stream: IO[bytes], with_header: bool = True
) -> TransactionJsonlWriter | TransactionCsvWriter:
    """A writer of the reader's format (and, for CSV, its header unless told otherwise)."""
    if isinstance(reader, TransactionCsvReader):
        return TransactionCsvWriter(stream, reader.header, with_header=with_header)
    return TransactionJsonlWriter(stream)
