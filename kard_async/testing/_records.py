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
