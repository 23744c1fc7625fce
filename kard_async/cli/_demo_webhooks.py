"""The demo's webhook act: a local receiver is subscribed, the user buys at an offer's
merchant, and the reward's notifications are delivered to it, signed, and verified there.
The bundled emulator stands in for Kard."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import aiohttp
import msgspec
from aiohttp import web

from .. import AsyncKard
from ..models import (
    Merchant,
    Notification,
    NotificationType,
    Offer,
    SubscriptionRequest,
    Transaction,
)
from ..webhooks import SIGNATURE_HEADER, aiohttp_handler
from ._output import Column, Output
from ._webhooks import details

if TYPE_CHECKING:
    from ..testing import KardEmulator

EVENTS: tuple[NotificationType, ...] = ("earnedRewardApproved", "earnedRewardSettled")
PURCHASE_CENTS = 4_250
TIMEOUT = 10.0
COLUMNS = (Column("type"), Column("id", no_wrap=True), Column("user"), Column("details"))


async def webhook_act(
    out: Output, kard: AsyncKard, emulator: KardEmulator, user: str, offer: Offer
) -> bool:
    out.heading(f'5. Webhooks: {user} buys at "{offer.name}" and is told of the reward')
    received: asyncio.Queue[Notification] = asyncio.Queue()
    app = web.Application()
    app.router.add_post("/kard/webhooks", aiohttp_handler(emulator.webhook_key, received.put))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/kard/webhooks"
        out.note('app.router.add_post("/kard/webhooks", aiohttp_handler(webhook_key, on_event))')
        out.note(
            "await kard.notifications.subscriptions.create([SubscriptionRequest("
            f'event_name="earnedRewardSettled", webhook_url="{url}"), ...])'
        )
        await kard.notifications.subscriptions.create(
            [SubscriptionRequest(event_name=name, webhook_url=url) for name in EVENTS]
        )
        out.line(f"A receiver on {url} is subscribed to {' and '.join(EVENTS)}.")

        out.note(
            f'await kard.transactions.create([Transaction(user_id="{user}", status="APPROVED", '
            f'amount={PURCHASE_CENTS}, merchant=Merchant(name="{offer.name}"), ...)]), '
            'then the same purchase with status="SETTLED"'
        )
        for transaction in _purchase(user, offer):
            await kard.transactions.create([transaction])
        out.note(
            "The purchase is at a merchant with an offer: the emulator, standing in for Kard, "
            "rewards it and notifies each step, signed (HMAC-SHA256 with the webhook key, in "
            "notify-signature); aiohttp_handler verifies it, parses it and calls on_event."
        )
        events = [await asyncio.wait_for(received.get(), TIMEOUT) for _ in EVENTS]
        rows = [[e.type, e.id, getattr(e, "user_id", None) or "", details(e)] for e in events]
        out.table(COLUMNS, rows)

        settled = emulator.notifications[-1]
        status = await _forged(url, settled.body, settled.signature)
        out.line(
            f"Both arrived with a valid signature. The settled one again, its commission "
            f"raised and its signature kept, was refused: HTTP {status}."
        )
        return status == 401 and sorted(e.type for e in events) == sorted(EVENTS)
    finally:
        await runner.cleanup()


def _purchase(user: str, offer: Offer) -> tuple[Transaction, Transaction]:
    """The user's card purchase at the offer's merchant: approved, then settled."""
    now = datetime.now(timezone.utc)
    purchase = str(uuid.uuid4())
    approved = Transaction(
        id=f"{purchase}-approved",
        user_id=user,
        transaction_id=purchase,
        status="APPROVED",
        amount=PURCHASE_CENTS,
        currency="USD",
        description=f"POS PURCHASE {offer.name.upper()}",
        direction="DEBIT",
        card_bin="411111",
        card_last_four="1111",
        authorization_date=now,
        merchant=Merchant(name=offer.name),
    )
    settled = msgspec.structs.replace(
        approved, id=f"{purchase}-settled", status="SETTLED", settled_date=now
    )
    return approved, settled


async def _forged(url: str, body: bytes, signature: str) -> int:
    document = json.loads(body)
    document["data"]["attributes"]["commissionEarned"]["value"] *= 100
    forged = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {SIGNATURE_HEADER: signature}
    # The handler logs each refusal on the kard_async logger: not news here.
    with _quiet(logging.getLogger("kard_async")):
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=forged, headers=headers) as response,
        ):
            return response.status


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
