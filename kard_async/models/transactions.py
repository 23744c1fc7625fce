"""Transactions, fraud markers and earned rewards (API reference §7.1, §7.2, §7.5, §16).

Requests (:class:`Transaction`, :class:`CoreTransaction`, :class:`FraudMarker`) are
immutable and validated when built, like the attribution events: a float amount, a naive
datetime, a ``card_bin`` that is not 6 digits or an APPROVED transaction without an
``authorization_date`` raises :class:`~kard_async.InvalidParameterError` at the line that
made it. Enum values this version has never heard of (a new status, network or direction)
pass through: Kard adds them often.

``Transaction.id`` is the resource ``id`` that must be unique for every distinct event (an
APPROVED and a SETTLED event of one purchase share their ``transaction_id``, not their
``id``); ``to_wire()`` gives the JSON:API item of §7.1, e.g. for a JSONL file.

Responses are lenient: earned-reward rows of a type this version does not know go to
``page.unknown``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, Union

import msgspec

from .._errors import InvalidParameterError
from .._validate import require_aware, require_id
from ._base import Model, Page, Resource, ResourceIdentifier, UnknownResource
from ._wire import from_wire
from .attributions import _Request
from .common import Job, MultiStatus
from .notifications import CommissionEarned
from .rewards import Asset, OfferComponents

__all__ = [
    "ApprovedTransaction",
    "ApprovedTransactionAttributes",
    "CardNetwork",
    "CoreTransaction",
    "Direction",
    "EarnedCommission",
    "EarnedReward",
    "EarnedRewardInclude",
    "EarnedRewardStatus",
    "EarnedRewardsMeta",
    "EarnedRewardsPage",
    "EarnedRewardsRange",
    "FraudMarked",
    "FraudMarker",
    "FraudulentTransaction",
    "FraudulentTransactionAttributes",
    "Merchant",
    "PaidToIssuer",
    "PaymentType",
    "ProcessorMids",
    "RewardMerchant",
    "RewardMerchantAttributes",
    "RewardOffer",
    "RewardOfferAttributes",
    "RewardedTransaction",
    "RewardedTransactionAttributes",
    "RewardedTransactionRelationships",
    "ToOne",
    "Transaction",
    "TransactionStatus",
    "TransactionsCreated",
    "VisaMids",
    "as_fraud_marker",
    "as_transaction",
    "encode_fraud_markers",
    "encode_transactions",
]

TransactionStatus = Literal["APPROVED", "SETTLED", "REVERSED", "RETURNED", "DECLINED"]
Direction = Literal["DEBIT", "CREDIT"]
PaymentType = Literal["CARD"]
CardNetwork = Literal["VISA", "MASTERCARD", "AMERICANEXPRESS", "DISCOVER"]
Processor = Literal["VISA"]
EarnedRewardStatus = Literal["APPROVED", "SETTLED"]
EarnedRewardsRange = Literal["12M", "6M", "3M", "YTD"]
EarnedRewardInclude = Literal["merchant", "offer"]
PaidToIssuer = Literal["UNPAID", "PAID_IN_FULL"]

# Literals for editors and type checkers; plain strings at runtime, so that a value Kard
# added after this version is never refused (see models/attributions.py).
if TYPE_CHECKING:
    _TransactionStatus = TransactionStatus
    _Direction = Direction
    _PaymentType = PaymentType
    _CardNetwork = CardNetwork
    _Processor = Processor
else:
    _TransactionStatus = _Direction = _PaymentType = _CardNetwork = _Processor = str

# Which date each known status requires (§7.1); a status never heard of requires none.
DATE_FOR_STATUS: dict[str, str] = {
    "APPROVED": "authorization_date",
    "SETTLED": "settled_date",
    "REVERSED": "transaction_date",
    "RETURNED": "transaction_date",
    "DECLINED": "transaction_date",
}
S = TypeVar("S", bound=msgspec.Struct)
_ENCODE = msgspec.json.Encoder().encode
_DECODE = msgspec.json.Decoder().decode


# --- checks shared by the request models ---


def _optional_text(name: str, value: object) -> None:
    if value is not None and type(value) is not str:
        raise InvalidParameterError(name, value, "must be a string or None")


def _cents(name: str, value: object) -> None:
    if type(value) is not int or value < 0:
        hint = ""
        if isinstance(value, float):
            hint = "a float is refused, never rounded: $12.34 is amount=1234"
        elif type(value) is int:
            hint = "send a refund or credit as a positive amount with direction='CREDIT'"
        raise InvalidParameterError(
            name, value, "must be a non-negative integer number of cents", hint=hint
        )


def _currency(value: object) -> None:
    if type(value) is not str or len(value) != 3 or not (value.isascii() and value.isalpha()):
        raise InvalidParameterError(
            "currency", value, "must be a 3-letter ISO 4217 code, e.g. 'USD'"
        )


def _digits(name: str, value: object, count: int, hint: str = "") -> None:
    if type(value) is not str or len(value) != count or not (value.isascii() and value.isdigit()):
        raise InvalidParameterError(name, value, f"must be {count} digits (a string)", hint=hint)


def _optional_date(name: str, value: object) -> None:
    if value is not None:
        require_aware(name, value)


def _coordinate(name: str, value: object, limit: float) -> None:
    if value is None:
        return
    allowed = f"must be a decimal number from {-limit:g} to {limit:g}, as a string"
    if type(value) is not str:
        raise InvalidParameterError(name, value, allowed, hint="e.g. '39.9526'")
    try:
        number = float(value)
    except ValueError:
        raise InvalidParameterError(name, value, allowed) from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise InvalidParameterError(name, value, allowed)


def _nested(name: str, value: object, cls: type[S]) -> S:
    """``value`` as a ``cls``: itself, or built from its wire mapping (camelCase keys)."""
    if type(value) is cls:
        return value
    if isinstance(value, Mapping):
        return from_wire(name, value, cls)
    raise InvalidParameterError(name, value, f"must be a {cls.__name__} or a mapping")


# --- requests ---


class VisaMids(_Request, frozen=True):
    """Visa's merchant ids: ``vmid`` (Visa Merchant ID) and ``vsid`` (Visa Store ID)."""

    vmid: str
    vsid: str

    def __post_init__(self) -> None:
        require_id("vmid", self.vmid)
        require_id("vsid", self.vsid)


