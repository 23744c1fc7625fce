"""The demo's webhook act: a local receiver is subscribed, a reward notification is delivered
to it, signed, and verified there. The bundled emulator stands in for Kard."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .. import AsyncKard
from ..models import Notification, NotificationType, Offer, SubscriptionRequest
from ..webhooks import SIGNATURE_HEADER, aiohttp_handler
from ._output import Column, Output
from ._render import reward_text
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

        # Until the emulator rewards the transactions it receives, it is asked directly.
        for name, attributes in _reward(offer):
            emulator.notify(name, attributes, relationships=_relationships(user, offer))
        out.note(
            "The emulator, standing in for Kard, signs each notification (HMAC-SHA256 with the "
            "webhook key, in notify-signature) and POSTs it; aiohttp_handler verifies it, "
            "parses it and calls on_event."
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


def _reward(offer: Offer) -> list[tuple[str, dict[str, Any]]]:
    reward = offer.attributes.user_reward
    if reward is not None and reward.type == "FLAT":
        cents = int(reward.value)
    else:
        cents = round(PURCHASE_CENTS * (reward.value if reward is not None else 1.0) / 100)
    transaction_id = str(uuid.uuid4())
    earned = {
        "message": f"You earned {reward_text(offer)} back at {offer.name}",
        "name": offer.name,
        "attributionUrl": f"https://rewards.example/attribution/{transaction_id}",
        "transactionId": transaction_id,
        "transactionAmountInCents": PURCHASE_CENTS,
        "purchaseChannel": list(offer.attributes.purchase_channel),
    }
    if reward is not None:
        earned["userReward"] = {"type": reward.type, "value": reward.value}
    settled = {**earned, "commissionEarned": {"type": "cents", "value": cents}}
    return [("earnedRewardApproved", earned), ("earnedRewardSettled", settled)]


def _relationships(user: str, offer: Offer) -> dict[str, Any]:
    return {
        "user": {"data": {"type": "user", "id": user}},
        "offer": {"data": {"type": "standardOffer", "id": offer.id}},
    }


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
