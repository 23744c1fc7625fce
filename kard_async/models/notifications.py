"""Webhook notifications Kard POSTs to an issuer (API reference §13 and §16).

A notification body is an envelope ``{"data": {...}, "meta": {"issuerId", "issuerName"}}``.
Decoding returns the ``data`` resource as one of the Structs below, with the envelope's
``meta`` attached, so ``notification.id`` (the idempotency key), ``notification.type`` and
``notification.meta`` are all one attribute away. A ``type`` this version does not know
becomes an :class:`UnknownNotification`, never an error: Kard has added and removed
notification types many times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Union

import msgspec

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
    "UnknownNotification",
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

    @property
    def type(self) -> str:
        return str(self.__struct_config__.tag)


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
