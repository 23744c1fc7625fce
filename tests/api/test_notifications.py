"""Notification subscriptions against the emulator (§8), and the emulator's signed deliveries
to a real aiohttp receiver on 127.0.0.1 (``kard_async.webhooks.aiohttp_handler``)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kard_async import AsyncKard, ConflictError, InvalidParameterError, Kard, NotFoundError
from kard_async.models import (
    AuditUpdate,
    EarnedRewardSettled,
    Notification,
    Subscription,
    SubscriptionRequest,
    UnknownNotification,
)
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    TEST_WEBHOOK_KEY,
    DeliveryPolicy,
    EmulatorServer,
    Fault,
    KardEmulator,
    serve,
)
from kard_async.webhooks import SIGNATURE_HEADER, aiohttp_handler, verify_signature

SUBSCRIPTIONS = f"/v2/issuers/{TEST_ORGANIZATION_ID}/subscriptions"
FAST = DeliveryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, timeout=5.0)

SETTLED = {
    "message": "You earned $0.72 at Harbor Burger",
    "name": "Harbor Burger",
    "attributionUrl": "https://api.getkard.com/v2/attribution/abc",
    "transactionId": "txn-1",
    "transactionAmountInCents": 3000,
    "transactionTimestamp": "2025-03-01T12:00:00Z",
    "userReward": {"type": "PERCENT", "value": 2.4},
    "purchaseChannel": ["INSTORE"],
    "commissionEarned": {"type": "cents", "value": 72},
}
EARNED_RELATIONSHIPS = {
    "user": {"data": {"type": "user", "id": "user-1"}},
    "offer": {"data": {"type": "offer", "id": "offer-1"}},
    "transaction": {"data": {"type": "transaction", "id": "txn-1"}},
}
AUDIT = {
    "status": "NEW",
    "auditCode": 3006,
    "merchantName": "Harbor Burger",
    "auditDescription": "cashback missing",
    "transactionId": "txn-1",
}


def requests_to(emulator: KardEmulator, method: str) -> list[Any]:
    return [r for r in emulator.requests if r.method == method and r.path.startswith(SUBSCRIPTIONS)]


# --------------------------------------------------------------------------- a receiver


@dataclass
class Received:
    """One POST as the receiver got it (``body`` only when the receiver keeps raw bodies)."""

    signature: str | None
    body: bytes | None = None


@dataclass
class Receiver:
    """An aiohttp app on 127.0.0.1 receiving on ``url``."""

    url: str
    raw: list[Received] = field(default_factory=list)
    events: asyncio.Queue[Notification] = field(default_factory=asyncio.Queue)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a POST arrives."""

    async def next_event(self, timeout: float = 10.0) -> Notification:
        return await asyncio.wait_for(self.events.get(), timeout)


