"""What the emulator saw: immutable records handed to tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One HTTP request as received (``path`` is raw and percent-encoded, without query)."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One processed ``POST /v2/auth/token``: ``style`` is ``"json"`` or ``"basic"``."""

    style: str
    target_issuer: str | None
    succeeded: bool


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One attribution event the emulator accepted.

    ``source`` is ``"attributions"``, ``"activate"``, ``"boost"`` or ``"placement_slot"``;
    ``job_id`` is the job id (attributions) or the attribution id (the other sources).
    """

    organization_id: str
    user_id: str
    job_id: str
    source: str
    type: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EmittedNotification:
    """One notification the emulator emitted (``KardEmulator.notify``, or a trigger such as a
    rewarded transaction), whether or not a subscription wanted it.

    ``body`` is exactly the bytes POSTed to each subscriber, ``signature`` the
    ``notify-signature`` sent with them; ``subscription_ids`` are the enabled subscriptions
    it is delivered to.
    """

    organization_id: str
    event_name: str
    id: str
    body: bytes
    signature: str
    subscription_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST of a notification to a subscription's webhook URL.

    ``attempt`` counts from 1; ``status`` is the receiver's HTTP status, or None when there
    was no answer (``error`` says why: refused, timed out, ...). ``delivered`` is a 2xx.
    """

    notification_id: str
    event_name: str
    subscription_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class ReceivedAudit:
    """One audit the emulator opened: ``id`` is its audit request id, ``attributes`` the
    request's (``auditCode``, ``merchantName``, ``auditDescription``, ``transactionId``),
    ``status`` is ``"NEW"``; what an ``auditUpdate`` notification reports."""

    organization_id: str
    user_id: str
    id: str
    attributes: dict[str, Any]
    status: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ReceivedTransaction:
    """One transaction the emulator accepted (``type`` is ``transaction`` or
    ``coreTransaction``; ``id`` the resource id; ``attributes`` as sent)."""

    organization_id: str
    job_id: str
    type: str
    id: str
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReceivedFraudMarker:
    """One fraud marker the emulator accepted."""

    organization_id: str
    transaction_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """One daily transaction file the emulator's object store received and processed.

    ``lines_accepted`` / ``lines_rejected`` count its lines; ``rejections`` holds the first
    100 rejected lines as ``(line number, reason)``; ``transaction_ids`` the ids of the
    accepted lines, in order (None for files of more than 100,000 lines, or when the
    emulator runs with ``process_files=False``). ``error`` says why a whole file was
    refused (e.g. a truncated gzip stream). A PUT to the same URL again replaces the file.
    """

    organization_id: str
    upload_id: str
    upload_type: str
    filename: str
    size: int
    sha256: str
    gzip: bool
    lines_accepted: int
    lines_rejected: int
    rejections: tuple[tuple[int, str], ...]
    transaction_ids: tuple[str, ...] | None
    error: str | None = None
