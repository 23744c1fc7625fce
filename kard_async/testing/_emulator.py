"""``KardEmulator``: all mutable state (tokens, records, faults, activations, users, audits)."""

from __future__ import annotations

import asyncio
import copy
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec

from ._constants import (
    MAX_UPLOAD_BYTES,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    TEST_WEBHOOK_KEY,
)
from ._faults import Fault
from ._jsonapi import format_datetime
from ._ledger import Ledger
from ._organizations import Organizations
from ._records import (
    DeliveryAttempt,
    EmittedNotification,
    ReceivedAudit,
    ReceivedEvent,
    ReceivedFile,
    ReceivedFraudMarker,
    ReceivedTransaction,
    RecordedRequest,
    TokenRequest,
)
from ._storage import ObjectStore
from ._webhooks import DeliveryPolicy, Webhooks

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
    ``requests`` (and ``notifications`` and ``deliveries``) to the most recent N (default:
    keep everything), for long benchmark runs.

    Notifications are signed with ``webhook_key`` and delivered as ``delivery_policy``
    says (both settable at any time; ``reset()`` restores them): see :meth:`notify`.

    ``network_blocked``: set it to a message and ``GET /v2/ping`` answers HTTP 403 with it,
    as Kard does for a network it refuses (``reset()`` clears it).

    Users enrolled with ``POST .../users`` are kept (``users``). Other endpoints serve any
    user id, enrolled or not, unless ``strict_users`` is set (at any time, like
    ``token_ttl``): then those that document a 404 (rewards, audits) answer it for a user
    never enrolled.

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
        webhook_key: str = TEST_WEBHOOK_KEY,
        delivery_policy: DeliveryPolicy | None = None,
        strict_users: bool = False,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        process_files: bool = True,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.organization_id = organization_id
        self.token_ttl = token_ttl
        self._initial_token_ttl = token_ttl
        self.strict_users = strict_users
        self._initial_strict_users = strict_users
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
        self.webhook_key = webhook_key
        self.delivery_policy = delivery_policy or DeliveryPolicy()
        self._initial_webhooks = (self.webhook_key, self.delivery_policy)
        self._webhooks = Webhooks(max_recorded_requests)
        self._organizations = Organizations(organization_id)
        self.network_blocked: str | None = None
        self._users: dict[tuple[str, str], dict[str, Any]] = {}  # (org, user) -> attributes
        self._audits: list[ReceivedAudit] = []
        self._audited: set[tuple[str, str, str]] = set()  # (org, user, transaction id)
        self._web_view_tokens: dict[str, tuple[str, str]] = {}  # token -> (org, user)
        self._ledger = Ledger()  # transactions, fraud markers, earned rewards
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
            self._users.clear()
            self._audits.clear()
            self._audited.clear()
            self._web_view_tokens.clear()
            self.strict_users = self._initial_strict_users
            self._organizations.reset(self.organization_id)
            self.network_blocked = None
            self._ledger.clear()
            self.token_ttl = self._initial_token_ttl
            self.webhook_key, self.delivery_policy = self._initial_webhooks
        self._webhooks.reset()
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
        """Daily transaction files stored (by upload URL, in the order first received).
        Each is answered as Kard does: a ``fileProcessingResult`` notification whose
        ``downloadUrl`` serves the file's result (a summary and its rejected lines)."""
        return self._store.files

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

    # ------------------------------------------------------------------ notifications

    def notify(
        self,
        event_name: str,
        attributes: Mapping[str, Any],
        *,
        relationships: Mapping[str, Any] | None = None,
        notification_id: str | None = None,
        organization_id: str | None = None,
    ) -> EmittedNotification:
        """Emit a notification, as Kard does when a reward is earned, an audit changes, ...

        The body is ``{"data": {"type": event_name, "id", "attributes", "relationships"},
        "meta": {"issuerId", "issuerName"}}`` as compact JSON, signed with ``webhook_key``.
        It is POSTed in the background to every enabled subscription of ``event_name`` of
        the organization (default: this emulator's), retried with backoff on a failure or a
        non-2xx answer; this call returns at once. ``notification_id`` is ``data.id``
        (default: a new UUID). Any type may be sent, including ones no client knows yet.
        Raises RuntimeError if a subscription wants it but the emulator is not being served.
        """
        if not isinstance(event_name, str) or not event_name:
            raise ValueError(f"event_name must be a non-empty string, got {event_name!r}")
        return self._webhooks.notify(
            organization_id or self.organization_id,
            event_name,
            attributes,
            relationships,
            notification_id,
            self.webhook_key,
            self.delivery_policy,
        )

    @property
    def notifications(self) -> list[EmittedNotification]:
        """Every notification emitted since the last reset, oldest first."""
        return self._webhooks.notifications

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every delivery attempt since the last reset, in the order they ended."""
        return self._webhooks.attempts

    @property
    def pending_deliveries(self) -> int:
        """Deliveries (one per notification and subscription) not finished yet, retries
        and waits between them included."""
        return self._webhooks.pending

    async def wait_for_deliveries(self, timeout: float = 10.0) -> list[DeliveryAttempt]:
        """Wait (on any event loop) until no delivery is pending; return :attr:`deliveries`.

        Raises TimeoutError after ``timeout`` seconds. Polls: a receiver served by the
        awaiting loop keeps running meanwhile.
        """
        deadline = time.monotonic() + timeout
        while self._webhooks.pending:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self._webhooks.pending} deliveries still pending after {timeout} s"
                )
            await asyncio.sleep(0.01)
        return self._webhooks.attempts

    @property
    def users(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Enrolled users: ``(organization id, user id) -> attributes`` (wire names)."""
        with self._lock:
            return copy.deepcopy(self._users)

    def enroll_user(
        self,
        user_id: str,
        attributes: dict[str, Any] | None = None,
        *,
        organization_id: str | None = None,
    ) -> None:
        """Enroll a user directly (test setup), as ``POST .../users`` would."""
        key = (organization_id or self.organization_id, user_id)
        with self._lock:
            self._users[key] = copy.deepcopy(attributes or {"enrolledRewards": ["CARDLINKED"]})

    @property
    def audits(self) -> list[ReceivedAudit]:
        with self._lock:
            return list(self._audits)

    def web_view_token_owner(self, token: str) -> tuple[str, str] | None:
        """``(organization id, user id)`` of a WebView token this emulator issued."""
        with self._lock:
            return self._web_view_tokens.get(token)

    @property
    def transactions(self) -> list[ReceivedTransaction]:
        """Every transaction accepted, in the order received."""
        return self._ledger.transactions

    @property
    def transaction_count(self) -> int:
        """``len(transactions)`` without decoding anything (cheap for benchmarks)."""
        return self._ledger.transaction_count

    @property
    def fraud_markers(self) -> list[ReceivedFraudMarker]:
        return self._ledger.fraud_markers

    def pay_rewards(self, user_id: str | None = None, *, organization_id: str | None = None) -> int:
        """Mark the settled rewards of a user (or of everyone) paid in full to the issuer,
        as Kard's monthly payout does; returns how many changed."""
        now = format_datetime(datetime.now(timezone.utc))
        return self._ledger.pay(organization_id or self.organization_id, user_id, now)

    # ------------------------------------------------------------------ used by the app

    def _enroll(self, organization_id: str, user_id: str, attributes: dict[str, Any]) -> bool:
        """Enroll a new user; False if the id is already enrolled."""
        with self._lock:
            if (organization_id, user_id) in self._users:
                return False
            self._users[organization_id, user_id] = attributes
            return True

    def _user(self, organization_id: str, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._users.get((organization_id, user_id))
            return copy.deepcopy(found) if found is not None else None

    def _is_enrolled(self, organization_id: str, user_id: str) -> bool:
        with self._lock:
            return (organization_id, user_id) in self._users

    def _replace_user(self, organization_id: str, user_id: str, attributes: dict[str, Any]) -> bool:
        """Store ``attributes`` for an enrolled user; False if it is not enrolled."""
        with self._lock:
            if (organization_id, user_id) not in self._users:
                return False
            self._users[organization_id, user_id] = attributes
            return True

    def _delete_user(self, organization_id: str, user_id: str) -> bool:
        with self._lock:
            return self._users.pop((organization_id, user_id), None) is not None

    def _open_audit(self, audit: ReceivedAudit) -> bool:
        """Record an audit; False if one is already open for its transaction."""
        key = (audit.organization_id, audit.user_id, audit.attributes["transactionId"])
        with self._lock:
            if key in self._audited:
                return False
            self._audited.add(key)
            self._audits.append(audit)
            return True

    def _issue_web_view_token(self, organization_id: str, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._web_view_tokens[token] = (organization_id, user_id)
        return token

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