Serve = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def receiver() -> AsyncIterator[Serve]:
    """``await receiver(key=..., answers=[500, ...])``: a receiver whose first answers are
    forced (a status, or ``"hang"``), after which ``aiohttp_handler`` answers, or with
    ``keep_bodies=True`` a plain handler keeping each raw body answers 200."""
    runners: list[web.AppRunner] = []

    async def start(
        key: str = TEST_WEBHOOK_KEY, answers: tuple[int | str, ...] = (), keep_bodies: bool = False
    ) -> Receiver:
        forced = list(answers)
        events: asyncio.Queue[Notification] = asyncio.Queue()
        verify = aiohttp_handler(key, events.put_nowait)
        raw: list[Received] = []
        arrived = asyncio.Event()

        async def handle(request: web.Request) -> web.StreamResponse:
            received = Received(request.headers.get(SIGNATURE_HEADER))
            raw.append(received)
            arrived.set()
            if forced:
                answer = forced.pop(0)
                if answer == "hang":
                    await asyncio.Event().wait()
                return web.Response(status=int(answer), text="forced\n")
            if keep_bodies:  # aiohttp_handler reads the body itself: it can be read once
                received.body = await request.read()
                return web.Response(text="ok\n")
            return await verify(request)

        app = web.Application()
        app.router.add_post("/kard", handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return Receiver(f"http://127.0.0.1:{runner.addresses[0][1]}/kard", raw, events, arrived)

    yield start
    for runner in runners:
        await runner.cleanup()


async def subscribe(kard: AsyncKard, event_name: str, url: str, enabled: bool = True) -> str:
    (created,) = await kard.notifications.subscriptions.create(
        [SubscriptionRequest(event_name=event_name, webhook_url=url, enabled=enabled)]
    )
    return created.id


# --------------------------------------------------------------------------- subscriptions


async def test_create_list_and_filter(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    created = await kard.notifications.subscriptions.create(
        [
            SubscriptionRequest(
                event_name="earnedRewardSettled", webhook_url="https://bank.example/kard"
            ),
            {"eventName": "auditUpdate", "webhookUrl": "https://bank.example/a", "enabled": False},
        ]
    )
    assert [type(s) for s in created] == [Subscription, Subscription]
    assert [(s.event_name, s.webhook_url, s.enabled) for s in created] == [
        ("earnedRewardSettled", "https://bank.example/kard", True),
        ("auditUpdate", "https://bank.example/a", False),
    ]
    assert len({s.id for s in created}) == 2
    assert all(s.type == "subscription" for s in created)
    (post,) = requests_to(kard_emulator, "POST")
    assert json.loads(post.body) == {
        "data": [
            {
                "type": "subscription",
                "attributes": {
                    "eventName": "earnedRewardSettled",
                    "webhookUrl": "https://bank.example/kard",
                    "enabled": True,
                },
            },
            {
                "type": "subscription",
                "attributes": {
                    "eventName": "auditUpdate",
                    "webhookUrl": "https://bank.example/a",
                    "enabled": False,
                },
            },
        ]
    }

    assert await kard.notifications.subscriptions.list() == created
    assert await kard.notifications.subscriptions.list("auditUpdate") == created[1:]
    assert await kard.notifications.subscriptions.list(event_name="earnedRewardRejected") == []
    queries = [r.query_string for r in requests_to(kard_emulator, "GET")]
    assert queries == [
        "",
        "filter[eventName]=auditUpdate",
        "filter[eventName]=earnedRewardRejected",
    ]


async def test_update_sends_only_what_changes(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    subscription_id = await subscribe(kard, "auditUpdate", "https://bank.example/a")
    paused = await kard.notifications.subscriptions.update(subscription_id, enabled=False)
    assert (paused.id, paused.event_name, paused.enabled) == (subscription_id, "auditUpdate", False)
    moved = await kard.notifications.subscriptions.update(
        subscription_id, webhook_url="https://bank.example/b", event_name="fileProcessingResult"
    )
    assert (moved.event_name, moved.webhook_url, moved.enabled) == (
        "fileProcessingResult",
        "https://bank.example/b",
        False,
    )
    patches = requests_to(kard_emulator, "PATCH")
    assert [r.path for r in patches] == [f"{SUBSCRIPTIONS}/{subscription_id}"] * 2
    assert [json.loads(r.body) for r in patches] == [
        {"data": {"type": "subscription", "attributes": {"enabled": False}}},
        {
            "data": {
                "type": "subscription",
                "attributes": {
                    "eventName": "fileProcessingResult",
                    "webhookUrl": "https://bank.example/b",
                },
            }
        },
    ]
    assert await kard.notifications.subscriptions.list() == [moved]


async def test_a_taken_event_type_is_a_409_and_nothing_is_created(kard: AsyncKard) -> None:
    first = await subscribe(kard, "auditUpdate", "https://bank.example/a")
    with pytest.raises(ConflictError) as caught:
        await kard.notifications.subscriptions.create(
            [
                SubscriptionRequest(
                    event_name="earnedRewardSettled", webhook_url="https://b.example/"
                ),
                SubscriptionRequest(event_name="auditUpdate", webhook_url="https://b.example/"),
            ]
        )
    error = caught.value
    assert error.status == 409
    (item,) = error.errors
    assert item.source is not None
    assert item.source.pointer == "/data/1/attributes/eventName"
    assert "auditUpdate" in str(item.detail)
    assert first in str(item.detail)
    assert [s.event_name for s in await kard.notifications.subscriptions.list()] == ["auditUpdate"]


async def test_updating_to_a_taken_event_type_is_a_409(kard: AsyncKard) -> None:
    await subscribe(kard, "auditUpdate", "https://bank.example/a")
    other = await subscribe(kard, "fileProcessingResult", "https://bank.example/f")
    with pytest.raises(ConflictError, match="already has eventName 'auditUpdate'"):
        await kard.notifications.subscriptions.update(other, event_name="auditUpdate")


async def test_an_unknown_subscription_is_a_404(kard: AsyncKard) -> None:
    with pytest.raises(NotFoundError) as caught:
        await kard.notifications.subscriptions.update("sub/../404", enabled=True)
    assert caught.value.status == 404
    assert "'sub/../404' does not exist" in str(caught.value)  # the id arrived in one piece


async def test_unknown_event_types_pass_through(kard: AsyncKard) -> None:
    created = await kard.notifications.subscriptions.create(
        [SubscriptionRequest(event_name="cardLinkedReward", webhook_url="https://b.example/")]  # type: ignore[arg-type]
    )
    assert created[0].event_name == "cardLinkedReward"
    assert await kard.notifications.subscriptions.list("cardLinkedReward") == created  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "parameter", "message"),
    [
        (lambda s: s.create([]), "subscriptions", "must not be empty"),
        (lambda s: s.create("auditUpdate"), "subscriptions", "must be a list"),
        (
            lambda s: s.create(
                SubscriptionRequest(event_name="auditUpdate", webhook_url="https://b/")
            ),
            "subscriptions",
            "wrap a single subscription in a list",
        ),
        (
            lambda s: s.create([{"eventName": "auditUpdate"}]),
            "subscriptions[0].webhook_url",
            "is required",
        ),
        (
            lambda s: s.create(
                [{"eventName": "auditUpdate", "webhookUrl": "https://b/", "enabled": "yes"}]
            ),
            "subscriptions[0].enabled",
            "Expected `bool`",
        ),
        (
            lambda s: s.create(
                [
                    {"eventName": "auditUpdate", "webhookUrl": "https://b/"},
                    {"eventName": "auditUpdate", "webhookUrl": "https://c/"},
                ]
            ),
            "subscriptions[1].event_name",
            "is already in subscriptions[0]",
        ),
        (
            lambda s: s.create([42]),
            "subscriptions[0].subscription",
            "must be a SubscriptionRequest",
        ),
        (lambda s: s.list(""), "event_name", "non-empty string"),
        (lambda s: s.update("sub-1"), "event_name", "at least one of event_name, webhook_url"),
        (lambda s: s.update("", enabled=True), "subscription_id", "non-empty string"),
        (lambda s: s.update("sub-1", webhook_url="ftp://b/"), "webhook_url", "http(s) URL"),
        (lambda s: s.update("sub-1", enabled="no"), "enabled", "True or False"),
        (lambda s: s.update("sub-1", event_name=" "), "event_name", "notification type"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    call: Callable[[Any], Awaitable[Any]],
    parameter: str,
    message: str,
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await call(kard.notifications.subscriptions)
    assert caught.value.parameter == parameter
    assert message in str(caught.value)
    assert requests_to(kard_emulator, "POST") == requests_to(kard_emulator, "GET") == []
    assert requests_to(kard_emulator, "PATCH") == []


def test_request_models_are_checked_when_built() -> None:
    with pytest.raises(InvalidParameterError, match="webhook_url='/relative'"):
        SubscriptionRequest(event_name="auditUpdate", webhook_url="/relative")
    with pytest.raises(InvalidParameterError, match="known types: earnedRewardApproved"):
        SubscriptionRequest(event_name="", webhook_url="https://b/")
    request = SubscriptionRequest(event_name="auditUpdate", webhook_url="http://127.0.0.1:9/")
    assert request.enabled is True
    with pytest.raises(AttributeError):
        request.enabled = False  # type: ignore[misc]


async def test_the_emulator_validates_what_the_client_would_refuse(
    kard_server: EmulatorServer,
) -> None:
    """Raw bodies: the emulator's own 400s and 409s, one error per problem."""
    async with aiohttp.ClientSession(kard_server.base_url) as session:
        async with session.post(
            "/v2/auth/token",
            json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
        ) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def send(method: str, path: str, body: Any) -> tuple[int, list[Any]]:
            async with session.request(method, path, json=body, headers=headers) as response:
                return response.status, (await response.json()).get("errors", [])

        status, errors = await send(
            "POST",
            SUBSCRIPTIONS,
            {
                "data": [
                    {"type": "sub", "attributes": {"eventName": "x y", "webhookUrl": "mailto:a"}},
                ]
            },
        )
        assert status == 400
        assert [e["source"]["pointer"] for e in errors] == [
            "/data/0/type",
            "/data/0/attributes/enabled",
            "/data/0/attributes/eventName",
            "/data/0/attributes/webhookUrl",
        ]
        item = {
            "type": "subscription",
            "attributes": {"eventName": "auditUpdate", "webhookUrl": "https://b/", "enabled": True},
        }
        status, errors = await send("POST", SUBSCRIPTIONS, {"data": [item, item]})
        assert status == 409
        assert [e["source"]["pointer"] for e in errors] == ["/data/1/attributes/eventName"]
        status, errors = await send(
            "PATCH", f"{SUBSCRIPTIONS}/x", {"data": {"type": "subscription", "attributes": {}}}
        )
        assert status == 400
        assert "at least one of" in errors[0]["detail"]
        status, errors = await send(
            "GET", f"{SUBSCRIPTIONS}?filter[eventName]=not%20a%20type", None
        )
        assert status == 400
        assert errors[0]["source"]["parameter"] == "filter[eventName]"
        status, _ = await send("DELETE", f"{SUBSCRIPTIONS}/x", None)
        assert status == 405  # no delete endpoint, as in the API


def test_the_blocking_client_mirrors_subscriptions(kard_server: EmulatorServer) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        (created,) = kard.notifications.subscriptions.create(
            [SubscriptionRequest(event_name="auditUpdate", webhook_url="https://b.example/")]
        )
        assert kard.notifications.subscriptions.list() == [created]
        updated = kard.notifications.subscriptions.update(created.id, enabled=False)
        assert updated.enabled is False


# --------------------------------------------------------------------------- deliveries


async def test_the_full_loop_from_delivery_to_the_aiohttp_handler(
    kard: AsyncKard, kard_emulator: KardEmulator, receiver: Serve
) -> None:
    hook = await receiver()
    subscription_id = await subscribe(kard, "earnedRewardSettled", hook.url)
    emitted = kard_emulator.notify(
        "earnedRewardSettled", SETTLED, relationships=EARNED_RELATIONSHIPS, notification_id="n-1"
    )
    event = await hook.next_event()
    assert isinstance(event, EarnedRewardSettled)
    assert (event.id, event.user_id) == ("n-1", "user-1")
    assert event.attributes.commission_earned.value == 72
    assert event.meta is not None
    assert event.meta.issuer_id == TEST_ORGANIZATION_ID
    assert [r.signature for r in hook.raw] == [emitted.signature]

    (attempt,) = await kard_emulator.wait_for_deliveries()
    assert (attempt.subscription_id, attempt.url, attempt.attempt, attempt.status) == (
        subscription_id,
        hook.url,
        1,
        200,
    )
    assert attempt.delivered
    assert attempt.error is None
    assert kard_emulator.notifications == [emitted]
    assert emitted.subscription_ids == (subscription_id,)


async def test_the_exact_bytes_sent_are_compact_json_signed_in_base64(
    kard: AsyncKard, kard_emulator: KardEmulator, receiver: Serve
) -> None:
    hook = await receiver(keep_bodies=True)
    await subscribe(kard, "earnedRewardSettled", hook.url)
    emitted = kard_emulator.notify(
        "earnedRewardSettled", SETTLED, relationships=EARNED_RELATIONSHIPS, notification_id="n-1"
    )
    await kard_emulator.wait_for_deliveries()
    (received,) = hook.raw
    assert received.body == emitted.body
    assert received.body is not None
    assert b": " not in received.body
    assert b", " not in received.body
    expected = hmac.new(TEST_WEBHOOK_KEY.encode(), received.body, hashlib.sha256).digest()
    assert received.signature == emitted.signature == base64.b64encode(expected).decode()
    assert verify_signature(received.body, received.signature, TEST_WEBHOOK_KEY)
    assert json.loads(received.body) == {
        "data": {
            "type": "earnedRewardSettled",
            "id": "n-1",
            "attributes": SETTLED,
            "relationships": EARNED_RELATIONSHIPS,
        },
        "meta": {"issuerId": TEST_ORGANIZATION_ID, "issuerName": "Kard Emulator Bank"},
    }


async def test_only_enabled_subscriptions_of_the_type_and_organization_receive(
    kard: AsyncKard, kard_emulator: KardEmulator, receiver: Serve
) -> None:
    audits, files = await receiver(), await receiver()
    await subscribe(kard, "auditUpdate", audits.url)
    await subscribe(kard, "fileProcessingResult", files.url, enabled=False)
    kard_emulator.notify("fileProcessingResult", {"fileName": "f"})  # disabled: not sent
    kard_emulator.notify("auditUpdate", AUDIT, organization_id="org-other")  # not its org
    kard_emulator.notify("earnedRewardApproved", {})  # nobody subscribed
    emitted = kard_emulator.notify("auditUpdate", AUDIT)
    event = await audits.next_event()
    assert isinstance(event, AuditUpdate)
    assert event.id == emitted.id
    await kard_emulator.wait_for_deliveries()
    assert [len(r.raw) for r in (audits, files)] == [1, 0]
    assert [n.subscription_ids != () for n in kard_emulator.notifications] == [
        False,
        False,
        False,
        True,
    ]
    assert [d.notification_id for d in kard_emulator.deliveries] == [emitted.id]


async def test_failed_deliveries_are_retried_with_backoff_and_recorded(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    receiver: Serve,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="kard_async.testing")
    kard_emulator.delivery_policy = FAST
    hook = await receiver(answers=(500, 404))
    await subscribe(kard, "auditUpdate", hook.url)
    emitted = kard_emulator.notify("auditUpdate", AUDIT)
    event = await hook.next_event()  # verified by aiohttp_handler on the third try
    assert event.id == emitted.id
    attempts = await kard_emulator.wait_for_deliveries()
    assert [(a.attempt, a.status, a.delivered) for a in attempts] == [
        (1, 500, False),
        (2, 404, False),
        (3, 200, True),
    ]
    assert [r.signature for r in hook.raw] == [emitted.signature] * 3
    logged = [r.getMessage() for r in caplog.records if r.name == "kard_async.testing"]
    assert logged == [
        f"webhook auditUpdate {emitted.id} -> {hook.url}: {status} (attempt {n} of 4)"
        for n, status in ((1, 500), (2, 404), (3, 200))
    ]
    assert TEST_WEBHOOK_KEY not in caplog.text


async def test_a_wrong_key_is_refused_by_the_handler_and_retried_until_given_up(
    kard: AsyncKard, kard_emulator: KardEmulator, receiver: Serve
) -> None:
    kard_emulator.delivery_policy = DeliveryPolicy(attempts=3, base_delay=0.01, max_delay=0.01)
    kard_emulator.webhook_key = "the-production-key"
    hook = await receiver(key=TEST_WEBHOOK_KEY)
    await subscribe(kard, "auditUpdate", hook.url)
    kard_emulator.notify("auditUpdate", AUDIT)
    attempts = await kard_emulator.wait_for_deliveries()
    assert [(a.attempt, a.status) for a in attempts] == [(1, 401), (2, 401), (3, 401)]
    assert hook.events.empty()
    assert kard_emulator.pending_deliveries == 0


async def test_an_unreachable_receiver_is_recorded_with_the_error(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.delivery_policy = DeliveryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await subscribe(kard, "auditUpdate", f"http://127.0.0.1:{port}/gone")
    kard_emulator.notify("auditUpdate", AUDIT)
    attempts = await kard_emulator.wait_for_deliveries()
    assert [(a.attempt, a.status, a.delivered) for a in attempts] == [
        (1, None, False),
        (2, None, False),
    ]
    assert all(a.error and "Connect" in a.error for a in attempts)


async def test_delivery_never_blocks_the_trigger_and_reset_cancels_it(
    kard: AsyncKard, kard_emulator: KardEmulator, receiver: Serve
) -> None:
    hook = await receiver(answers=("hang",))
    await subscribe(kard, "auditUpdate", hook.url)
    kard_emulator.notify("auditUpdate", AUDIT)  # returns while the receiver hangs
    assert kard_emulator.pending_deliveries == 1
    await asyncio.wait_for(hook.arrived.wait(), 10)
    assert kard_emulator.deliveries == []
    kard_emulator.reset()
    assert kard_emulator.pending_deliveries == 0
    assert kard_emulator.notifications == []
    assert kard_emulator.deliveries == []
    assert await kard.notifications.subscriptions.list() == []


async def test_unknown_types_are_delivered_and_kept(
    kard: AsyncKard, kard_emulator: KardEmulator, receiver: Serve
) -> None:
    hook = await receiver()
    await subscribe(kard, "cardLinkedReward", hook.url)
    kard_emulator.notify(
        "cardLinkedReward",
        {"amountInCents": 150, "note": "café ☕"},
        relationships={"user": {"data": {"type": "user", "id": "user-9"}}},
    )
    event = await hook.next_event()
    assert isinstance(event, UnknownNotification)
    assert event.type == "cardLinkedReward"
    assert event.attributes == {"amountInCents": 150, "note": "café ☕"}
    assert event.relationships == {"user": {"data": {"type": "user", "id": "user-9"}}}
    (emitted,) = kard_emulator.notifications
    assert "café ☕".encode() in emitted.body  # UTF-8 as is, like JSON.stringify


async def test_notify_without_a_server_to_deliver_from() -> None:
    emulator = KardEmulator()
    emulator.notify("auditUpdate", AUDIT)  # nobody subscribed: recorded, nothing to deliver
    assert [n.event_name for n in emulator.notifications] == ["auditUpdate"]
    with pytest.raises(ValueError, match="event_name"):
        emulator.notify("", {})
    with pytest.raises(ValueError, match="attempts"):
        DeliveryPolicy(attempts=0)


async def test_stopping_the_server_ends_deliveries_in_flight(receiver: Serve) -> None:
    hook = await receiver(answers=("hang",))
    with serve() as server:
        emulator = server.emulator
        async with AsyncKard(
            TEST_CLIENT_ID,
            TEST_CLIENT_SECRET,
            organization_id=TEST_ORGANIZATION_ID,
            base_url=server.base_url,
        ) as kard:
            await subscribe(kard, "auditUpdate", hook.url)
        emulator.notify("auditUpdate", AUDIT)
        await asyncio.wait_for(hook.arrived.wait(), 10)
    assert emulator.pending_deliveries == 0  # cancelled with the app
    assert emulator.deliveries == []
    with pytest.raises(RuntimeError, match="not being served"):
        emulator.notify("auditUpdate", AUDIT)


async def test_answers_from_a_newer_api_still_decode(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="extras", times=None))  # unknown members and resources
    (created,) = await kard.notifications.subscriptions.create(
        [SubscriptionRequest(event_name="auditUpdate", webhook_url="https://b.example/")]
    )
    assert await kard.notifications.subscriptions.list() == [created]
    updated = await kard.notifications.subscriptions.update(created.id, enabled=False)
    assert (updated.id, updated.enabled) == (created.id, False)
