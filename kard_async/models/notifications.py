"""Webhook notifications Kard POSTs to an issuer (API reference §13 and §16).

A notification body is an envelope ``{"data": {...}, "meta": {"issuerId", "issuerName"}}``.
Decoding returns the ``data`` resource as one of the Structs below, with the envelope's
``meta`` attached, so ``notification.id`` (the idempotency key), ``notification.type`` and
``notification.meta`` are all one attribute away. A ``type`` this version does not know
becomes an :class:`UnknownNotification`, never an error: Kard has added and removed
notification types many times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Union, get_args
from urllib.parse import urlsplit

import msgspec

from .._errors import InvalidParameterError
from ._base import Model, Relationship, Resource, UnknownResource
from .rewards import Asset, UserReward

__all__ = [
    "AuditStatus",
    "AuditUpdate",
    "AuditUpdateAttributes",
    "AuditUpdateRelationships",
    "CommissionEarned",
    "EarnedRewardApproved",
    "EarnedRewardAttributes",
    "EarnedRewardRejected",
    "EarnedRewardRejectedAttributes",
    "EarnedRewardRelationships",
    "EarnedRewardSettled",
    "EarnedRewardSettledAttributes",
    "EmailNotificationPlacementFile",
    "EmailNotificationPlacementFileAttributes",
    "FileProcessingResult",
    "FileProcessingResultAttributes",
    "Notification",
    "NotificationMeta",
    "NotificationType",
    "PayoutReconciliationFile",
    "PayoutReconciliationFileAttributes",
    "PayoutReconciliationFileRelationships",
    "PlacementFileRelationships",
    "PushNotificationPlacementFile",
    "PushNotificationPlacementFileAttributes",
    "RejectedReason",
    "RejectedTransactionRelationships",
    "Subscription",
    "SubscriptionAttributes",
    "SubscriptionRequest",
    "SubscriptionUpdate",
    "UnknownNotification",
    "as_subscription_request",
    "decode_notification",
]

# The values known today, for editors and type checkers. Fields holding them are typed
# ``str``: a value Kard adds later comes through as is.
NotificationType = Literal[
    "earnedRewardApproved",
    "earnedRewardSettled",
    "earnedRewardRejected",
    "auditUpdate",
    "fileProcessingResult",
    "pushNotificationPlacementFile",
    "emailNotificationPlacementFile",
    "payoutReconciliationFile",
]
RejectedReason = Literal[
    "AGGREGATOR_CARD_OVERLAP",
    "MAX_REDEMPTION_LIMIT_REACHED",
    "SETTLEMENT_REJECTED",
    "USER_NOT_ENROLLED",
    "USER_NOT_IN_AUDIENCE_SEGMENT",
]
AuditStatus = Literal["NEW", "IN_PROGRESS", "CLOSED"]

# Request fields are typed with the Literal for editors and type checkers, and as plain
# strings at runtime: a type Kard adds after this version is sent as is.
if TYPE_CHECKING:
    _NotificationType = NotificationType
else:
    _NotificationType = str


class NotificationMeta(Model):
    """The envelope's ``meta``: which issuer the notification is for."""

    issuer_id: str = ""
    issuer_name: str = ""


# Set from the envelope after decoding. Its wire name keeps a ``meta`` member inside
# ``data`` (JSON:API allows one) from being read into it.
_META = msgspec.field(default=None, name="kard-async:meta")


def _related_id(relationship: Relationship | None) -> str | None:
    ids = relationship.ids if relationship is not None else []
    return ids[0] if ids else None


class _Notification(Resource):
    """A notification of a known type: ``id``, ``type`` (the tag), ``meta``."""

    meta: NotificationMeta | None = _META


# --- earnedRewardApproved / earnedRewardSettled ---


class CommissionEarned(Model):
    """What the user earned. ``type`` is ``cents`` today."""

    value: int
    type: str = "cents"


class EarnedRewardAttributes(Model):
    message: str
    """Display text for the user."""
    name: str
    """The merchant's name."""
    attribution_url: str
    transaction_id: str
    transaction_amount_in_cents: int
    survey_url: str | None = None
    """Present for rewards of local offers."""
    card_product_id: str | None = None
    transaction_timestamp: datetime | None = None
    category_name: str | None = None
    user_reward: UserReward | None = None
    """``FLAT`` (cents) or ``PERCENT``; older API versions may leave it out."""
    assets: list[Asset] = []
    purchase_channel: list[str] = []
    """``INSTORE`` and/or ``ONLINE`` (new values kept as they come)."""


