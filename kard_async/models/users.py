"""Users, audits and WebView tokens (API reference §4, §6, §7.3, §16).

Requests (:class:`User`, :class:`Audit`) are immutable and validated when built, like the
attribution events: a missing field, an 11th phone number or a phone number that is not
E.164 raises :class:`~kard_async.InvalidParameterError` at the line that made it. Enum
values this version has never heard of (a new reward program, a new phone type, a new
audit code) are passed through: Kard adds them often.

Responses are lenient: what the server stores is decoded as it comes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from .._errors import InvalidParameterError
from .._validate import require_id
from ._base import Model
from ._wire import from_wire
from .attributions import _Request
from .common import MultiStatus

__all__ = [
    "Audit",
    "AuditCode",
    "AuditRequest",
    "AuditRequestAttributes",
    "AuditsCreated",
    "EnrolledRewards",
    "EnrolledUser",
    "PhoneNumber",
    "PhoneNumberType",
    "PostalCode",
    "PostalCodeType",
    "User",
    "UserAttributes",
    "UsersCreated",
    "WebViewToken",
    "as_audit",
    "as_user",
]

EnrolledRewards = Literal["CARDLINKED"]
PhoneNumberType = Literal["MOBILE", "HOME", "WORK", "OTHER"]
PostalCodeType = Literal["PHYSICAL", "BILLING", "OTHER"]
AuditCode = Literal[3005, 3006, 8001]
"""3005 incorrect cashback, 3006 missing cashback, 8001 other (see the description)."""

# Literals for editors and type checkers; plain values at runtime, so that a value Kard
# added after this version is never refused (see models/attributions.py).
if TYPE_CHECKING:
    _EnrolledRewards = EnrolledRewards
    _PhoneNumberType = PhoneNumberType
    _PostalCodeType = PostalCodeType
    _AuditCode = AuditCode
else:
    _EnrolledRewards = _PhoneNumberType = _PostalCodeType = str
    _AuditCode = int

MAX_PHONE_NUMBERS = 10
MAX_POSTAL_CODES = 10
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_POSTAL_CODE = re.compile(r"[0-9]{5}")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_YEAR = re.compile(r"[0-9]{4}")

T = TypeVar("T", bound=msgspec.Struct)


class PhoneNumber(_Request, frozen=True):
    """A phone number in E.164 format (``+14155552671``); ``type`` is inferred if omitted.

    Checked when the :class:`User` holding it is built (so errors name its position).
    """

    number: str
    type: _PhoneNumberType | None = None


class PostalCode(_Request, frozen=True):
    """A 5-digit postal code; ``type`` is inferred if omitted.

    Checked when the :class:`User` holding it is built (so errors name its position).
    """

    code: str
    type: _PostalCodeType | None = None


class User(_Request, frozen=True):
    """A user to enroll (``kard.users.create``) or to update (``kard.users.update``).

    ``id`` is your own id for the user. ``enrolled_rewards`` is required: the programs to
    enroll the user in (``["CARDLINKED"]``; empty leaves the user in none). Sending
    ``phone_numbers`` or ``postal_codes`` (at most 10 each) replaces every value on file.
    ``historical_transactions_sent`` is one-way: once True, Kard refuses False.
    """

    id: str
    enrolled_rewards: tuple[_EnrolledRewards, ...]
    zip_code: str | None = None
    email: str | None = None
    hashed_email: str | None = None
    """SHA-256 hex digest of the normalized email (see :mod:`kard_async.hem`)."""
    phone_number: str | None = None
    """E.164, e.g. ``+14155552671``."""
    birth_year: str | None = None
    """Four digits, e.g. ``"1990"``."""
    historical_transactions_sent: bool | None = None
    phone_numbers: tuple[PhoneNumber, ...] | None = None
    postal_codes: tuple[PostalCode, ...] | None = None

    def __post_init__(self) -> None:
        require_id("id", self.id)
        rewards = _strings("enrolled_rewards", self.enrolled_rewards)
        msgspec.structs.force_setattr(self, "enrolled_rewards", rewards)
        for name in ("zip_code", "email"):
            _optional_text(name, getattr(self, name))
        _optional_match(
            "hashed_email", self.hashed_email, _SHA256_HEX, "a SHA-256 hex digest (64 hex digits)"
        )
        _optional_match("phone_number", self.phone_number, _E164, _E164_TEXT)
        _optional_match("birth_year", self.birth_year, _YEAR, "a 4-digit year string, e.g. '1990'")
        sent = self.historical_transactions_sent
        if sent is not None and not isinstance(sent, bool):
            raise InvalidParameterError(
                "historical_transactions_sent", sent, "must be True, False or None"
            )
        if self.phone_numbers is not None:
            numbers = _entries("phone_numbers", self.phone_numbers, PhoneNumber, MAX_PHONE_NUMBERS)
            for index, phone in enumerate(numbers):
                where = f"phone_numbers[{index}]"
                _match(f"{where}.number", phone.number, _E164, _E164_TEXT)
                _optional_text(f"{where}.type", phone.type)
            msgspec.structs.force_setattr(self, "phone_numbers", numbers)
        if self.postal_codes is not None:
            codes = _entries("postal_codes", self.postal_codes, PostalCode, MAX_POSTAL_CODES)
            for index, postal in enumerate(codes):
                where = f"postal_codes[{index}]"
                _match(f"{where}.code", postal.code, _POSTAL_CODE, "a 5-digit postal code")
                _optional_text(f"{where}.type", postal.type)
            msgspec.structs.force_setattr(self, "postal_codes", codes)


class Audit(_Request, frozen=True):
    """A request that Kard re-examine one transaction of a user (missing or incorrect
    cashback). ``audit_code``: 3005 incorrect cashback, 3006 missing cashback, 8001 other."""

    audit_code: _AuditCode
    merchant_name: str
    audit_description: str
    transaction_id: str
    """Your id of the transaction (the ``transactionId`` it was sent with)."""

    def __post_init__(self) -> None:
        code = self.audit_code
        if isinstance(code, bool) or not isinstance(code, int) or code < 1:
            raise InvalidParameterError(
                "audit_code", code, "must be a positive integer: 3005, 3006 or 8001 (or newer)"
            )
        require_id("merchant_name", self.merchant_name)
        require_id("audit_description", self.audit_description)
        require_id("transaction_id", self.transaction_id)


_E164_TEXT = "an E.164 phone number: '+', country code and number, e.g. '+14155552671'"


def _strings(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidParameterError(name, value, "must be a list of strings, e.g. ['CARDLINKED']")
    for item in value:
        if not isinstance(item, str) or not item:
            raise InvalidParameterError(name, value, "must be a list of non-empty strings")
    return tuple(value)


def _optional_text(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidParameterError(name, value, "must be a non-empty string or None")


def _match(name: str, value: object, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise InvalidParameterError(name, value, f"must be {what}")


def _optional_match(name: str, value: object, pattern: re.Pattern[str], what: str) -> None:
    if value is not None:
        _match(name, value, pattern, f"{what} or None")


def _entries(name: str, value: object, cls: type[T], limit: int) -> tuple[T, ...]:
    """A list of ``cls`` (or wire mappings of it), at most ``limit`` long."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidParameterError(name, value, f"must be a list of {cls.__name__}")
    if len(value) > limit:
        raise InvalidParameterError(
            name, f"<{len(value)} items>", f"at most {limit} are allowed per user"
        )
    return tuple(_convert(f"{name}[{index}]", item, cls) for index, item in enumerate(value))


