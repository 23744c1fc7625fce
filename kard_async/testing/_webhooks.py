"""Notification subscriptions, and signed deliveries of notifications to them (§8, §13, §16).

A notification is signed the way Kard signs it (base64 HMAC-SHA256 of the exact body bytes,
sent as ``notify-signature``) and POSTed in the background to every enabled subscription of
its type. Deliveries run on the event loop of the app serving the emulator, never in the
request that triggered them; a failure or a non-2xx answer is retried with exponential
backoff, and every attempt is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from ._jsonapi import ApiError, error_object
from ._records import DeliveryAttempt, EmittedNotification

SIGNATURE_HEADER = "notify-signature"
ISSUER_NAME = "Kard Emulator Bank"
"""``meta.issuerName`` of every notification (``meta.issuerId`` is the organization id)."""

logger = logging.getLogger("kard_async.testing")
_encode = msgspec.json.Encoder().encode  # compact, non-ASCII as UTF-8: like JSON.stringify


def sign(body: bytes, key: str) -> str:
    """The ``notify-signature`` of ``body``: base64 HMAC-SHA256 under the webhook key."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the emulator delivers: ``attempts`` POSTs at most (the first one included),
    waiting ``base_delay`` seconds after the first failure and twice as long after each
    next one, at most ``max_delay``; a POST without an answer in ``timeout`` seconds fails.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"attempts must be an integer, got {self.attempts!r}")
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ValueError("delays must satisfy 0 <= base_delay <= max_delay")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got {self.timeout!r}")

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (counting from 1)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class _Delivery:
    notification: EmittedNotification
    subscription_id: str
    url: str
    policy: DeliveryPolicy
    generation: int


