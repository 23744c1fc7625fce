"""What the emulator accepts as one line of a daily transaction file.

Kard does not document the line format; the emulator assumes what the client writes: one
JSON object per line, each an item of ``data[]`` of ``POST /v2/issuers/{org}/transactions``
(API reference §7.1), ``{"type": "transaction"|"coreTransaction", "id", "attributes"}``,
with the attributes the reference marks as required.
"""

from __future__ import annotations

from typing import Any

import msgspec

_STATUSES = ("APPROVED", "SETTLED", "REVERSED", "RETURNED", "DECLINED")
_DIRECTIONS = ("DEBIT", "CREDIT")
_TEXT = {
    "transaction": (
        "userId",
        "transactionId",
        "currency",
        "description",
        "cardBIN",
        "cardLastFour",
    ),
    "coreTransaction": ("userId", "transactionId", "currency", "description"),
}
# The date a transaction status requires (§7.1).
_STATUS_DATE = {
    "APPROVED": "authorizationDate",
    "SETTLED": "settledDate",
    "REVERSED": "transactionDate",
    "RETURNED": "transactionDate",
    "DECLINED": "transactionDate",
}
_DATES = ("authorizationDate", "settledDate", "transactionDate")

_decode = msgspec.json.Decoder().decode


def check_line(line: bytes) -> tuple[str | None, str | None]:
    """``(transaction id, None)`` for a valid line, ``(None, reason)`` otherwise."""
    try:
        item = _decode(line)
    except msgspec.DecodeError as error:
        return None, f"not JSON: {error}"
    if not isinstance(item, dict):
        return None, "not a JSON object"
    reason = _check(item)
    return (item["id"], None) if reason is None else (None, reason)


def _check(item: dict[str, Any]) -> str | None:
    from .api.attributions import _valid_date_time  # here: the api package imports this one

    kind, item_id, attributes = item.get("type"), item.get("id"), item.get("attributes")
    if kind not in _TEXT:
        return f"type {kind!r} is not allowed; allowed values: transaction, coreTransaction"
    if not isinstance(item_id, str) or not item_id:
        return "id must be a non-empty string"
    if not isinstance(attributes, dict):
        return "attributes must be an object"
    for name in _TEXT[kind]:
        value = attributes.get(name)
        if not isinstance(value, str) or not value:
            return f"attributes.{name} is required and must be a non-empty string"
    amount = attributes.get("amount")
    if type(amount) is not int:
        return f"attributes.amount must be an integer (cents), got {amount!r}"
    if attributes.get("direction") not in _DIRECTIONS:
        return f"attributes.direction must be DEBIT or CREDIT, got {attributes.get('direction')!r}"
    for name in _DATES:
        value = attributes.get(name)
        if value is not None and not (isinstance(value, str) and _valid_date_time(value)):
            return f"attributes.{name} must be an ISO-8601 date-time with a timezone"
    status = attributes.get("status")
    if kind == "coreTransaction":
        if status != "SETTLED":
            return f"attributes.status of a coreTransaction must be SETTLED, got {status!r}"
        for name in ("settledDate", "authorizationDate"):
            if attributes.get(name) is None:
                return f"attributes.{name} is required"
        return None
    if status not in _STATUSES:
        return f"attributes.status {status!r} is not allowed; allowed values: " + ", ".join(
            _STATUSES
        )
    if attributes.get("paymentType") != "CARD":
        return f"attributes.paymentType must be CARD, got {attributes.get('paymentType')!r}"
    needed = _STATUS_DATE[status]
    if attributes.get(needed) is None:
        return f"attributes.{needed} is required when status is {status}"
    return None
