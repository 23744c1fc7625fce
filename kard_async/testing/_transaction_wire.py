"""The emulator's fast path for ``POST .../transactions`` (and for each line of a daily
file): one typed msgspec decode, then a few set lookups per item. It only ever accepts;
when anything is off, the body (or line) is validated again field by field
(``_transaction_checks``), to name every problem with a pointer.

The schema mirrors §7.1 on its own (the emulator never uses the client's models). Enum
values are checked after decoding, against the same constants as the slow path.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Union

import msgspec

from ._constants import (
    CARD_NETWORKS,
    DIRECTIONS,
    MAX_TRANSACTIONS,
    PAYMENT_TYPES,
    PROCESSORS,
    STATES,
    TRANSACTION_STATUSES,
)

# Lengths here; what the characters must be is checked after decoding (a regular
# expression per field would cost more than all the rest).
_Text = Annotated[str, msgspec.Meta(min_length=1)]
_Cents = Annotated[int, msgspec.Meta(ge=0)]
_Currency = Annotated[str, msgspec.Meta(min_length=3, max_length=3)]
_Bin = Annotated[str, msgspec.Meta(min_length=6, max_length=6)]
_Four = Annotated[str, msgspec.Meta(min_length=4, max_length=4)]
_When = Annotated[datetime, msgspec.Meta(tz=True)]


class _S(msgspec.Struct, rename="camel", gc=False):
    pass


class _Merchant(_S):
    name: _Text
    id: str | None = None
    addr_street: str | None = None
    addr_city: str | None = None
    addr_state: str | None = None
    addr_zipcode: str | None = None
    addr_country: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    store_id: str | None = None


class _Mids(_S):
    vmid: _Text
    vsid: _Text


class _ProcessorMids(_S):
    processor: str
    mids: _Mids


class _Attributes(_S):
    user_id: _Text
    transaction_id: _Text
    amount: _Cents
    currency: _Currency
    description: _Text
    direction: str
    status: str
    authorization_date: _When | None = None
    settled_date: _When | None = None


class TransactionAttributes(_Attributes, kw_only=True):
    payment_type: str
    card_bin: _Bin = msgspec.field(name="cardBIN")
    card_last_four: _Four
    transaction_date: _When | None = None
    subtotal: _Cents | None = None
    description2: str | None = None
    mcc: str | None = None
    merchant: _Merchant | None = None
    card_network: str | None = None
    processor_mids: _ProcessorMids | None = None
    core_provider_id: str | None = None
    card_presence: str | None = None
    pan_entry_mode: str | None = None
    authorization_code: str | None = None
    retrieval_reference_number: str | None = None
    system_trace_audit_number: str | None = None
    acquirer_reference_number: str | None = None
    card_product_id: str | None = None
    user_zip_code: str | None = None
    account_id: str | None = None


class CoreAttributes(_Attributes, kw_only=True):
    financial_institution_id: str | None = None
    financial_institution_name: str | None = None
    card_last_fours: list[_Four] | None = None


class WireTransaction(_S, tag_field="type", tag="transaction"):
    id: _Text
    attributes: TransactionAttributes


class WireCoreTransaction(_S, tag_field="type", tag="coreTransaction"):
    id: _Text
    attributes: CoreAttributes


class _Body(_S):
    data: Annotated[
        list[Union[WireTransaction, WireCoreTransaction]],  # noqa: UP007
        msgspec.Meta(min_length=1, max_length=MAX_TRANSACTIONS),
    ]


_DECODE = msgspec.json.Decoder(_Body).decode
_DECODE_ITEM = msgspec.json.Decoder(
    Union[WireTransaction, WireCoreTransaction]  # noqa: UP007
).decode
_STATUSES = frozenset(TRANSACTION_STATUSES)
_DIRECTIONS = frozenset(DIRECTIONS)
_PAYMENT_TYPES = frozenset(PAYMENT_TYPES)
_NETWORKS = frozenset(CARD_NETWORKS)
_PROCESSORS = frozenset(PROCESSORS)


def quick_decode(body: bytes) -> list[WireTransaction | WireCoreTransaction] | None:
    """The items of a body that is valid throughout, or None (then validate it slowly)."""
    try:
        items = _DECODE(body).data
    except msgspec.DecodeError:  # invalid JSON, a type, a missing field, a constraint
        return None
    if not all(map(_valid, items)):
        return None
    if len({item.id for item in items}) != len(items):  # an id repeated in the request
        return None
    return items


def quick_decode_item(line: bytes) -> WireTransaction | WireCoreTransaction | None:
    """One item (a line of a daily file) when it is valid, or None (then validate it
    slowly, to say why)."""
    try:
        item = _DECODE_ITEM(line)
    except msgspec.DecodeError:
        return None
    return item if _valid(item) else None


def _valid(item: WireTransaction | WireCoreTransaction) -> bool:
    """What the typed decode cannot say: enum values, digits, blank text, the status's date."""
    a = item.attributes
    if (
        a.direction not in _DIRECTIONS
        or item.id.isspace()
        or a.user_id.isspace()
        or a.transaction_id.isspace()
        or a.description.isspace()
        or not (a.currency.isascii() and a.currency.isalpha())
    ):
        return False
    if isinstance(a, TransactionAttributes):
        status = a.status
        if (
            status not in _STATUSES
            or a.payment_type not in _PAYMENT_TYPES
            or not _digits(a.card_bin)
            or not _digits(a.card_last_four)
        ):
            return False
        date = (
            a.authorization_date
            if status == "APPROVED"
            else a.settled_date
            if status == "SETTLED"
            else a.transaction_date
        )
        if date is None:
            return False
        if a.card_network is not None and a.card_network not in _NETWORKS:
            return False
        mids = a.processor_mids
        if mids is not None and (
            mids.processor not in _PROCESSORS
            or mids.mids.vmid.isspace()
            or mids.mids.vsid.isspace()
        ):
            return False
        merchant = a.merchant
        return merchant is None or _good_merchant(merchant)
    return not (
        a.status != "SETTLED"
        or a.authorization_date is None
        or a.settled_date is None
        or (a.card_last_fours is not None and not all(map(_digits, a.card_last_fours)))
    )


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _good_merchant(merchant: _Merchant) -> bool:
    if merchant.name.isspace():
        return False
    if merchant.addr_state is not None and merchant.addr_state not in STATES:
        return False
    for value, limit in ((merchant.latitude, 90.0), (merchant.longitude, 180.0)):
        if value is not None:
            try:
                number = float(value)
            except ValueError:
                return False
            if not (math.isfinite(number) and -limit <= number <= limit):
                return False
    return True
