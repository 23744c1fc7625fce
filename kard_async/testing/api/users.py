"""Users (API reference §4, §16), WebView tokens (§6) and audits (§7.3).

Batch writes validate every item and answer like Kard: all accepted -> 201; some refused
-> 207 ``{data, errors}`` (each error with the refused item's ``id`` and a JSON:API
pointer); all refused -> 409 when every one already exists, else 400.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

from .._constants import (
    AUDIT_CODES,
    ENROLLED_REWARDS,
    MAX_PHONE_NUMBERS,
    MAX_POSTAL_CODES,
    MAX_USERS,
    PHONE_NUMBER_TYPES,
    POSTAL_CODE_TYPES,
    WEB_VIEW_TOKEN_TTL,
)
from .._jsonapi import ApiError, error_object
from .._records import ReceivedAudit
from .._routing import Call, Document, route

_USERS = "/v2/issuers/{org}/users"
_USER = "/v2/issuers/{org}/users/{user}"

Errors = list[dict[str, Any]]


def require_enrolled(call: Call) -> None:
    """With ``strict_users``, a 404 for a user never enrolled (else any user id works)."""
    emulator = call.emulator
    if emulator.strict_users and not emulator._is_enrolled(call.organization_id, call.user_id):
        raise ApiError(404, f"User {call.user_id!r} is not enrolled in this organization")


# --------------------------------------------------------------------------- users


@route("POST", _USERS, status=201)
def create_users(call: Call) -> Document:
    data = _data_array(call.json(), "users", MAX_USERS)
    emulator, organization = call.emulator, call.organization_id
    created: list[Document] = []
    errors: Errors = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        pointer = f"/data/{index}"
        problems = _user_problems(item, pointer)
        user_id = _text(item, "id")
        if not problems and user_id in seen:
            problems = [
                error_object(
                    400, f"user id {user_id!r} appears more than once", pointer=f"{pointer}/id"
                )
            ]
        elif not problems and not emulator._enroll(organization, item["id"], item["attributes"]):
            problems = [
                error_object(409, f"User {user_id!r} already exists", pointer=f"{pointer}/id")
            ]
        if problems:
            errors.extend(_with_id(problems, user_id))
            continue
        seen.add(item["id"])
        created.append(_user_document(item["id"], item["attributes"]))
    return _multi_status(call, created, errors)


@route("GET", _USER)
def get_user(call: Call) -> Document:
    attributes = call.emulator._user(call.organization_id, call.user_id)
    if attributes is None:
        raise _unknown_user(call)
    return {"data": _user_document(call.user_id, attributes)}


@route("PUT", _USER)
def update_user(call: Call) -> Document:
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ApiError(400, "request body must be an object with a 'data' object", pointer="/data")
    item = body["data"]
    errors = _user_problems(item, "/data")
    if not errors and item["id"] != call.user_id:
        errors.append(
            error_object(
                400,
                f"data.id {item['id']!r} does not match the user id in the path",
                pointer="/data/id",
            )
        )
    stored = call.emulator._user(call.organization_id, call.user_id)
    if stored is None:
        raise _unknown_user(call)
    if errors:
        raise ApiError(400, errors=errors)
    attributes = item["attributes"]
    if stored.get("historicalTransactionsSent") is True and (
        attributes.get("historicalTransactionsSent") is False
    ):
        raise ApiError(
            400,
            "historicalTransactionsSent is already true and cannot be set back to false",
            pointer="/data/attributes/historicalTransactionsSent",
        )
    # Attributes sent replace those on file; attributes left out are kept.
    merged = {**stored, **attributes}
    call.emulator._replace_user(call.organization_id, call.user_id, merged)
    return {"data": _user_document(call.user_id, merged)}


@route("DELETE", _USER)
def delete_user(call: Call) -> Document:
    if not call.emulator._delete_user(call.organization_id, call.user_id):
        raise _unknown_user(call)
    return {"data": {"type": "user", "id": call.user_id, "attributes": {}}}


@route("POST", "/v2/auth/issuers/{org}/users/{user}/token")
def web_view_token(call: Call) -> Document:
    token = call.emulator._issue_web_view_token(call.organization_id, call.user_id)
    return {"access_token": token, "expires_in": WEB_VIEW_TOKEN_TTL, "token_type": "Bearer"}


# --------------------------------------------------------------------------- audits


@route("POST", f"{_USER}/audits", status=201)
def create_audits(call: Call) -> Document:
    require_enrolled(call)
    data = _data_array(call.json(), "audits", None)
    opened: list[Document] = []
    errors: Errors = []
    now = datetime.now(timezone.utc)
    for index, item in enumerate(data):
        pointer = f"/data/{index}"
        problems = _audit_problems(item, pointer)
        attributes = item.get("attributes") if isinstance(item, dict) else None
        transaction_id = _text(attributes, "transactionId")
        if not problems:
            audit = ReceivedAudit(
                call.organization_id,
                call.user_id,
                str(uuid.uuid4()),
                dict(item["attributes"]),
                "NEW",
                now,
            )
            if call.emulator._open_audit(audit):
                _notify_audit(call, audit)
                opened.append(
                    {
                        "type": "audit",
                        "id": audit.id,
                        "attributes": {"transactionId": transaction_id},
                    }
                )
                continue
            problems = [
                error_object(
                    409,
                    f"an audit of transaction {transaction_id!r} is already open",
                    pointer=f"{pointer}/attributes/transactionId",
                )
            ]
        errors.extend(_with_id(problems, transaction_id))
    return _multi_status(call, opened, errors)


_AUDIT_FIELDS = ("auditCode", "merchantName", "auditDescription", "transactionId")


def _notify_audit(call: Call, audit: ReceivedAudit) -> None:
    """``auditUpdate`` (§13) to the organization's subscribers: the audit was opened."""
    call.emulator.notify(
        "auditUpdate",
        {"status": audit.status, **{key: audit.attributes[key] for key in _AUDIT_FIELDS}},
        relationships={
            "user": {"data": {"type": "user", "id": audit.user_id}},
            "audit": {"data": {"type": "audit", "id": audit.id}},
        },
        organization_id=audit.organization_id,
    )


