"""The line writer: the one place that turns a transaction into a line of a daily file.

Kard's documentation does not show the line format of a daily transaction file. Assumed
here: one JSON object per line (JSONL, UTF-8, ``\\n`` terminated), each the wire form of one
item of ``data[]`` in ``POST /v2/issuers/{org}/transactions`` (API reference §7.1)::

    {"type": "transaction", "id": "...", "attributes": {"userId": "...", ...}}

If Kard documents another shape, this module is what changes.

An item is either a model with ``to_wire()`` (``Transaction``, ``CoreTransaction``) or a
mapping already in wire form. Structure is checked (an object with a non-empty string
``type`` and ``id`` and an ``attributes`` object); the attributes themselves are the
model's job, or the server's. A ``Transaction`` / ``CoreTransaction`` was checked when it
was built: its line is its ``to_json()``, the bytes ``POST .../transactions`` sends for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, Union

import msgspec

from .._errors import InvalidParameterError
from ..models.transactions import CoreTransaction, Transaction

__all__ = ["LineItem", "WireItem", "append_line", "encode_line"]


class WireItem(Protocol):
    """Anything that knows its own wire form (the transaction models)."""

    def to_wire(self) -> Mapping[str, Any]: ...


LineItem = Union[WireItem, Mapping[str, Any]]  # noqa: UP007
"""What a daily file is written from: a model with ``to_wire()``, or a wire mapping."""

_encoder = msgspec.json.Encoder()


def _wire(item: object, index: int) -> Mapping[str, Any]:
    to_wire = getattr(item, "to_wire", None)
    wire = to_wire() if to_wire is not None and not isinstance(item, Mapping) else item
    where = f"items[{index}]"
    if not isinstance(wire, Mapping):
        raise InvalidParameterError(
            where,
            item,
            "must be a transaction model (with to_wire()) or a mapping in the API's wire "
            'form: {"type": "transaction", "id": ..., "attributes": {...}}',
        )
    kind, item_id, attributes = wire.get("type"), wire.get("id"), wire.get("attributes")
    if not isinstance(kind, str) or not kind:
        raise InvalidParameterError(
            f"{where}.type", kind, "must be a non-empty string, e.g. 'transaction'"
        )
    if not isinstance(item_id, str) or not item_id.strip():
        raise InvalidParameterError(
            f"{where}.id", item_id, "must be a non-empty string, unique per transaction"
        )
    if not isinstance(attributes, Mapping):
        raise InvalidParameterError(f"{where}.attributes", attributes, "must be a mapping")
    return wire


def append_line(buffer: bytearray, item: object, index: int) -> None:
    """Append ``item``'s line (with its ``\\n``) to ``buffer``; ``index`` names it in errors."""
    if isinstance(item, (Transaction, CoreTransaction)):
        # One C-level encode, where to_wire() would decode that JSON to encode it again.
        buffer += item.to_json()
        buffer += b"\n"
        return
    wire = _wire(item, index)
    end = len(buffer)
    try:
        _encoder.encode_into(wire if type(wire) is dict else dict(wire), buffer, -1)
    except (msgspec.EncodeError, TypeError, OverflowError) as error:
        del buffer[end:]
        raise InvalidParameterError(
            f"items[{index}]", item, f"cannot be written as JSON: {error}"
        ) from None
    buffer += b"\n"


def encode_line(item: LineItem, index: int = 0) -> bytes:
    """One line of a daily file, ``\\n`` included."""
    buffer = bytearray()
    append_line(buffer, item, index)
    return bytes(buffer)
