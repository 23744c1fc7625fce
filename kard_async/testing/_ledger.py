"""The emulator's transaction state: transactions received, fraud markers, earned rewards.

Accepted transaction bodies are kept as raw bytes (with the positions accepted) and decoded
only when a test reads them, as attribution bodies are: a benchmark streams a million.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import msgspec

from ._records import ReceivedFraudMarker, ReceivedTransaction


class _RawTransactions:
    __slots__ = ("body", "job_id", "organization_id", "positions")

    def __init__(
        self, organization_id: str, job_id: str, body: bytes, positions: tuple[int, ...]
    ) -> None:
        self.organization_id = organization_id
        self.job_id = job_id
        self.body = body
        self.positions = positions

    def decode(self) -> list[ReceivedTransaction]:
        data = msgspec.json.decode(self.body)["data"]
        return [
            ReceivedTransaction(
                self.organization_id,
                self.job_id,
                data[n]["type"],
                data[n]["id"],
                data[n]["attributes"],
            )
            for n in self.positions
        ]


class Ledger:
    """Thread-safe; the emulator holds one and clears it on ``reset()``.

    Rewards are wire-shaped documents keyed ``(organization, user) -> transactionId``: one
    row per purchase, approved first, replaced by its settled row.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, set[str]] = {}  # organization -> transaction resource ids
        self._batches: list[_RawTransactions] = []
        self._decoded: list[ReceivedTransaction] = []
        self._batches_decoded = 0
        self._count = 0
        self._fraud: dict[tuple[str, str], ReceivedFraudMarker] = {}
        self._rewards: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()
            self._batches.clear()
            self._decoded.clear()
            self._batches_decoded = 0
            self._count = 0
            self._fraud.clear()
            self._rewards.clear()

    # --- transactions ---

    def claim(self, organization_id: str, ids: Iterable[str]) -> set[str]:
        """Take ``ids`` for new transactions; return those already received before."""
        with self._lock:
            known = self._ids.setdefault(organization_id, set())
            taken = {id_ for id_ in ids if id_ in known}
            known.update(ids)
            return taken

    def record(
        self, organization_id: str, job_id: str, body: bytes, positions: tuple[int, ...]
    ) -> None:
        """Keep the accepted items (``positions`` of ``data``) of a transactions body."""
        with self._lock:
            self._batches.append(_RawTransactions(organization_id, job_id, body, positions))
            self._count += len(positions)

    @property
    def transactions(self) -> list[ReceivedTransaction]:
        with self._lock:
            for batch in self._batches[self._batches_decoded :]:
                self._decoded.extend(batch.decode())
            self._batches_decoded = len(self._batches)
            return list(self._decoded)

    @property
    def transaction_count(self) -> int:
        with self._lock:
            return self._count

    # --- fraud markers ---

    def flag(self, markers: Iterable[ReceivedFraudMarker]) -> None:
        with self._lock:
            for marker in markers:
                self._fraud.setdefault((marker.organization_id, marker.transaction_id), marker)

    def is_flagged(self, organization_id: str, transaction_id: str) -> bool:
        with self._lock:
            return (organization_id, transaction_id) in self._fraud

    @property
    def fraud_markers(self) -> list[ReceivedFraudMarker]:
        with self._lock:
            return list(self._fraud.values())

    # --- earned rewards ---

    def put_reward(
        self, organization_id: str, user_id: str, transaction_id: str, reward: dict[str, Any]
    ) -> bool:
        """Store the reward row of a purchase, unless it would replace a settled row with an
        approved one or the transaction is flagged as fraud. True when the purchase earned
        a reward in a new state (approved, or settled): what is notified, once."""
        with self._lock:
            if (organization_id, transaction_id) in self._fraud:
                return False
            rows = self._rewards.setdefault((organization_id, user_id), {})
            old = rows.get(transaction_id)
            if old is not None and old["type"] == "rewardedTransaction" != reward["type"]:
                return False
            rows[transaction_id] = reward
            return old is None or old["type"] != reward["type"]

    def drop_approved(self, organization_id: str, user_id: str, transaction_id: str) -> None:
        """A purchase reversed or declined before it settled earns nothing."""
        with self._lock:
            rows = self._rewards.get((organization_id, user_id), {})
            row = rows.get(transaction_id)
            if row is not None and row["type"] == "approvedTransaction":
                del rows[transaction_id]

    def rewards(self, organization_id: str, user_id: str) -> list[dict[str, Any]]:
        """The user's reward rows, fraud-flagged purchases left out (shared: read-only)."""
        with self._lock:
            rows = self._rewards.get((organization_id, user_id), {})
            return [
                row
                for transaction_id, row in rows.items()
                if (organization_id, transaction_id) not in self._fraud
            ]

    def pay(self, organization_id: str, user_id: str | None, paid_at: str) -> int:
        """Mark settled rewards paid in full (of one user, or all); how many changed."""
        changed = 0
        with self._lock:
            for (organization, user), rows in self._rewards.items():
                if organization != organization_id or user_id not in (None, user):
                    continue
                for transaction_id, row in rows.items():
                    attributes = row["attributes"]
                    if row["type"] != "rewardedTransaction" or (
                        attributes["paidToIssuer"] == "PAID_IN_FULL"
                    ):
                        continue
                    rows[transaction_id] = {
                        **row,
                        "attributes": {
                            **attributes,
                            "paidToIssuer": "PAID_IN_FULL",
                            "payoutTimestamp": paid_at,
                        },
                    }
                    changed += 1
        return changed