# --------------------------------------------------------------------------- answers


def _multi_status(call: Call, data: list[Document], errors: Errors) -> Document:
    if not errors:
        return {"data": data}
    if data:
        call.status = 207
        return {"data": data, "errors": errors}
    conflicts = all(error["status"] == "409" for error in errors)
    raise ApiError(409 if conflicts else 400, errors=errors)


def _unknown_user(call: Call) -> ApiError:
    return ApiError(404, f"User {call.user_id!r} not found")


def _user_document(user_id: str, attributes: dict[str, Any]) -> Document:
    return {"type": "user", "id": user_id, "attributes": attributes}


def _with_id(errors: Errors, item_id: str | None) -> Errors:
    if item_id is not None:
        for error in errors:
            error["id"] = item_id
    return errors


def _text(obj: Any, key: str) -> str | None:
    """``obj[key]`` if ``obj`` is an object holding a non-empty string there (an item id)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value.strip() else None


# --------------------------------------------------------------------------- validation

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_FIVE_DIGITS = re.compile(r"\d{5}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_YEAR = re.compile(r"\d{4}")
_STRINGS = ("zipCode", "email")


def _data_array(body: Any, noun: str, limit: int | None) -> list[Any]:
    if not isinstance(body, dict) or "data" not in body:
        raise ApiError(400, "request body must be an object with a 'data' array", pointer="/data")
    data = body["data"]
    if not isinstance(data, list):
        raise ApiError(400, f"data must be an array of {noun}, got {data!r}", pointer="/data")
    if not data:
        raise ApiError(400, f"data must contain at least one of the {noun}", pointer="/data")
    if limit is not None and len(data) > limit:
        raise ApiError(
            400,
            f"data contains {len(data)} {noun}; at most {limit} are allowed per request",
            pointer="/data",
        )
    return data


def _resource_problems(item: Any, pointer: str, kind: str) -> Errors:
    """A resource object of ``type`` ``kind`` with an ``attributes`` object."""
    if not isinstance(item, dict):
        return [error_object(400, f"must be an object, got {item!r}", pointer=pointer)]
    errors: Errors = []
    if item.get("type") != kind:
        errors.append(
            error_object(
                400, f"type must be {kind!r}, got {item.get('type')!r}", pointer=f"{pointer}/type"
            )
        )
    if not isinstance(item.get("attributes"), dict):
        errors.append(
            error_object(
                400, "attributes is required and must be an object", pointer=f"{pointer}/attributes"
            )
        )
    return errors


def _user_problems(item: Any, pointer: str) -> Errors:
    errors = _resource_problems(item, pointer, "user")
    if not isinstance(item, dict):
        return errors
    user_id = item.get("id")
    if not isinstance(user_id, str) or not user_id.strip():
        errors.append(
            error_object(
                400, f"id must be a non-empty string, got {user_id!r}", pointer=f"{pointer}/id"
            )
        )
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        return errors
    base = f"{pointer}/attributes"

    def fail(name: str, detail: str) -> None:
        errors.append(error_object(400, f"{name} {detail}", pointer=f"{base}/{name}"))

    rewards = attributes.get("enrolledRewards")
    if not isinstance(rewards, list):
        fail("enrolledRewards", f"is required and must be an array, got {rewards!r}")
    else:
        for value in rewards:
            if value not in ENROLLED_REWARDS:
                fail(
                    "enrolledRewards",
                    f"value {value!r} is not allowed; allowed values: "
                    + ", ".join(ENROLLED_REWARDS),
                )
    for name in _STRINGS:
        value = attributes.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            fail(name, f"must be a non-empty string, got {value!r}")
    for name, pattern, what in (
        ("hashedEmail", _SHA256, "a SHA-256 hex digest"),
        ("phoneNumber", _E164, "an E.164 phone number (e.g. +14155552671)"),
        ("birthYear", _YEAR, "a 4-digit year string"),
    ):
        value = attributes.get(name)
        if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
            fail(name, f"must be {what}, got {value!r}")
    sent = attributes.get("historicalTransactionsSent")
    if sent is not None and not isinstance(sent, bool):
        fail("historicalTransactionsSent", f"must be a boolean, got {sent!r}")
    _list_problems(
        attributes.get("phoneNumbers"),
        f"{base}/phoneNumbers",
        ("number", _E164, "an E.164 phone number"),
        PHONE_NUMBER_TYPES,
        MAX_PHONE_NUMBERS,
        errors,
    )
    _list_problems(
        attributes.get("postalCodes"),
        f"{base}/postalCodes",
        ("code", _FIVE_DIGITS, "a 5-digit postal code"),
        POSTAL_CODE_TYPES,
        MAX_POSTAL_CODES,
        errors,
    )
    return errors


def _list_problems(
    value: Any,
    pointer: str,
    field: tuple[str, re.Pattern[str], str],
    types: tuple[str, ...],
    limit: int,
    errors: Errors,
) -> None:
    """``phoneNumbers`` / ``postalCodes``: at most ``limit`` objects of a value and a type."""
    if value is None:
        return
    name = pointer.rsplit("/", 1)[1]
    if not isinstance(value, list):
        errors.append(error_object(400, f"{name} must be an array", pointer=pointer))
        return
    if len(value) > limit:
        errors.append(
            error_object(400, f"{name} has {len(value)} items; at most {limit}", pointer=pointer)
        )
        return
    key, pattern, what = field
    for index, entry in enumerate(value):
        where = f"{pointer}/{index}"
        if not isinstance(entry, dict):
            errors.append(error_object(400, f"{name}[{index}] must be an object", pointer=where))
            continue
        given = entry.get(key)
        if not isinstance(given, str) or not pattern.fullmatch(given):
            errors.append(
                error_object(
                    400,
                    f"{name}[{index}].{key} must be {what}, got {given!r}",
                    pointer=f"{where}/{key}",
                )
            )
        kind = entry.get("type")
        if kind is not None and kind not in types:
            errors.append(
                error_object(
                    400,
                    f"{name}[{index}].type {kind!r} is not allowed; allowed values: "
                    + ", ".join(types),
                    pointer=f"{where}/type",
                )
            )


def _audit_problems(item: Any, pointer: str) -> Errors:
    errors = _resource_problems(item, pointer, "audit")
    attributes = item.get("attributes") if isinstance(item, dict) else None
    if not isinstance(attributes, dict):
        return errors
    base = f"{pointer}/attributes"
    code = attributes.get("auditCode")
    if type(code) is not int or code not in AUDIT_CODES:
        errors.append(
            error_object(
                400,
                f"auditCode {code!r} is not allowed; allowed values: "
                + ", ".join(str(c) for c in AUDIT_CODES),
                pointer=f"{base}/auditCode",
            )
        )
    for name in ("merchantName", "auditDescription", "transactionId"):
        value = attributes.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(
                error_object(
                    400,
                    f"{name} is required and must be a non-empty string, got {value!r}",
                    pointer=f"{base}/{name}",
                )
            )
    return errors
