"""Synthetic attribution events for the demo: many users, a realistic mix, reproducible."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from ..models import (
    AttributionEvent,
    AttributionFilter,
    AttributionState,
    NotificationAttribution,
    OfferAttribution,
)

# (type, eventCode, weight): mostly offers seen in lists, some opened, a few activated.
_KINDS: tuple[tuple[str, str, int], ...] = (
    ("offerAttribution", "IMPRESSION", 60),
    ("offerAttribution", "VIEW", 22),
    ("offerAttribution", "ACTIVATE", 4),
    ("offerAttribution", "BOOST", 1),
    ("notificationAttribution", "IMPRESSION", 9),
    ("notificationAttribution", "VIEW", 4),
)
_OFFER_MEDIUMS = (("BROWSE", 40), ("SEARCH", 25), ("MAP", 20), ("EMAIL", 10), ("PUSH", 5))
_NOTIFICATION_MEDIUMS = (("PUSH", 70), ("EMAIL", 30))
_FILTERS = ("Food & Beverage", "Gas", "Travel", "Health & Beauty", "Pets")
_WINDOW = timedelta(days=7)


def _picker(rng: random.Random, choices: Sequence[tuple[str, float]]) -> Iterator[str]:
    values = [value for value, _ in choices]
    weights = list(itertools.accumulate(weight for _, weight in choices))
    while True:
        yield from rng.choices(values, cum_weights=weights, k=1024)


def synthetic_events(
    count: int,
    *,
    users: int,
    offer_ids: Sequence[str],
    now: datetime,
    seed: int = 2025,
    mix: Counter[tuple[str, str]] | None = None,
) -> Iterator[tuple[str, AttributionEvent]]:
    """``count`` ``(user_id, event)`` pairs over the last week, lazily. User activity is
    long-tailed (a few users send many events); ``mix`` counts (type, eventCode) pairs."""
    rng = random.Random(seed)
    user_ids = [f"demo-user-{n:05d}" for n in range(1, users + 1)]
    pick_user = _picker(rng, [(user, 1.0 / rank**0.9) for rank, user in enumerate(user_ids, 1)])
    pick_kind = _picker(rng, [(f"{t} {c}", w) for t, c, w in _KINDS])
    pick_offer_medium = _picker(rng, _OFFER_MEDIUMS)
    pick_notification_medium = _picker(rng, _NOTIFICATION_MEDIUMS)
    notifications = [f"notification-{n:03d}" for n in range(1, 41)]
    for _ in range(count):
        kind, code = next(pick_kind).split()
        when = (now - rng.random() * _WINDOW).replace(microsecond=0)
        event: AttributionEvent
        if kind == "notificationAttribution":
            event = NotificationAttribution(
                entity_id=rng.choice(notifications),
                event_code=code,  # type: ignore[arg-type]
                medium=next(pick_notification_medium),  # type: ignore[arg-type]
                event_date=when,
            )
        else:
            medium = "CTA" if code in ("ACTIVATE", "BOOST") else next(pick_offer_medium)
            state = None
            if medium in ("BROWSE", "SEARCH", "MAP"):
                filters = None
                if medium == "BROWSE" and rng.random() < 0.3:
                    filters = (AttributionFilter(name="category", value=rng.choice(_FILTERS)),)
                state = AttributionState(rank=rng.randint(1, 20), filters=filters)
            event = OfferAttribution(
                entity_id=rng.choice(offer_ids),
                event_code=code,  # type: ignore[arg-type]
                medium=medium,  # type: ignore[arg-type]
                event_date=when,
                state=state,
            )
        if mix is not None:
            mix[kind, code] += 1
        yield next(pick_user), event