class ProcessorMids(_Request, frozen=True, omit_defaults=False):
    """Network-specific merchant ids: ``ProcessorMids(mids=VisaMids(vmid=..., vsid=...))``.
    ``processor`` is ``VISA``, the only processor Kard knows today."""

    mids: VisaMids
    processor: _Processor = "VISA"

    def __post_init__(self) -> None:
        require_id("processor", self.processor)
        msgspec.structs.force_setattr(self, "mids", _nested("mids", self.mids, VisaMids))


class Merchant(_Request, frozen=True):
    """Where a transaction happened. ``id`` is the acquirer MID (usually 15 digits): optional,
    but needed for local offers. ``latitude``/``longitude`` are strings, as on the wire."""

    name: str
    id: str | None = None
    addr_street: str | None = None
    addr_city: str | None = None
    addr_state: str | None = None
    """A US state or territory code (``PA``), see :data:`~kard_async.models.State`."""
    addr_zipcode: str | None = None
    addr_country: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    store_id: str | None = None

    def __post_init__(self) -> None:
        require_id("name", self.name)
        for name in _MERCHANT_TEXT:
            _optional_text(name, getattr(self, name))
        _coordinate("latitude", self.latitude, 90.0)
        _coordinate("longitude", self.longitude, 180.0)


_MERCHANT_TEXT = ("id", "addr_street", "addr_city", "addr_state", "addr_zipcode", "addr_country")