class EarnedRewardSettledAttributes(EarnedRewardAttributes, kw_only=True):
    commission_earned: CommissionEarned


class EarnedRewardRelationships(Model):
    user: Relationship | None = None
    offer: Relationship | None = None
    transaction: Relationship | None = None


class _UserNotification(_Notification):
    relationships: EarnedRewardRelationships | None = None

    @property
    def user_id(self) -> str | None:
        """Your id of the user (``relationships.user``)."""
        return _related_id(self.relationships.user if self.relationships else None)


class EarnedRewardApproved(_UserNotification, tag="earnedRewardApproved", kw_only=True):
    """A transaction earned a reward that is approved, not yet settled."""

    attributes: EarnedRewardAttributes


class EarnedRewardSettled(_UserNotification, tag="earnedRewardSettled", kw_only=True):
    """A reward settled: ``attributes.commission_earned`` is what the user earned."""

    attributes: EarnedRewardSettledAttributes


# --- earnedRewardRejected ---


class EarnedRewardRejectedAttributes(Model):
    reason: str
    """One of :data:`RejectedReason` (new values kept as they come)."""
    message: str
    transaction_id: str
    transaction_amount_in_cents: int
    transaction_timestamp: datetime | None = None


class RejectedTransactionRelationships(Model):
    user: Relationship | None = None
    transaction: Relationship | None = None


class EarnedRewardRejected(_Notification, tag="earnedRewardRejected", kw_only=True):
    """A transaction did not earn a reward; ``attributes.reason`` says why."""

    attributes: EarnedRewardRejectedAttributes
    relationships: RejectedTransactionRelationships | None = None

    @property
    def user_id(self) -> str | None:
        return _related_id(self.relationships.user if self.relationships else None)


# --- auditUpdate ---


class AuditUpdateAttributes(Model):
    status: str
    """One of :data:`AuditStatus` (new values kept as they come)."""
    audit_code: int
    """3005 incorrect cashback, 3006 missing cashback, 8001 other."""
    merchant_name: str
    audit_description: str
    transaction_id: str
    resolution_code: int | None = None
    """Set once ``CLOSED`` (5001-5009, 9001-9005; see the API reference §13)."""
    resolution_description: str | None = None
    resolution_time_stamp: datetime | None = None


class AuditUpdateRelationships(Model):
    user: Relationship | None = None
    audit: Relationship | None = None


class AuditUpdate(_Notification, tag="auditUpdate", kw_only=True):
    """An audit you requested changed status."""

    attributes: AuditUpdateAttributes
    relationships: AuditUpdateRelationships | None = None

    @property
    def user_id(self) -> str | None:
        return _related_id(self.relationships.user if self.relationships else None)


# --- fileProcessingResult ---


class FileProcessingResultAttributes(Model):
    file_name: str
    sent_at: str
    """ISO 8601, as sent."""
    last_modified: str
    download_url: str
    """Presigned; valid for 30 minutes."""
    period_start: str | None = None
    period_end: str | None = None


class FileProcessingResult(_Notification, tag="fileProcessingResult", kw_only=True):
    """A file you uploaded was processed; the result file is at ``attributes.download_url``."""

    attributes: FileProcessingResultAttributes


# --- placement files (``id`` is the placement's id) ---


class PlacementFileRelationships(Model):
    placement: Relationship | None = None
    content_strategy: Relationship | None = None


class PushNotificationPlacementFileAttributes(Model):
    placement_name: str
    available_slots: int
    cadence: str
    """E.g. ``WEEKLY``."""
    download_url: str
    """Presigned; gzipped JSONL."""


class PushNotificationPlacementFile(
    _Notification, tag="pushNotificationPlacementFile", kw_only=True
):
    """A push-notification placement's offers file is ready. ``id`` is the placement id."""

    attributes: PushNotificationPlacementFileAttributes
    relationships: PlacementFileRelationships | None = None


class EmailNotificationPlacementFileAttributes(Model):
    name: str
    organization_id: str
    available_slots: int
    cadence: str
    """E.g. ``MONTHLY``."""
    download_url: str
    """Presigned; gzipped JSONL."""