def _convert(name: str, item: object, cls: type[T]) -> T:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise InvalidParameterError(name, item, f"must be a {cls.__name__} or a mapping")
    return from_wire(name, item, cls)


def as_user(obj: object) -> User:
    """``obj`` itself if it is a :class:`User`, else the user its wire mapping describes:
    ``{"type": "user", "id": ..., "attributes": {...}}``, or the same with the attributes
    at the top level (camelCase names, as in the API)."""
    if isinstance(obj, User):
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            "user", obj, "must be a User or a mapping in the API's wire format"
        )
    return from_wire("", _flatten("user", obj), User)


def as_audit(obj: object) -> Audit:
    """``obj`` itself if it is an :class:`Audit`, else the audit its wire mapping describes:
    ``{"type": "audit", "attributes": {...}}``, or the attributes alone (camelCase)."""
    if isinstance(obj, Audit):
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            "audit", obj, "must be an Audit or a mapping in the API's wire format"
        )
    return from_wire("", _flatten("audit", obj), Audit)


def _flatten(kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    given = obj.get("type", kind)
    if given != kind:
        raise InvalidParameterError("type", given, f"must be {kind!r}")
    attributes = obj.get("attributes")
    if attributes is None:
        return {key: value for key, value in obj.items() if key != "type"}
    if not isinstance(attributes, Mapping):
        raise InvalidParameterError("attributes", attributes, "must be a mapping")
    flat = dict(attributes)
    if "id" in obj:
        flat["id"] = obj["id"]
    return flat


# --- wire encoding ---


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    type: str
    id: str | None = None
    attributes: Any


class _Many(msgspec.Struct, gc=False):
    data: list[_Wire]


class _One(msgspec.Struct, gc=False):
    data: _Wire


_ENCODER = msgspec.json.Encoder()


def _user_wire(user: User) -> _Wire:
    attributes = msgspec.to_builtins(user)
    del attributes["id"]
    return _Wire(type="user", id=user.id, attributes=attributes)


def encode_users(users: Sequence[User]) -> bytes:
    """``{"data": [{"type": "user", "id": ..., "attributes": {...}}, ...]}``."""
    return _ENCODER.encode(_Many([_user_wire(user) for user in users]))


def encode_user(user: User) -> bytes:
    """``{"data": {"type": "user", "id": ..., "attributes": {...}}}`` (an update)."""
    return _ENCODER.encode(_One(_user_wire(user)))


def encode_audits(audits: Sequence[Audit]) -> bytes:
    """``{"data": [{"type": "audit", "attributes": {...}}, ...]}``."""
    return _ENCODER.encode(_Many([_Wire(type="audit", attributes=audit) for audit in audits]))


# --- responses ---


class UserAttributes(Model):
    """A user's attributes as Kard has them on file."""

    enrolled_rewards: list[str] = []
    zip_code: str | None = None
    email: str | None = None
    hashed_email: str | None = None
    phone_number: str | None = None
    birth_year: str | None = None
    historical_transactions_sent: bool | None = None
    phone_numbers: list[PhoneNumber] | None = None
    postal_codes: list[PostalCode] | None = None


class EnrolledUser(Model):
    """A user as Kard returns it (``get``, ``update``, and the users a ``create`` enrolled)."""

    id: str
    type: str = "user"
    attributes: UserAttributes = msgspec.field(default_factory=UserAttributes)

    def to_user(self) -> User:
        """This user as a :class:`User` request, e.g. to change a field and ``update`` it
        (an update replaces what is on file)."""
        attributes = msgspec.structs.asdict(self.attributes)
        return User(id=self.id, **attributes)


class UsersCreated(MultiStatus, kw_only=True):
    """The answer to ``kard.users.create``: ``data`` holds the users enrolled, ``errors``
    one entry per user refused (its ``id``, ``status`` such as ``"409"`` for a user that
    already exists, and ``detail``). A partial success (HTTP 207) is never silent: check
    ``ok`` or call ``raise_for_errors()``."""

    data: list[EnrolledUser] = []


class AuditRequestAttributes(Model):
    transaction_id: str


class AuditRequest(Model):
    """An audit Kard opened: ``id`` is the audit request id; ``transaction_id`` the
    transaction it examines."""

    id: str
    attributes: AuditRequestAttributes
    type: str = "audit"

    @property
    def transaction_id(self) -> str:
        return self.attributes.transaction_id


class AuditsCreated(MultiStatus, kw_only=True):
    """The answer to ``kard.users.audits.create``: ``data`` holds the audits opened,
    ``errors`` one entry per audit refused, whose ``id`` is the audit's transaction id. A
    partial success (HTTP 207) is never silent: check ``ok`` or call ``raise_for_errors()``."""

    data: list[AuditRequest] = []


class WebViewToken(msgspec.Struct, kw_only=True, gc=False):
    """A user-scoped OAuth token for Kard's hosted WebView. Its repr hides the token."""

    access_token: str
    expires_in: int
    """Lifetime in seconds."""
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return (
            f"WebViewToken(access_token=<redacted>, expires_in={self.expires_in!r}, "
            f"token_type={self.token_type!r})"
        )

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [
            ("access_token", "<redacted>"),
            ("expires_in", self.expires_in),
            ("token_type", self.token_type),
        ]