class _Transaction(_Request, frozen=True):
    TYPE: ClassVar[str]
    _HEAD: ClassVar[bytes]

    id: str
    """The resource id: unique for every distinct event sent (§7.1)."""

    def to_wire(self) -> dict[str, Any]:
        """The JSON:API item of §7.1: ``{"type": ..., "id": ..., "attributes": {...}}``."""
        item: dict[str, Any] = _DECODE(self.to_json())
        return item

    def to_json(self) -> bytes:
        """``to_wire()`` as compact JSON (a JSONL line without its newline): the bytes
        sent for this transaction."""
        # One C-level encode: the struct's JSON is the attributes with "id" first, so the
        # item is the head, the id, the attributes' required defaults, then the rest.
        body = _ENCODE(self)
        key = _ENCODE(self.id)
        return b"".join((self._HEAD, key, self._defaults(), body[7 + len(key) :], b"}"))

    def _defaults(self) -> bytes:
        """``,"attributes":{`` and the required wire fields that equal their default (which
        ``omit_defaults`` leaves out)."""
        return b',"attributes":{'


class Transaction(_Transaction, frozen=True):
    """A card transaction event, which Kard matches against offers (``type: transaction``).

    Each status requires its date: ``authorization_date`` for APPROVED (recommended for
    SETTLED too), ``settled_date`` for SETTLED and ``transaction_date`` for REVERSED,
    RETURNED and DECLINED. Amounts are integer cents; ``card_bin`` is the first 6 digits
    of the card number; datetimes are timezone-aware.
    """

    TYPE: ClassVar[str] = "transaction"
    _HEAD: ClassVar[bytes] = b'{"type":"transaction","id":'

    user_id: str
    transaction_id: str
    """Your id of the purchase; its APPROVED and SETTLED events share it."""
    status: _TransactionStatus
    amount: int
    """In cents."""
    currency: str
    """ISO 4217, e.g. ``USD``."""
    description: str
    direction: _Direction
    card_bin: str = msgspec.field(name="cardBIN")
    card_last_four: str
    payment_type: _PaymentType = "CARD"
    authorization_date: datetime | None = None
    settled_date: datetime | None = None
    transaction_date: datetime | None = None
    subtotal: int | None = None
    """In cents, without tips, taxes and fees."""
    description_2: str | None = None
    mcc: str | None = None
    """Merchant category code: needed for some national offers, strongly recommended."""
    merchant: Merchant | None = None
    card_network: _CardNetwork | None = None
    processor_mids: ProcessorMids | None = None
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

    def __post_init__(self) -> None:
        require_id("id", self.id)
        require_id("user_id", self.user_id)
        require_id("transaction_id", self.transaction_id)
        status = self.status
        require_id("status", status)
        _cents("amount", self.amount)
        _currency(self.currency)
        require_id("description", self.description)
        require_id("direction", self.direction)
        require_id("payment_type", self.payment_type)
        _digits("card_bin", self.card_bin, 6, hint="send the first 6 digits of a longer BIN")
        _digits("card_last_four", self.card_last_four, 4)
        _optional_date("authorization_date", self.authorization_date)
        _optional_date("settled_date", self.settled_date)
        _optional_date("transaction_date", self.transaction_date)
        required = DATE_FOR_STATUS.get(status)
        if required is not None and getattr(self, required) is None:
            raise InvalidParameterError(required, None, f"is required when status is {status!r}")
        if self.subtotal is not None:
            _cents("subtotal", self.subtotal)
        for name in _TRANSACTION_TEXT:
            value = getattr(self, name)
            if value is not None and type(value) is not str:
                raise InvalidParameterError(name, value, "must be a string or None")
        if self.merchant is not None and type(self.merchant) is not Merchant:
            msgspec.structs.force_setattr(
                self, "merchant", _nested("merchant", self.merchant, Merchant)
            )
        mids = self.processor_mids
        if mids is not None and type(mids) is not ProcessorMids:
            msgspec.structs.force_setattr(
                self, "processor_mids", _nested("processor_mids", mids, ProcessorMids)
            )

    def _defaults(self) -> bytes:
        if self.payment_type == "CARD":
            return b',"attributes":{"paymentType":"CARD",'
        return b',"attributes":{'


