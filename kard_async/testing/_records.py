"""What the emulator saw: immutable records handed to tests."""

from __future__ import annotations

from dataclasses import dataclass
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
