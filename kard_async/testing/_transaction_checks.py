"""The full check of one transaction item (API reference §7.1), field by field.

``validate_transaction`` names every problem of an item of ``data[]`` with its JSON:API
pointer. It is the one definition of a valid transaction in the emulator: the
``POST .../transactions`` handler uses it (when its fast path, ``_transaction_wire``, does
not accept a body) and so does the line checker of daily files (``_transaction_lines``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import msgspec

from ._constants import (
    CARD_NETWORKS,
    DIRECTIONS,
    PAYMENT_TYPES,
    PROCESSORS,
    STATES,
    TRANSACTION_DATES,
    TRANSACTION_STATUSES,
)
from ._jsonapi import error_object

Errors = list[dict[str, Any]]
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]


def validate_transaction(index: int, item: Any, errors: Errors) -> None:
    check = Checker(index, item, errors)
    if not isinstance(item, dict):
        check.fail("", f"data[{index}] must be an object")
        return
    kind = item.get("type")
    if kind not in ("transaction", "coreTransaction"):
        check.fail("/type", f"type {kind!r} is not allowed; allowed: transaction, coreTransaction")
        return
    check.text("/id", item.get("id"))
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        check.fail("/attributes", "attributes is required and must be an object")
        return
    check.attributes = attributes
    for name in ("userId", "transactionId", "description"):
        check.text(f"/attributes/{name}", attributes.get(name))
    check.cents("amount", required=True)
    currency = attributes.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii()) or not (
        currency.isalpha()
    ):
        check.fail("/attributes/currency", f"currency {currency!r} is not a 3-letter ISO 4217 code")
    check.choice("direction", DIRECTIONS, required=True)
    if kind == "coreTransaction":
        if attributes.get("status") != "SETTLED":
            check.fail(
                "/attributes/status",
                f"status {attributes.get('status')!r} is not allowed; a coreTransaction is SETTLED",
            )
        for name in ("settledDate", "authorizationDate"):
            check.date(name, required=True)
        for name in ("financialInstitutionId", "financialInstitutionName"):
            check.optional_text(name)
        fours = attributes.get("cardLastFours")
        if fours is not None:
            if not isinstance(fours, list):
                check.fail("/attributes/cardLastFours", "cardLastFours must be an array")
            else:
                for n, four in enumerate(fours):
                    check.digits(f"/attributes/cardLastFours/{n}", four, 4, f"cardLastFours[{n}]")
        return
    status = attributes.get("status")
    required_date = TRANSACTION_DATES.get(status) if isinstance(status, str) else None
    check.choice("status", TRANSACTION_STATUSES, required=True)
    check.choice("paymentType", PAYMENT_TYPES, required=True)
    check.digits("/attributes/cardBIN", attributes.get("cardBIN"), 6)
    check.digits("/attributes/cardLastFour", attributes.get("cardLastFour"), 4)
    for name in ("authorizationDate", "settledDate", "transactionDate"):
        check.date(name, required=required_date == name)
    check.cents("subtotal", required=False)
    for name in _OPTIONAL_TEXT:
        check.optional_text(name)
    check.choice("cardNetwork", CARD_NETWORKS, required=False)
    merchant = attributes.get("merchant")
    if merchant is not None:
        _validate_merchant(check, merchant)
    mids = attributes.get("processorMids")
    if mids is not None:
        _validate_mids(check, mids)


_OPTIONAL_TEXT = (
    "description2",
    "mcc",
    "coreProviderId",
    "cardPresence",
    "panEntryMode",
    "authorizationCode",
    "retrievalReferenceNumber",
    "systemTraceAuditNumber",
    "acquirerReferenceNumber",
    "cardProductId",
    "userZipCode",
    "accountId",
)


def _validate_merchant(check: Checker, merchant: Any) -> None:
    where = "/attributes/merchant"
    if not isinstance(merchant, dict):
        check.fail(where, "merchant must be an object")
        return
    check.text(f"{where}/name", merchant.get("name"))
    for name in ("id", "addrStreet", "addrCity", "addrZipcode", "addrCountry", "storeId"):
        value = merchant.get(name)
        if value is not None and not isinstance(value, str):
            check.fail(f"{where}/{name}", f"merchant.{name} must be a string, got {value!r}")
    state = merchant.get("addrState")
    if state is not None and state not in STATES:
        check.fail(f"{where}/addrState", f"merchant.addrState {state!r} is not a US state code")
    for name, limit in (("latitude", 90.0), ("longitude", 180.0)):
        value = merchant.get(name)
        if value is not None and not _coordinate(value, limit):
            check.fail(
                f"{where}/{name}",
                f"merchant.{name} must be a decimal string within ±{limit:g}, got {value!r}",
            )


def _coordinate(value: object, limit: float) -> bool:
    if not isinstance(value, str):
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and -limit <= number <= limit


def _validate_mids(check: Checker, mids: Any) -> None:
    where = "/attributes/processorMids"
    if not isinstance(mids, dict):
        check.fail(where, "processorMids must be an object")
        return
    processor = mids.get("processor")
    if processor not in PROCESSORS:
        check.fail(f"{where}/processor", f"processor {processor!r} is not allowed; allowed: VISA")
        return
    inner = mids.get("mids")
    if not isinstance(inner, dict):
        check.fail(f"{where}/mids", "processorMids.mids must be an object with vmid and vsid")
        return
    for name in ("vmid", "vsid"):
        check.text(f"{where}/mids/{name}", inner.get(name))


class Checker:
    """Collects the errors of one item of ``data``, each with its pointer and the item id."""

    __slots__ = ("attributes", "errors", "id", "index")

    def __init__(self, index: int, item: Any, errors: Errors) -> None:
        self.index = index
        self.errors = errors
        raw_id = item.get("id") if isinstance(item, dict) else None
        self.id = raw_id if isinstance(raw_id, str) else None
        self.attributes: dict[str, Any] = {}

    def fail(self, where: str, detail: str) -> None:
        self.errors.append(item_error(400, self.index, self.id, detail, where))

    def text(self, where: str, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            name = where.rsplit("/", 1)[-1]
            self.fail(where, f"{name} is required and must be a non-empty string, got {value!r}")

    def optional_text(self, name: str) -> None:
        value = self.attributes.get(name)
        if value is not None and not isinstance(value, str):
            self.fail(f"/attributes/{name}", f"{name} must be a string, got {value!r}")

    def digits(self, where: str, value: object, count: int, name: str = "") -> None:
        if not (isinstance(value, str) and len(value) == count and value.isascii()) or not (
            value.isdigit()
        ):
            name = name or where.rsplit("/", 1)[-1]
            self.fail(where, f"{name} must be a string of {count} digits, got {value!r}")

    def cents(self, name: str, *, required: bool) -> None:
        value = self.attributes.get(name)
        if value is None and not required:
            return
        if type(value) is not int or value < 0:
            self.fail(
                f"/attributes/{name}",
                f"{name} must be a non-negative integer number of cents, got {value!r}",
            )

    def choice(self, name: str, allowed: tuple[str, ...], *, required: bool) -> None:
        value = self.attributes.get(name)
        if value is None and not required:
            return
        if value not in allowed:
            self.fail(
                f"/attributes/{name}",
                f"{name} {value!r} is not allowed; allowed values: {', '.join(allowed)}",
            )

    def date(self, name: str, *, required: bool) -> None:
        value = self.attributes.get(name)
        if value is None:
            if required:
                status = self.attributes.get("status")
                self.fail(f"/attributes/{name}", f"{name} is required for status {status}")
            return
        if parse_date(value) is None:
            self.fail(
                f"/attributes/{name}",
                f"{name} {value!r} is not an ISO-8601 date-time with a timezone "
                "(e.g. 2025-01-01T00:00:00Z)",
            )


def parse_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return msgspec.convert(value, _AWARE)
    except msgspec.ValidationError:
        return None


def item_error(
    status: int, index: int, item_id: str | None, detail: str, where: str
) -> dict[str, Any]:
    error = error_object(status, detail, pointer=f"/data/{index}{where}")
    if item_id is not None:
        error["id"] = item_id
    return error
