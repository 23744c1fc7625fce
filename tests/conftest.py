# The emulator fixtures (kard_server, kard_emulator) come from kard_async's pytest plugin,
# registered through its pytest11 entry point when the package is installed
# (`pip install -e .`), as the README's test command does.


# --- async core fixtures (test_client*, test_auth, test_retries, test_errors, ...) ---
import asyncio
import collections.abc
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from kard_async import AsyncKard, RetryPolicy
from kard_async.models import Notification, NotificationType, SubscriptionRequest
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    DeliveryPolicy,
    EmulatorServer,
    KardEmulator,
)
from kard_async.webhooks import aiohttp_handler

FAST_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
async def make_kard(
    kard_server: EmulatorServer,
) -> collections.abc.AsyncIterator[collections.abc.Callable[..., AsyncKard]]:
    """Build AsyncKard clients against the emulator (fast retries); all closed afterwards."""
    clients: list[AsyncKard] = []

    def make(**overrides: Any) -> AsyncKard:
        settings: dict[str, Any] = {
            "client_id": TEST_CLIENT_ID,
            "client_secret": TEST_CLIENT_SECRET,
            "organization_id": TEST_ORGANIZATION_ID,
            "base_url": kard_server.base_url,
            "retry_policy": FAST_RETRIES,
        }
        settings.update(overrides)
        client = AsyncKard(**settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def kard(make_kard: collections.abc.Callable[..., AsyncKard]) -> AsyncKard:
    """An AsyncKard talking to the emulator, with tiny retry delays."""
    return make_kard()


# --- end of async core fixtures ---


# --- a webhook receiver for the emulator's notification triggers (tests/api/) ---


@dataclass
class Inbox:
    """An aiohttp app on 127.0.0.1 at ``url`` that verifies each notification's signature
    (``aiohttp_handler`` with the emulator's webhook key) and queues it."""

    url: str
    events: asyncio.Queue[Notification]

    async def subscribe(self, kard: AsyncKard, *event_names: NotificationType) -> None:
        await kard.notifications.subscriptions.create(
            [SubscriptionRequest(event_name=name, webhook_url=self.url) for name in event_names]
        )

    async def next(self, timeout: float = 10.0) -> Notification:
        return await asyncio.wait_for(self.events.get(), timeout)


@pytest.fixture
async def webhook_inbox(kard_emulator: KardEmulator) -> collections.abc.AsyncIterator[Inbox]:
    kard_emulator.delivery_policy = DeliveryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
    events: asyncio.Queue[Notification] = asyncio.Queue()
    app = web.Application()
    app.router.add_post("/kard", aiohttp_handler(kard_emulator.webhook_key, events.put_nowait))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield Inbox(f"http://127.0.0.1:{runner.addresses[0][1]}/kard", events)
    finally:
        await runner.cleanup()
