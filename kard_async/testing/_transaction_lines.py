"""What the emulator accepts as one line of a daily transaction file.

Kard does not document the line format; the emulator assumes what the client writes: one
JSON object per line, each an item of ``data[]`` of ``POST /v2/issuers/{org}/transactions``
(API reference §7.1). A line is valid exactly when that handler would accept the item: the
same fast path (``_transaction_wire``) and the same full check (``_transaction_checks``).
"""

from __future__ import annotations

import msgspec

from ._transaction_checks import Errors, validate_transaction
from ._transaction_wire import quick_decode_item

_decode = msgspec.json.Decoder().decode


def check_line(line: bytes) -> tuple[str | None, str | None]:
    """``(transaction id, None)`` for a valid line, ``(None, reason)`` otherwise."""
    item = quick_decode_item(line)
    if item is not None:
        return item.id, None
    try:
        raw = _decode(line)
    except msgspec.DecodeError as error:
        return None, f"not JSON: {error}"
    if not isinstance(raw, dict):
        return None, "not a JSON object"
    errors: Errors = []
    validate_transaction(0, raw, errors)
    if errors:
        return None, "; ".join(error["detail"] for error in errors)
    return raw["id"], None  # the full check accepts what the fast path does (a test says so)