_TRANSACTION_TEXT = (
    "description_2",
    "mcc",
    "card_network",
    "core_provider_id",
    "card_presence",
    "pan_entry_mode",
    "authorization_code",
    "retrieval_reference_number",
    "system_trace_audit_number",
    "acquirer_reference_number",
    "card_product_id",
    "user_zip_code",
    "account_id",
)


class CoreTransaction(_Transaction, frozen=True):
    """A settled transaction from a core banking system, with limited card data
    (``type: coreTransaction``). Both dates are required; ``card_last_fours`` lists the
    candidate cards when the exact card is unknown."""

    TYPE: ClassVar[str] = "coreTransaction"
    _HEAD: ClassVar[bytes] = b'{"type":"coreTransaction","id":'

    user_id: str
    transaction_id: str
    amount: int
    """In cents."""
    currency: str
    """ISO 4217, e.g. ``USD``."""
    description: str
    direction: _Direction
    settled_date: datetime
    authorization_date: datetime
    financial_institution_id: str | None = None
    financial_institution_name: str | None = None
    """Deprecated by Kard: use ``financial_institution_id``."""
    card_last_fours: tuple[str, ...] | None = None
    status: Literal["SETTLED"] = "SETTLED"
    """Always ``SETTLED`` for a core transaction."""

    def __post_init__(self) -> None:
        require_id("id", self.id)
        require_id("user_id", self.user_id)
        require_id("transaction_id", self.transaction_id)
        _cents("amount", self.amount)
        _currency(self.currency)
        require_id("description", self.description)
        require_id("direction", self.direction)
        require_aware("settled_date", self.settled_date)
        require_aware("authorization_date", self.authorization_date)
        if self.status != "SETTLED":
            raise InvalidParameterError(
                "status", self.status, "a core transaction is always 'SETTLED'"
            )
        _optional_text("financial_institution_id", self.financial_institution_id)
        _optional_text("financial_institution_name", self.financial_institution_name)
        fours = self.card_last_fours
        if fours is not None:
            if isinstance(fours, (str, bytes, Mapping)) or not isinstance(fours, Sequence):
                raise InvalidParameterError(
                    "card_last_fours", fours, "must be a list of 4-digit strings"
                )
            for index, four in enumerate(fours):
                _digits(f"card_last_fours[{index}]", four, 4)
            if type(fours) is not tuple:
                msgspec.structs.force_setattr(self, "card_last_fours", tuple(fours))

    def _defaults(self) -> bytes:
        return b',"attributes":{"status":"SETTLED",'


class FraudMarker(_Request, frozen=True, kw_only=False):
    """Flags a transaction as fraudulent, so it is never rewarded:
    ``FraudMarker(transaction_id, user_id)``."""

    transaction_id: str
    user_id: str

    def __post_init__(self) -> None:
        require_id("transaction_id", self.transaction_id)
        require_id("user_id", self.user_id)

    def to_wire(self) -> dict[str, Any]:
        """The JSON:API item of §7.2."""
        return {
            "type": "fraudulentTransaction",
            "id": self.transaction_id,
            "attributes": {"userId": self.user_id},
        }


AnyTransaction = Union[Transaction, CoreTransaction]  # noqa: UP007
TRANSACTION_CLASSES: dict[str, type[AnyTransaction]] = {
    Transaction.TYPE: Transaction,
    CoreTransaction.TYPE: CoreTransaction,
}


def as_transaction(obj: object) -> AnyTransaction:
    """``obj`` itself if it is a :class:`Transaction` or :class:`CoreTransaction`, else the
    one its wire mapping describes: ``{"type": ..., "id": ..., "attributes": {...}}``, or
    the same with the attributes at the top level (camelCase names, as in the API). A
    mapping without ``type`` is a ``transaction``."""
    if type(obj) is Transaction or type(obj) is CoreTransaction:
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            "transaction",
            obj,
            "must be a Transaction, a CoreTransaction or a mapping in the API's wire format",
        )
    kind = obj.get("type", Transaction.TYPE)
    cls = TRANSACTION_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidParameterError(
            "type", kind, "allowed values are " + ", ".join(map(repr, TRANSACTION_CLASSES))
        )
    return from_wire("", _flatten(obj, "id"), cls)


