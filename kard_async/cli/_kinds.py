"""What an upload's lines hold, per command: how a JSONL object or a CSV row becomes the
item a bulk helper takes, and how an item is written back to ``--failed-out``.

A line becomes ``(key, item)``: the key names the line's record in the file (an
attribution's user id, a user's or a transaction's own id) and the item is a mapping in the
API's own camelCase names, given to the library as read so that its validation judges it. An item
the library built (a model) is written back through ``to_json``; a CSV row through
``to_csv``. A ``str`` instead of ``(key, item)`` says why the line is malformed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..models import CoreTransaction, Merchant, ProcessorMids, Transaction, VisaMids

Parsed = tuple[object, dict[str, Any]] | str


@dataclass(frozen=True)
class RecordKind:
    noun: str
    """What one line holds, plural: ``events``, ``users``."""
    key: str
    """The JSON key or CSV column naming a line's record (``userId``, ``id``); standard
    input whose first line is a CSV header with it is read as CSV."""
    columns: tuple[str, ...]
    """Required CSV columns."""
    optional_columns: tuple[str, ...]
    from_json: Callable[[dict[str, Any]], Parsed]
    from_csv: Callable[[dict[str, str]], Parsed]
    to_json: Callable[[str, Any], dict[str, Any]]
    """``(key, built item)`` -> the JSONL object of the item."""
    to_csv: Callable[[object, Mapping[str, Any]], Mapping[str, Any]]
    """``(key, JSONL object)`` -> the CSV row's values by column."""
    wire_names: Mapping[str, str] = field(default_factory=dict)
    """Library parameter names the API spells other than in camelCase (``card_bin``:
    ``cardBIN``), for naming a field in a reason as the file does."""


# --------------------------------------------------------------------------- attributions

_STATE_COLUMNS = ("rank", "placementId", "slotId")
_STATE_KEYS = (*_STATE_COLUMNS, "filters")  # flat JSONL lines may carry them at the top


def _attribution_json(obj: dict[str, Any]) -> Parsed:
    if "userId" not in obj:
        return 'no "userId"'
    if "attributes" not in obj and "state" not in obj and any(k in obj for k in _STATE_KEYS):
        state = {key: obj[key] for key in _STATE_KEYS if key in obj}
        obj = {key: value for key, value in obj.items() if key not in _STATE_KEYS}
        obj["state"] = state
    return obj["userId"], obj


def _attribution_csv(values: dict[str, str]) -> Parsed:
    event: dict[str, Any] = {key: values[key] for key in ATTRIBUTIONS.columns[1:]}
    state: dict[str, Any] = {}
    rank = values.get("rank", "").strip()
    if rank:
        try:
            state["rank"] = int(rank)
        except ValueError:
            return f"rank {rank!r} is not an integer"
    for key in ("placementId", "slotId"):
        if values.get(key):
            state[key] = values[key]
    if state:
        event["state"] = state
    return values["userId"], event


def _attribution_to_json(user_id: str, event: Any) -> dict[str, Any]:
    return {"userId": user_id, "type": event.TYPE, **msgspec.to_builtins(event)}


def _attribution_to_csv(user_id: object, event: Mapping[str, Any]) -> Mapping[str, Any]:
    state = event.get("state")
    fields = {**event, **(state if isinstance(state, Mapping) else {})}
    fields["userId"] = user_id
    return fields


ATTRIBUTIONS = RecordKind(
    noun="events",
    key="userId",
    columns=("userId", "type", "entityId", "eventCode", "medium", "eventDate"),
    optional_columns=_STATE_COLUMNS,
    from_json=_attribution_json,
    from_csv=_attribution_csv,
    to_json=_attribution_to_json,
    to_csv=_attribution_to_csv,
)


# --------------------------------------------------------------------------- users

# In a CSV cell, a list is separated by ";" and a phone number or postal code may name its
# type after a ":": "+14155552671:MOBILE;+12125550188".
_LIST = ";"
_TYPED = ":"
_USER_LISTS = {"phoneNumbers": "number", "postalCodes": "code"}
_BOOLEANS = {"true": True, "false": False}


def _user_json(obj: dict[str, Any]) -> Parsed:
    return obj.get("id"), obj


def _user_csv(values: dict[str, str]) -> Parsed:
    user: dict[str, Any] = {"id": values["id"]}
    rewards = values["enrolledRewards"].strip()
    user["enrolledRewards"] = [r.strip() for r in rewards.split(_LIST)] if rewards else []
    for column in USERS.optional_columns:
        cell = values.get(column, "").strip()
        if not cell:
            continue
        if column == "historicalTransactionsSent":
            if cell.lower() not in _BOOLEANS:
                return f"historicalTransactionsSent {cell!r} is not true or false"
            user[column] = _BOOLEANS[cell.lower()]
        elif column in _USER_LISTS:
            user[column] = [_typed(_USER_LISTS[column], part) for part in cell.split(_LIST)]
        else:
            user[column] = cell
    return values["id"], user