class EmailNotificationPlacementFile(
    _Notification, tag="emailNotificationPlacementFile", kw_only=True
):
    """An email placement's offers file is ready. ``id`` is the placement id."""

    attributes: EmailNotificationPlacementFileAttributes
    relationships: PlacementFileRelationships | None = None


# --- payoutReconciliationFile ---


class PayoutReconciliationFileAttributes(Model):
    file_name: str
    period_start: str
    period_end: str
    download_url: str
    expires_in: int
    """Seconds the download URL stays valid."""


class PayoutReconciliationFileRelationships(Model):
    file: Relationship | None = None


class PayoutReconciliationFile(_Notification, tag="payoutReconciliationFile", kw_only=True):
    """A payout reconciliation file is ready to download."""

    attributes: PayoutReconciliationFileAttributes
    relationships: PayoutReconciliationFileRelationships | None = None


# --- unknown types, the union, decoding ---


class UnknownNotification(UnknownResource):
    """A notification of a type this version does not know: ``type``, ``id``, raw
    ``attributes`` and ``relationships``. Kept, never fatal."""

    meta: NotificationMeta | None = _META


Notification = (
    EarnedRewardApproved
    | EarnedRewardSettled
    | EarnedRewardRejected
    | AuditUpdate
    | FileProcessingResult
    | PushNotificationPlacementFile
    | EmailNotificationPlacementFile
    | PayoutReconciliationFile
    | UnknownNotification
)
"""Every notification :func:`decode_notification` (and ``construct_event``) returns."""

_KNOWN: tuple[type[_Notification], ...] = (
    EarnedRewardApproved,
    EarnedRewardSettled,
    EarnedRewardRejected,
    AuditUpdate,
    FileProcessingResult,
    PushNotificationPlacementFile,
    EmailNotificationPlacementFile,
    PayoutReconciliationFile,
)


class _Envelope(msgspec.Struct, gc=False):
    data: Union[_KNOWN]  # type: ignore[valid-type]  # noqa: UP007
    meta: NotificationMeta | None = None


class _RawEnvelope(msgspec.Struct, gc=False):
    data: msgspec.Raw
    meta: NotificationMeta | None = None


class _TypePeek(msgspec.Struct, gc=False):
    type: str


_FAST = msgspec.json.Decoder(_Envelope)
_LENIENT = msgspec.json.Decoder(_RawEnvelope)
_PEEK = msgspec.json.Decoder(_TypePeek)
_BY_TYPE: dict[str, msgspec.json.Decoder[_Notification]] = {
    str(cls.__struct_config__.tag): msgspec.json.Decoder(cls) for cls in _KNOWN
}
_UNKNOWN = msgspec.json.Decoder(UnknownNotification)


def decode_notification(body: bytes) -> Notification:
    """Decode a notification body (no signature check: see ``kard_async.webhooks``).

    Raises ``msgspec.DecodeError`` (not JSON) or ``msgspec.ValidationError`` (not a
    notification, or a known type with a missing or mistyped field).
    """
    try:
        envelope = _FAST.decode(body)
        notification: Notification = envelope.data
    except msgspec.ValidationError:
        # An unknown type fails the tagged union; so does a malformed known one, which
        # its own decoder below reports with the precise reason.
        raw = _LENIENT.decode(body)
        try:
            decoder = _BY_TYPE.get(_PEEK.decode(raw.data).type)
            notification = (decoder or _UNKNOWN).decode(raw.data)  # type: ignore[assignment]
        except msgspec.ValidationError as error:  # report paths from the body's root
            message, at, path = str(error).partition(" - at `$")
            raise msgspec.ValidationError(f"{message} - at `$.data{path if at else '`'}") from None
        notification.meta = raw.meta
        return notification
    notification.meta = envelope.meta
    return notification


# --- subscriptions (API reference §8): where Kard sends each notification type ---