def as_fraud_marker(obj: object) -> FraudMarker:
    """``obj`` itself if it is a :class:`FraudMarker`, else the marker its wire mapping
    describes: ``{"type": "fraudulentTransaction", "id": <transactionId>, "attributes":
    {"userId": ...}}``, or ``{"transactionId": ..., "userId": ...}``."""
    if type(obj) is FraudMarker:
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            "marker", obj, "must be a FraudMarker or a mapping in the API's wire format"
        )
    kind = obj.get("type", "fraudulentTransaction")
    if kind != "fraudulentTransaction":
        raise InvalidParameterError("type", kind, "must be 'fraudulentTransaction'")
    return from_wire("", _flatten(obj, "transactionId"), FraudMarker)


def _flatten(obj: Mapping[str, Any], id_name: str) -> dict[str, Any]:
    attributes = obj.get("attributes")
    if attributes is None:
        return {key: value for key, value in obj.items() if key != "type"}
    if not isinstance(attributes, Mapping):
        raise InvalidParameterError("attributes", attributes, "must be a mapping")
    flat = dict(attributes)
    if "id" in obj:
        flat[id_name] = obj["id"]
    return flat


def encode_transactions(transactions: Sequence[AnyTransaction]) -> bytes:
    """``{"data": [<JSON:API item>, ...]}``, the body of ``POST .../transactions``."""
    return b'{"data":[' + b",".join([t.to_json() for t in transactions]) + b"]}"


def encode_fraud_markers(markers: Sequence[FraudMarker]) -> bytes:
    """``{"data": [<JSON:API item>, ...]}``, the body of ``POST .../fraud``."""
    return _ENCODE({"data": [marker.to_wire() for marker in markers]})


# --- write responses (207 multi-status) ---


class TransactionsCreated(MultiStatus, kw_only=True):
    """The answer to ``kard.transactions.create``: ``job`` is the job queued for the
    transactions accepted; ``errors`` has one entry per transaction refused (its ``id``,
    ``status`` and ``detail``) and ``data`` the ids of those accepted. A partial success
    (HTTP 207) is never silent: check ``ok`` or call ``raise_for_errors()``."""

    job: Job | None = msgspec.field(default=None, name="data")
    sent_ids: tuple[str, ...] = msgspec.field(default=(), name="kard-async:sent")
    """The ids of the transactions sent (set by the client, never on the wire)."""

    @property
    def data(self) -> list[str]:
        """The ids of the transactions accepted: every one sent, but those in ``errors``."""
        failed = set(self.failed_ids)
        return [id_ for id_ in self.sent_ids if id_ not in failed]


class FraudulentTransactionAttributes(Model):
    user_id: str


class FraudulentTransaction(Model):
    """A fraud marker Kard recorded: ``id`` is the flagged transaction's id."""

    id: str
    attributes: FraudulentTransactionAttributes
    type: str = "fraudulentTransaction"

    @property
    def transaction_id(self) -> str:
        return self.id

    @property
    def user_id(self) -> str:
        return self.attributes.user_id


class FraudMarked(MultiStatus, kw_only=True):
    """The answer to ``kard.transactions.mark_fraud``: ``data`` holds the markers recorded,
    ``errors`` one entry per marker refused, whose ``id`` is its transaction id. A partial
    success (HTTP 207) is never silent: check ``ok`` or call ``raise_for_errors()``."""

    data: list[FraudulentTransaction] = []


# --- earned rewards (§7.5) ---


class EarnedCommission(Model):
    """What a settled reward earned: ``user`` is the user's cashback, in cents."""

    user: CommissionEarned


class ToOne(Model):
    """A to-one relationship: ``{"data": {"type": ..., "id": ...}}``."""

    data: ResourceIdentifier | None = None


class RewardedTransactionRelationships(Model):
    user: ToOne | None = None
    merchant: ToOne | None = None
    offer: ToOne | None = None


# Fields in the order the API sends them: msgspec decodes fastest when they come as declared.