def _typed(name: str, part: str) -> dict[str, str]:
    value, _, kind = part.strip().partition(_TYPED)
    return {name: value.strip(), "type": kind.strip()} if kind.strip() else {name: value.strip()}


def _user_to_json(_: str, user: Any) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(user)
    return built


def _user_to_csv(_: object, user: Mapping[str, Any]) -> Mapping[str, Any]:
    attributes = user.get("attributes")
    flat = {**user, **attributes} if isinstance(attributes, Mapping) else dict(user)
    row: dict[str, Any] = {}
    for column, value in flat.items():
        if isinstance(value, bool):
            row[column] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            row[column] = _LIST.join(_cell(item) for item in value)
        else:
            row[column] = value
    return row


def _cell(item: object) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    value = item.get("number", item.get("code", ""))
    return f"{value}{_TYPED}{item['type']}" if item.get("type") else str(value)


USERS = RecordKind(
    noun="users",
    key="id",
    columns=("id", "enrolledRewards"),
    optional_columns=(
        "zipCode",
        "email",
        "hashedEmail",
        "phoneNumber",
        "birthYear",
        "historicalTransactionsSent",
        "phoneNumbers",
        "postalCodes",
    ),
    from_json=_user_json,
    from_csv=_user_csv,
    to_json=_user_to_json,
    to_csv=_user_to_csv,
)


# --------------------------------------------------------------------------- transactions

# A transaction's line is its JSON:API item (``Transaction.to_json()``) or the flat form,
# the attributes beside ``id``. In CSV, nested attributes are dotted columns
# (``merchant.name``, ``processorMids.mids.vmid``), ``amount`` and ``subtotal`` integer
# cents, ``cardLastFours`` separated by ";"; an empty cell is left out.
_TRANSACTION_COLUMNS = (
    "id",
    "userId",
    "transactionId",
    "status",
    "amount",
    "currency",
    "description",
    "direction",
)
_CENTS = frozenset(("amount", "subtotal"))
_NESTED: dict[str, type[msgspec.Struct]] = {
    "merchant": Merchant,
    "processorMids": ProcessorMids,
    "processorMids.mids": VisaMids,
}


def _wire_fields(cls: type[msgspec.Struct], prefix: str = "") -> Iterator[str]:
    for info in msgspec.structs.fields(cls):
        name = prefix + info.encode_name
        if name not in _NESTED:
            yield name


def _transaction_columns() -> tuple[str, ...]:
    columns = dict.fromkeys(("type", *_wire_fields(Transaction), *_wire_fields(CoreTransaction)))
    for parent, cls in _NESTED.items():
        columns.update(dict.fromkeys(_wire_fields(cls, parent + ".")))
    return tuple(column for column in columns if column not in _TRANSACTION_COLUMNS)


def _transaction_json(obj: dict[str, Any]) -> Parsed:
    return obj.get("id"), obj


def _transaction_csv(values: dict[str, str]) -> Parsed:
    transaction: dict[str, Any] = {}
    for column in (*TRANSACTIONS.columns, *TRANSACTIONS.optional_columns):
        cell = values.get(column, "")
        if not cell:
            continue
        value: Any = cell
        if column in _CENTS:
            try:
                value = int(cell)
            except ValueError:
                return f"{column} {cell!r} is not an integer (cents)"
        elif column == "cardLastFours":
            value = cell.split(_LIST)
        *parents, name = column.split(".")
        target = transaction
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = value
    return values["id"], transaction


def _transaction_to_json(_: str, transaction: Any) -> dict[str, Any]:
    wire: dict[str, Any] = transaction.to_wire()
    return wire


def _transaction_to_csv(_: object, transaction: Mapping[str, Any]) -> Mapping[str, Any]:
    attributes = transaction.get("attributes")
    if isinstance(attributes, Mapping):
        top = {key: value for key, value in transaction.items() if key != "attributes"}
        transaction = {**top, **attributes}
    return {
        column: _LIST.join(map(str, value)) if isinstance(value, (list, tuple)) else value
        for column, value in _dotted(transaction)
    }


def _dotted(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        if isinstance(value, Mapping):
            yield from _dotted(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


TRANSACTIONS = RecordKind(
    noun="transactions",
    key="id",
    columns=_TRANSACTION_COLUMNS,
    optional_columns=_transaction_columns(),
    from_json=_transaction_json,
    from_csv=_transaction_csv,
    to_json=_transaction_to_json,
    to_csv=_transaction_to_csv,
    wire_names={info.name: info.encode_name for info in msgspec.structs.fields(Transaction)},
)