class _Sender:
    """The event loop and HTTP session of one running app; deliveries are its tasks."""

    def __init__(self, loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
        self.loop = loop
        self.session = session
        self.tasks: dict[asyncio.Task[None], int] = {}  # task -> generation


def _resource(subscription_id: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "subscription", "id": subscription_id, "attributes": dict(attributes)}


class Webhooks:
    """The emulator's webhook state; safe to use from any thread.

    ``reset()`` starts a new generation: deliveries of the previous one are cancelled and
    whatever they were about to record is dropped, so one test's slow retries never show up
    in the next test's records.
    """

    def __init__(self, max_records: int | None = None) -> None:
        self._lock = threading.Lock()
        self._subscriptions: dict[str, dict[str, dict[str, Any]]] = {}  # org -> id -> attrs
        self._notifications: deque[EmittedNotification] = deque(maxlen=max_records)
        self._attempts: deque[DeliveryAttempt] = deque(maxlen=max_records)
        self._pending = 0
        self._generation = 0
        self._sender: _Sender | None = None

    # ------------------------------------------------------------------ subscriptions

    def subscriptions(self, organization_id: str, event_name: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                _resource(subscription_id, attributes)
                for subscription_id, attributes in self._subscriptions.get(
                    organization_id, {}
                ).items()
                if event_name is None or attributes["eventName"] == event_name
            ]

    def create(self, organization_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add validated subscriptions, all or none: 409 if an event type is taken."""
        with self._lock:
            existing = self._subscriptions.setdefault(organization_id, {})
            taken = {attributes["eventName"]: id_ for id_, attributes in existing.items()}
            first: dict[str, int] = {}
            errors: list[dict[str, Any]] = []
            for index, attributes in enumerate(items):
                name = attributes["eventName"]
                if name in taken:
                    detail = (
                        f"a subscription for eventName {name!r} already exists "
                        f"(id {taken[name]!r}); change it with PATCH"
                    )
                elif name in first:
                    detail = f"eventName {name!r} is also in /data/{first[name]}: one per type"
                else:
                    first[name] = index
                    continue
                pointer = f"/data/{index}/attributes/eventName"
                errors.append(error_object(409, detail, pointer=pointer))
            if errors:
                raise ApiError(409, errors=errors)
            created = []
            for attributes in items:
                subscription_id = str(uuid.uuid4())
                existing[subscription_id] = dict(attributes)
                created.append(_resource(subscription_id, attributes))
            return created

    def update(
        self, organization_id: str, subscription_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            existing = self._subscriptions.get(organization_id, {})
            current = existing.get(subscription_id)
            if current is None:
                raise ApiError(404, f"subscription {subscription_id!r} does not exist")
            name = changes.get("eventName")
            other = next(
                (
                    id_
                    for id_, attributes in existing.items()
                    if attributes["eventName"] == name and id_ != subscription_id
                ),
                None,
            )
            if other is not None:
                raise ApiError(
                    409,
                    f"subscription {other!r} already has eventName {name!r}",
                    pointer="/data/attributes/eventName",
                )
            current.update(changes)
            return _resource(subscription_id, current)

    # ------------------------------------------------------------------ notifications

    def notify(
        self,
        organization_id: str,
        event_name: str,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any] | None,
        notification_id: str | None,
        key: str,
        policy: DeliveryPolicy,
    ) -> EmittedNotification:
        data: dict[str, Any] = {
            "type": event_name,
            "id": notification_id or str(uuid.uuid4()),
            "attributes": attributes,
        }
        if relationships is not None:
            data["relationships"] = relationships
        meta = {"issuerId": organization_id, "issuerName": ISSUER_NAME}
        body = _encode({"data": data, "meta": meta})
        with self._lock:
            targets = [
                (id_, subscription["webhookUrl"])
                for id_, subscription in self._subscriptions.get(organization_id, {}).items()
                if subscription["enabled"] and subscription["eventName"] == event_name
            ]
            sender = self._sender
            if targets and sender is None:
                raise RuntimeError(
                    "the emulator is not being served, so it cannot deliver notifications: "
                    "start an EmulatorServer (or serve make_app()) first"
                )
            notification = EmittedNotification(
                organization_id,
                event_name,
                data["id"],
                body,
                sign(body, key),
                tuple(id_ for id_, _ in targets),
            )
            self._notifications.append(notification)
            self._pending += len(targets)
            deliveries = [
                _Delivery(notification, id_, url, policy, self._generation) for id_, url in targets
            ]
        for delivery in deliveries:
            assert sender is not None  # there are deliveries only when there is a sender
            sender.loop.call_soon_threadsafe(self._start, sender, delivery)
        return notification

    @property
    def notifications(self) -> list[EmittedNotification]:
        with self._lock:
            return list(self._notifications)

    @property
    def attempts(self) -> list[DeliveryAttempt]:
        with self._lock:
            return list(self._attempts)

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._pending = 0
            self._subscriptions.clear()
            self._notifications.clear()
            self._attempts.clear()
            sender = self._sender
        if sender is not None:
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: nothing runs
                sender.loop.call_soon_threadsafe(self._cancel_stale, sender)

    # ------------------------------------------------------------------ delivering

    async def serve(self, app: web.Application) -> AsyncIterator[None]:
        """The app's cleanup context: deliveries run on its loop while it serves."""
        session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        sender = _Sender(asyncio.get_running_loop(), session)
        with self._lock:
            self._sender = sender
        try:
            yield
        finally:
            with self._lock:
                if self._sender is sender:
                    self._sender = None
            for task in sender.tasks:
                task.cancel()
            await asyncio.gather(*sender.tasks, return_exceptions=True)
            await session.close()

    def _start(self, sender: _Sender, delivery: _Delivery) -> None:
        with self._lock:
            current = delivery.generation == self._generation
            if current and self._sender is not sender:  # the app stopped first
                self._pending -= 1
            if not current or self._sender is not sender:
                return
        task = sender.loop.create_task(self._deliver(sender.session, delivery))
        sender.tasks[task] = delivery.generation

        def done(task: asyncio.Task[None]) -> None:
            sender.tasks.pop(task, None)
            with self._lock:
                if delivery.generation == self._generation:
                    self._pending -= 1
            if not task.cancelled() and task.exception() is not None:
                logger.error("webhook delivery failed", exc_info=task.exception())

        task.add_done_callback(done)

    def _cancel_stale(self, sender: _Sender) -> None:
        for task, generation in list(sender.tasks.items()):
            if generation != self._generation:
                task.cancel()

    async def _deliver(self, session: aiohttp.ClientSession, delivery: _Delivery) -> None:
        notification, policy = delivery.notification, delivery.policy
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: notification.signature,
            "User-Agent": "kard-async-emulator",
        }
        timeout = aiohttp.ClientTimeout(total=policy.timeout)
        for attempt in range(1, policy.attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                async with session.post(
                    delivery.url,
                    data=notification.body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,  # a webhook answers itself; a redirect is a failure
                ) as response:
                    status = response.status
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            record = DeliveryAttempt(
                notification.id,
                notification.event_name,
                delivery.subscription_id,
                delivery.url,
                attempt,
                status,
                error,
            )
            with self._lock:
                if delivery.generation != self._generation:
                    return
                self._attempts.append(record)
            logger.info(
                "webhook %s %s -> %s: %s (attempt %d of %d)",
                notification.event_name,
                notification.id,
                delivery.url,
                status if status is not None else error,
                attempt,
                policy.attempts,
            )
            if record.delivered:
                return
            if attempt < policy.attempts:
                await asyncio.sleep(policy.delay(attempt))