class ApprovedTransactionAttributes(Model, kw_only=True):
    status: str = "APPROVED"
    transaction_id: str
    transaction_amount_in_cents: int
    transaction_timestamp: datetime


class RewardedTransactionAttributes(ApprovedTransactionAttributes, kw_only=True):
    status: str = "SETTLED"
    paid_to_issuer: str = "UNPAID"
    """``UNPAID`` or ``PAID_IN_FULL`` (new values kept as they come)."""
    commission_earned: EarnedCommission
    payout_timestamp: datetime | None = None
    """The month the reward was paid out to you."""
    components: OfferComponents | None = None
    """UI components (a progress bar for progressive and punch-card offers), if any."""


class EarnedReward(Resource):
    """A transaction that earned a reward: a :class:`RewardedTransaction` (settled, with
    the commission) or an :class:`ApprovedTransaction` (approved, not settled yet)."""

    attributes: ApprovedTransactionAttributes
    relationships: RewardedTransactionRelationships = msgspec.field(
        default_factory=RewardedTransactionRelationships
    )

    @property
    def status(self) -> str:
        return self.attributes.status

    @property
    def transaction_id(self) -> str:
        return self.attributes.transaction_id

    @property
    def amount_in_cents(self) -> int:
        return self.attributes.transaction_amount_in_cents

    @property
    def user_id(self) -> str | None:
        return _related_id(self.relationships.user)

    @property
    def merchant_id(self) -> str | None:
        return _related_id(self.relationships.merchant)

    @property
    def offer_id(self) -> str | None:
        return _related_id(self.relationships.offer)

    @property
    def commission_in_cents(self) -> int | None:
        """The user's cashback in cents once settled; None while approved."""
        return None


class RewardedTransaction(EarnedReward, tag="rewardedTransaction", kw_only=True):
    """A settled transaction and the cashback it earned (``commission_in_cents``)."""

    attributes: RewardedTransactionAttributes

    @property
    def commission_in_cents(self) -> int:
        return self.attributes.commission_earned.user.value


class ApprovedTransaction(EarnedReward, tag="approvedTransaction", kw_only=True):
    """An approved transaction that will earn a reward once it settles."""


def _related_id(relationship: ToOne | None) -> str | None:
    return relationship.data.id if relationship is not None and relationship.data else None


class RewardMerchantAttributes(Model):
    name: str
    assets: list[Asset] = []


class RewardMerchant(Resource, tag="merchant"):
    """A merchant side-loaded with ``include=["merchant"]``: its name and images."""

    attributes: RewardMerchantAttributes

    @property
    def name(self) -> str:
        return self.attributes.name


class RewardOfferAttributes(Model):
    purchase_channel: list[str] = []


class RewardOffer(Resource, tag="offer"):
    """An offer side-loaded with ``include=["offer"]``: its purchase channels."""

    attributes: RewardOfferAttributes


class EarnedRewardsMeta(Model):
    lifetime_rewards_in_cents: int | None = None
    """The user's rewards in the window of ``range`` (and ``paid_in_full_only``), in cents."""


class EarnedRewardsPage(Page, kw_only=True):
    """One page of a user's earned rewards, newest first, with the merchants and offers
    asked for with ``include``. ``meta.lifetime_rewards_in_cents`` spans the whole window."""

    data: list[RewardedTransaction | ApprovedTransaction]
    included: list[RewardMerchant | RewardOffer | UnknownResource] = []
    meta: EarnedRewardsMeta = msgspec.field(default_factory=EarnedRewardsMeta)

    def merchant_of(self, reward: EarnedReward) -> RewardMerchant | None:
        """The included merchant of ``reward`` (needs ``include=["merchant"]``)."""
        wanted = reward.merchant_id
        return next(
            (r for r in self.included if isinstance(r, RewardMerchant) and r.id == wanted), None
        )

    def offer_of(self, reward: EarnedReward) -> RewardOffer | None:
        """The included offer of ``reward`` (needs ``include=["offer"]``)."""
        wanted = reward.offer_id
        return next(
            (r for r in self.included if isinstance(r, RewardOffer) and r.id == wanted), None
        )
