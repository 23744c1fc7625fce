"""``KardEmulator``: all mutable state (tokens, records, faults, activations)."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from ._constants import (
    MAX_UPLOAD_BYTES,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
)
from ._faults import Fault
from ._records import ReceivedEvent, ReceivedFile, RecordedRequest, TokenRequest
from ._storage import ObjectStore

if TYPE_CHECKING:
    from aiohttp import web


class _RawBatch:
    __slots__ = ("body", "job_id", "organization_id", "user_id")

    def __init__(self, organization_id: str, user_id: str, job_id: str, body: bytes) -> None:
        self.organization_id = organization_id
        self.user_id = user_id
        self.job_id = job_id
        self.body = body

    def events(self) -> list[ReceivedEvent]:
        data = msgspec.json.decode(self.body)["data"]
        return [
            ReceivedEvent(
                self.organization_id,
                self.user_id,
                self.job_id,
                "attributions",
                event["type"],
                event["attributes"],
            )
            for event in data
        ]


class KardEmulator:
    """An in-memory Kard Rewards API. Safe to inspect and configure from any thread.

    ``token_ttl`` is the lifetime in seconds of newly issued tokens (settable at any time;
    ``reset()`` restores the constructor value). ``max_recorded_requests`` bounds
    ``requests`` to the most recent N (default: keep everything), for long benchmark runs.

    Files (``_storage``): ``upload_url_ttl`` / ``download_url_ttl`` are the lifetimes of new
    presigned URLs (900 and 1800 s), ``clock_skew`` seconds are added to the store's clock
    when it checks a URL's expiry (a store that thinks it is later refuses URLs as
    expired), ``max_upload_bytes`` is the largest file a PUT may carry, and
    ``process_files=False`` only counts the bytes of received files instead of checking
    their lines (for throughput benchmarks). ``reset()`` restores all of them.
    """

    def __init__(
        self,
        *,
        client_id: str = TEST_CLIENT_ID,
        client_secret: str = TEST_CLIENT_SECRET,
        organization_id: str = TEST_ORGANIZATION_ID,
        token_ttl: float = 3600.0,
        max_recorded_requests: int | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        process_files: bool = True,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.organization_id = organization_id
        self.token_ttl = token_ttl
        self._initial_token_ttl = token_ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded_requests)
        self._token_requests: list[TokenRequest] = []
        # Accepted attribution bodies are kept as raw bytes and decoded only when a test
        # reads them: storing decoded dicts made big benchmark runs slow and memory-hungry.
        self._event_batches: list[_RawBatch | list[ReceivedEvent]] = []
        self._events: list[ReceivedEvent] = []
        self._batches_decoded = 0
        self._event_count = 0
        self._faults: list[Fault] = []
        # (organization, user, placement) -> {slot id: last ACTIVATE time}
        self._activations: dict[tuple[str, str, str], dict[str, datetime]] = {}
        # files
        self._store = ObjectStore()
        self._file_settings = (max_upload_bytes, process_files)
        self._reset_file_settings()

    # ------------------------------------------------------------------ public API

    def make_app(self) -> web.Application:
        """A fresh aiohttp application serving this emulator's state."""
        from ._app import build_app

        return build_app(self)

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._requests.clear()
            self._token_requests.clear()
            self._event_batches.clear()
            self._events.clear()
            self._batches_decoded = 0
            self._event_count = 0
            self._faults.clear()
            self._activations.clear()
            self.token_ttl = self._initial_token_ttl
        self._store.clear()
        self._reset_file_settings()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def token_requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._token_requests)

    @property
    def attribution_events(self) -> list[ReceivedEvent]:
        with self._lock:
            for batch in self._event_batches[self._batches_decoded :]:
                self._events.extend(batch.events() if isinstance(batch, _RawBatch) else batch)
            self._batches_decoded = len(self._event_batches)
            return list(self._events)

    @property
    def received_files(self) -> list[ReceivedFile]:
        """Daily transaction files stored (by upload URL, in the order first received)."""
        return self._store.files

    def on_file_processed(self, file: ReceivedFile) -> None:
        """Called once a received file has been checked and recorded. A no-op: override it
        (or assign a function) to observe files. This is where the emulator will send the
        ``fileProcessingResult`` webhook Kard sends once it has processed a file."""

    def _reset_file_settings(self) -> None:
        self.upload_url_ttl = 900.0
        self.download_url_ttl = 1800.0
        self.clock_skew = 0.0
        self.max_upload_bytes, self.process_files = self._file_settings

    @property
    def attribution_event_count(self) -> int:
        """``len(attribution_events)`` without decoding anything (cheap for benchmarks)."""
        with self._lock:
            return self._event_count

    # ------------------------------------------------------------------ used by the app

    def _record_request(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)

    def _record_token_request(self, record: TokenRequest) -> None:
        with self._lock:
            self._token_requests.append(record)

    def _record_events(self, events: list[ReceivedEvent]) -> None:
        with self._lock:
            self._event_batches.append(events)
            self._event_count += len(events)

    def _record_attribution_body(
        self, organization_id: str, user_id: str, job_id: str, body: bytes, count: int
    ) -> None:
        """Record a validated ``POST .../attributions`` body holding ``count`` events."""
        with self._lock:
            self._event_batches.append(_RawBatch(organization_id, user_id, job_id, body))
            self._event_count += count

    def _issue_token(self, organization_id: str) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            ttl = self.token_ttl
            self._tokens[token] = (organization_id, time.monotonic() + ttl)
        # Rounded down: the advertised lifetime never exceeds the real one.
        return token, max(0, math.floor(ttl))

    def _token_organization(self, token: str) -> str | None:
        """The organization a live token belongs to, or None if unknown/expired/revoked."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            if time.monotonic() >= entry[1]:
                del self._tokens[token]
                return None
            return entry[0]

    def _select_fault(self, method: str, path: str) -> tuple[Fault | None, float]:
        """The non-latency fault that fires for a request (if any) and the total delay."""
        if not self._faults:  # fast path; a racy read only delays a new fault by one request
            return None, 0.0
        chosen: Fault | None = None
        delay = 0.0
        with self._lock:
            for fault in self._faults:
                if fault.kind == "latency":
                    if fault._try_fire(method, path):
                        delay += fault.delay
                elif chosen is None and fault._try_fire(method, path):
                    chosen = fault
        return chosen, delay

    def _activate_slot(self, key: tuple[str, str, str], slot_id: str, when: datetime) -> None:
        with self._lock:
            self._activations.setdefault(key, {})[slot_id] = when

    def _slot_activations(self, key: tuple[str, str, str]) -> dict[str, datetime]:
        with self._lock:
            return dict(self._activations.get(key, {}))