def _check_event_name(parameter: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(
            parameter,
            value,
            "must be a notification type, e.g. 'earnedRewardSettled'",
            hint="known types: " + ", ".join(get_args(NotificationType)),
        )


def _check_webhook_url(parameter: str, value: object) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidParameterError(
            parameter, value, "must be an absolute http(s) URL, e.g. 'https://example.com/kard'"
        )


def _check_enabled(parameter: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidParameterError(parameter, value, "must be True or False")


class SubscriptionRequest(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """A subscription to create: Kard POSTs every ``event_name`` notification to
    ``webhook_url`` (while ``enabled``). Checked when built."""

    event_name: _NotificationType
    """One of :data:`NotificationType`; a type this version does not know is sent as is."""
    webhook_url: str
    """Absolute ``https://`` URL (``http://`` is accepted for local receivers)."""
    enabled: bool = True

    def __post_init__(self) -> None:
        _check_event_name("event_name", self.event_name)
        _check_webhook_url("webhook_url", self.webhook_url)
        _check_enabled("enabled", self.enabled)


class SubscriptionUpdate(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False
):
    """The changes of a subscription update; fields left None are not changed."""

    event_name: _NotificationType | None = None
    webhook_url: str | None = None
    enabled: bool | None = None

    def __post_init__(self) -> None:
        if self.event_name is None and self.webhook_url is None and self.enabled is None:
            raise InvalidParameterError(
                "event_name", None, "pass at least one of event_name, webhook_url, enabled"
            )
        if self.event_name is not None:
            _check_event_name("event_name", self.event_name)
        if self.webhook_url is not None:
            _check_webhook_url("webhook_url", self.webhook_url)
        if self.enabled is not None:
            _check_enabled("enabled", self.enabled)


class SubscriptionAttributes(Model):
    event_name: str
    """One of :data:`NotificationType` (new values kept as they come)."""
    webhook_url: str
    enabled: bool


class Subscription(Model):
    """A notification subscription: where Kard sends ``event_name`` notifications."""

    id: str
    attributes: SubscriptionAttributes
    type: str = "subscription"

    @property
    def event_name(self) -> str:
        return self.attributes.event_name

    @property
    def webhook_url(self) -> str:
        return self.attributes.webhook_url

    @property
    def enabled(self) -> bool:
        return self.attributes.enabled


class _WireSubscription(msgspec.Struct, kw_only=True, gc=False):
    type: str = "subscription"
    attributes: SubscriptionRequest | SubscriptionUpdate


class _CreateBody(msgspec.Struct, gc=False):
    data: list[_WireSubscription]


class _UpdateBody(msgspec.Struct, gc=False):
    data: _WireSubscription


_ENCODER = msgspec.json.Encoder()


def encode_subscriptions(subscriptions: list[SubscriptionRequest]) -> bytes:
    """The body of a create: ``{"data": [{"type": "subscription", "attributes": ...}]}``."""
    return _ENCODER.encode(
        _CreateBody([_WireSubscription(attributes=item) for item in subscriptions])
    )


def encode_subscription_update(update: SubscriptionUpdate) -> bytes:
    """The body of an update: ``{"data": {"type": "subscription", "attributes": ...}}``."""
    return _ENCODER.encode(_UpdateBody(_WireSubscription(attributes=update)))


def as_subscription_request(obj: object) -> SubscriptionRequest:
    """``obj`` itself if it is a :class:`SubscriptionRequest`, else the one its wire mapping
    describes: ``{"eventName", "webhookUrl", "enabled"}``, optionally inside
    ``{"type": "subscription", "attributes": {...}}``."""
    if isinstance(obj, SubscriptionRequest):
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            "subscription",
            obj,
            "must be a SubscriptionRequest or a mapping in the API's wire format "
            "({'eventName': ..., 'webhookUrl': ..., 'enabled': ...})",
        )
    attributes: Any = obj.get("attributes", obj)
    try:
        return msgspec.convert(attributes, SubscriptionRequest)
    except msgspec.ValidationError as error:
        if isinstance(error.__cause__, InvalidParameterError):
            raise error.__cause__ from None
        message, _, where = str(error).partition(" - at `$")
        wire = where.rstrip("`").lstrip(".")
        missing = message.partition("missing required field `")[2].rstrip("`")
        if missing:
            raise InvalidParameterError(_SNAKE.get(missing, missing), None, "is required") from None
        value = attributes.get(wire) if isinstance(attributes, Mapping) and wire else attributes
        raise InvalidParameterError(_SNAKE.get(wire, "subscription"), value, message) from None


_SNAKE = {"eventName": "event_name", "webhookUrl": "webhook_url", "enabled": "enabled"}
