"""Measure 5: receive one webhook (signed bytes in, typed notification out), one variant per
process.

The body is a realistic ``earnedRewardSettled`` notification (every documented attribute,
two signed asset URLs, ~1.4 KB), compact JSON as Kard sends it.

Variants:

``ours``
    ``kard_async.webhooks.construct_event(body, signature, key)``: verify the base64
    HMAC-SHA256 of the raw bytes in constant time, then decode into ``EarnedRewardSettled``.
``official``
    The official SDK has no webhook helper, so this is its parse path alone (no signature
    check): ``json.loads(body)``, then
    ``kard.core.pydantic_utilities.parse_obj_as(NotificationPayload, ...)``, what the SDK
    runs to turn any JSON body into one of its models.
``pydantic``
    The official SDK's models validated directly, ``NotificationPayload.model_validate(
    json.loads(body))``: what a user who skips the SDK's own path could write (for scale).

Events are timed in batches (so the clock's own cost stays out); the result is the median
batch's rate. The garbage collector stays enabled, as in a real program.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ._common import Skip, WorkerArgs, median, worker_main

VARIANTS = ("ours", "official", "pydantic")
KEY = "whsec-benchmark-key"
NOTIFICATION_ID = "d80a6f28-1b24-4d65-9e42-e1cf3379bc98"
_ASSET = (
    "https://cdn.getkard.com/merchants/6283f2d5e5a1b6ebbf7e4f36/{kind}.png?attribution="
    "eyJ1c2VySWQiOiIxMjM0NTY3ODkwIiwib2ZmZXJJZCI6IjEyMzA5MTIzODc5IiwiaXNzdWVyIjoiYmFuayJ9"
)
PAYLOAD: dict[str, Any] = {
    "data": {
        "type": "earnedRewardSettled",
        "id": NOTIFICATION_ID,
        "attributes": {
            "message": "You have earned a 72 cent reward on your transaction at McDonald's",
            "name": "McDonald's",
            "commissionEarned": {"type": "cents", "value": 72},
            "attributionUrl": "https://api.getkard.com/v2/attribution/"
            "eyJub3RpZmljYXRpb25JZCI6ImQ4MGE2ZjI4LTFiMjQtNGQ2NS05ZTQyLWUxY2YzMzc5YmM5OCJ9",
            "surveyUrl": "https://survey.getkard.com/s/12309123879?user=1234567890",
            "cardProductId": "card_product_123",
            "transactionTimestamp": "2024-10-01T14:32:10.000Z",
            "transactionId": "019df940-babd-7cd3-acfc-a96de16643e9",
            "transactionAmountInCents": 3000,
            "categoryName": "Food & Beverage",
            "userReward": {"type": "PERCENT", "value": 2.4},
            "assets": [
                {"type": "IMG_VIEW", "url": _ASSET.format(kind="logo"), "alt": "McDonald's"},
                {"type": "BANNER_VIEW", "url": _ASSET.format(kind="banner")},
            ],
            "purchaseChannel": ["ONLINE", "INSTORE"],
        },
        "relationships": {
            "user": {"data": {"type": "user", "id": "1234567890"}},
            "offer": {"data": {"type": "offer", "id": "12309123879"}},
            "transaction": {"data": {"type": "transaction", "id": "0987654321"}},
        },
    },
    "meta": {"issuerId": "6283f2d5e5a1b6ebbf7e4f35", "issuerName": "Example Bank"},
}


def settled_body() -> bytes:
    """The payload as Kard sends it: compact JSON (``JSON.stringify``), UTF-8."""
    return json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False).encode()


def receiver(variant: str, body: bytes) -> Callable[[bytes], Any]:
    """What ``variant`` runs for each incoming body; its result has ``.data.id`` or ``.id``."""
    if variant == "ours":
        from kard_async.webhooks import construct_event, sign

        signature = sign(body, KEY)
        return lambda received: construct_event(received, signature, KEY)
    if variant in ("official", "pydantic"):
        try:
            from kard.core.pydantic_utilities import parse_obj_as
            from kard.notifications import NotificationPayload
        except ImportError as error:
            raise Skip("kard-financial-sdk is not installed (pip install -e '.[bench]')") from error
        if variant == "pydantic":
            return lambda received: NotificationPayload.model_validate(json.loads(received))
        return lambda received: parse_obj_as(
            type_=NotificationPayload, object_=json.loads(received)
        )
    raise ValueError(f"unknown webhook variant {variant!r}; choose from {VARIANTS}")


def notification_id(result: Any) -> str:
    data = getattr(result, "data", result)
    return str(data.id)


def measure(
    receive: Callable[[bytes], Any], body: bytes, *, duration: float, min_events: int
) -> tuple[int, list[float]]:
    """(events, rates): batches of back-to-back calls for ``duration`` s and at least
    ``min_events`` calls, after a warm-up; each batch's events/s."""
    for _ in range(20):
        receive(body)
    batch = 50
    rates: list[float] = []
    events = 0
    perf = time.perf_counter
    stop = perf() + duration
    while perf() < stop or events < min_events:
        t0 = perf()
        for _ in range(batch):
            receive(body)
        rates.append(batch / (perf() - t0))
        events += batch
    return events, rates


def run(args: WorkerArgs) -> dict[str, Any]:
    variant = args.variant or "ours"
    body = settled_body()
    receive = receiver(variant, body)
    if notification_id(receive(body)) != NOTIFICATION_ID:
        raise RuntimeError(f"webhook {variant}: the notification id did not come through")
    events, rates = measure(receive, body, duration=args.duration, min_events=args.min_requests)
    rate = median(rates)
    return {
        "variant": variant,
        "events": events,
        "body_bytes": len(body),
        "events_per_s": rate,
        "us_per_event": 1e6 / rate,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.webhook", measures=("webhook",), run=run)


if __name__ == "__main__":
    sys.exit(main())
