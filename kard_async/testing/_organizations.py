"""Organization management state (§9): for each organization, its child organizations,
content strategies and placements, kept as wire-shaped dicts and seeded on first use."""

from __future__ import annotations

import copy
import itertools
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Wire = dict[str, Any]

_DEFAULT_ATTRIBUTES: Wire = {
    "name": "KARDTESTISSUER",
    "enrolledRewards": ["CARDLINKED", "AFFILIATE"],
    "cardNetworks": ["VISA", "MASTERCARD", "AMERICAN_EXPRESS"],
    "bins": ["411111", "510510"],
    "affiliateCommissionSplit": 50.0,
    "cardlinkedCommissionSplit": 70.0,
    "cardlinkedUserCommissionSplit": 30.0,
}

TRAVEL_STRATEGY = "01961e5a-b74c-7d42-8456-d3a1f2c90e71"
DINING_STRATEGY = "01961e5a-c1d2-7e33-9a4b-5c6d7e8f9a01"
_SEEDED_AT = "2025-10-02T17:52:43.000Z"


def _strategy(name: str, sort: str, included: list[str], excluded: list[str]) -> Wire:
    lists = {"categories": included, "categoryExclusions": excluded, "merchantExclusions": []}
    return {"name": name, "sort": sort, "filters": dict(lists), **lists}


def _slot(slot_id: str, placement_id: str, alias: str, description: str) -> Wire:
    return {
        "id": slot_id,
        "placementId": placement_id,
        "alias": alias,
        "shortDescription": description,
    }


# The placements of the rewards seed (same ids and names), one of each kind.
_SEED_PLACEMENTS: dict[str, Wire] = {
    "placement-1": {
        "type": "placement",
        "attributes": {
            "name": "Home Feed",
            "displayName": "Picked for you",
            "availableSlots": 12,
            "contentStrategyId": DINING_STRATEGY,
        },
    },
    "placement-email-1": {
        "type": "placementEmail",
        "attributes": {
            "name": "Weekly Email",
            "status": "ACTIVE",
            "availableSlots": 10,
            "cadence": {"frequency": "WEEKLY", "timeOfDay": "10:00", "dayOfWeek": "MON"},
            "contentStrategyId": TRAVEL_STRATEGY,
            "createdAt": _SEEDED_AT,
        },
    },
    "placement-push-1": {
        "type": "placementPushNotification",
        "attributes": {
            "name": "Nearby Push",
            "status": "INACTIVE",
            "cadence": {
                "frequency": "MONTHLY",
                "timeOfDay": "17:00",
                "dayOfWeek": "FRI",
                "weekOfMonth": "LAST",
            },
            "createdAt": _SEEDED_AT,
        },
    },
    "placement-batch-1": {
        "type": "placementBatchActivation",
        "attributes": {"name": "Weekly Picks", "refreshInterval": "P7D"},
        "slots": [
            _slot("slot-1", "placement-1", "dining-deals", "Dining Deals"),
            _slot("slot-2", "placement-email-1", "fuel-savings", "Fuel Savings"),
            _slot("slot-3", "placement-1", "getaways", "Getaways"),
        ],
    },
    "placement-group-1": {
        "type": "placementGroup",
        "attributes": {"name": "Everyday Essentials"},
        "slots": [
            _slot("group-slot-1", "placement-1", "groceries", "Groceries & Snacks"),
            _slot("group-slot-2", "placement-push-1", "pet-care", "Pet Care"),
        ],
    },
}

_SEED_STRATEGIES: dict[str, Wire] = {
    TRAVEL_STRATEGY: _strategy("Featured Travel", "HIGHEST_CASHBACK", ["Travel"], ["Gas"]),
    DINING_STRATEGY: _strategy(
        "Everyday Dining", "NEWLY_LIVE", ["Food & Beverage", "Convenience"], []
    ),
}
_SEED_STRATEGIES[TRAVEL_STRATEGY]["filters"]["offerFeatures"] = ["INTERACTIVE"]

_SEED_CHILDREN: dict[str, Wire] = {
    "10000001": {"name": "Acme Child Bank", "externalId": "acme-1", "bins": ["411111"]},
    "10000002": {"name": "Northwind Credit Union", "bins": ["411111", "510510"]},
}


@dataclass
class Organization:
    """One organization's managed resources (what the handlers read and change)."""

    id: str
    attributes: Wire
    children: dict[str, Wire] = field(default_factory=dict)
    strategies: dict[str, Wire] = field(default_factory=dict)
    placements: dict[str, Wire] = field(default_factory=dict)


def new_uuid7() -> str:
    """A UUID version 7 (time-ordered), as Kard's ids are."""
    millis = time.time_ns() // 1_000_000
    rand = secrets.randbits(74)
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62)
    return str(uuid.UUID(int=value | (rand & ((1 << 62) - 1))))


class Organizations:
    """Every organization the emulator knows: the default one and the children made (and
    seeded) under it. Thread-safe: handlers and tests use ``open()``."""

    def __init__(self, default_id: str) -> None:
        self._lock = threading.Lock()
        self._default_id = default_id
        self._orgs: dict[str, Organization] = {}
        self._child_ids = itertools.count(10000003)

    def reset(self, default_id: str) -> None:
        with self._lock:
            self._default_id = default_id
            self._orgs.clear()
            self._child_ids = itertools.count(10000003)

    @contextmanager
    def open(self, organization_id: str) -> Iterator[Organization | None]:
        """The organization (seeded on first use), or None if the emulator has never heard
        of it; held under the lock until the block ends."""
        with self._lock:
            yield self._get(organization_id)

    def new_child_id(self) -> str:
        with self._lock:
            while True:
                candidate = str(next(self._child_ids))
                if not any(candidate in org.children for org in self._orgs.values()):
                    return candidate

    def _get(self, organization_id: str) -> Organization | None:
        org = self._orgs.get(organization_id)
        if org is not None:
            return org
        if organization_id == self._default_id:
            attributes = copy.deepcopy(_DEFAULT_ATTRIBUTES)
        else:
            child = self._child(organization_id)
            if child is None:
                return None
            attributes = child
        org = self._orgs[organization_id] = Organization(
            organization_id,
            attributes,
            children=copy.deepcopy(_SEED_CHILDREN) if organization_id == self._default_id else {},
            strategies=copy.deepcopy(_SEED_STRATEGIES),
            placements=copy.deepcopy(_SEED_PLACEMENTS),
        )
        return org

    def _child(self, child_id: str) -> Wire | None:
        """A child's organization attributes (the rest inherited from its parent)."""
        parents = [self._get(self._default_id), *self._orgs.values()]
        for parent in parents:
            if parent is not None and child_id in parent.children:
                child = parent.children[child_id]
                bins = child.get("bins") or parent.attributes["bins"]
                return {
                    **copy.deepcopy(parent.attributes),
                    "name": re.sub(r"[^A-Z0-9]", "", child["name"].upper()),
                    "bins": list(bins),
                }
        return None
