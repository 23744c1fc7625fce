"""Seeded reconciliation files (API reference §10): what ``files/metadata`` lists and the
object store serves.

For each of the last 45 days an approved and a settled daily file (covering the day
before), and a monthly file for each of the last 3 months, dated relative to the day (UTC)
the emulator starts. Their content is gzipped JSONL, made up (Kard does not document the
report format) but deterministic: one reconciled transaction per line.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

DAYS = 45
MONTHS = 3
_TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
_MERCHANTS = ("Golden Crust Pizza", "Blue Mile Fuel", "Circuit Depot", "Taqueria Sol")


@dataclass(frozen=True)
class SeedFile:
    id: str
    type: str
    file_name: str
    sent_at: datetime
    last_modified: datetime
    period_start: datetime | None
    period_end: datetime | None
    rows: int


def _id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:27]


def _daily(kind: str, label: str, day: datetime, hour: int) -> SeedFile:
    covered = day - timedelta(days=1)
    sent = day + timedelta(hours=hour)
    return SeedFile(
        id=_id("file", kind, f"{covered:%Y-%m-%d}"),
        type=kind,
        file_name=f"{label}-{covered:%Y-%m-%d}.jsonl.gz",
        sent_at=sent,
        last_modified=sent + timedelta(minutes=5),
        period_start=covered,
        period_end=day - timedelta(seconds=1),
        rows=40 + int(_id(kind, f"{covered}"), 16) % 200,
    )


def _monthly(months_back: int) -> SeedFile:
    first = _TODAY.replace(day=1)
    for _ in range(months_back):
        first = (first - timedelta(days=1)).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    sent = first + timedelta(days=1, hours=8)
    return SeedFile(
        id=_id("file", "monthly", f"{previous:%Y-%m}"),
        type="monthlyReconciliationFile",
        file_name=f"monthly-reconciliation-{previous:%Y-%m}.jsonl.gz",
        sent_at=sent,
        last_modified=sent + timedelta(minutes=30),
        period_start=previous,
        period_end=first - timedelta(seconds=1),
        rows=20_000,
    )


def _build() -> tuple[SeedFile, ...]:
    files = [
        daily
        for back in range(DAYS)
        for daily in (
            _daily(
                "earnedRewardApprovedDailyReconciliationFile",
                "earned-reward-approved",
                _TODAY - timedelta(days=back),
                6,
            ),
            _daily(
                "earnedRewardSettledDailyReconciliationFile",
                "earned-reward-settled",
                _TODAY - timedelta(days=back),
                7,
            ),
        )
    ]
    files += [_monthly(back) for back in range(MONTHS)]
    return tuple(sorted(files, key=lambda f: (f.sent_at, f.id)))


FILES: tuple[SeedFile, ...] = _build()
FILES_BY_ID: dict[str, SeedFile] = {f.id: f for f in FILES}


@functools.lru_cache(maxsize=8)
def _content(file_id: str) -> bytes:
    file = FILES_BY_ID[file_id]
    rng = random.Random(file.id)
    status = "APPROVED" if "Approved" in file.type else "SETTLED"
    start = file.period_start or file.sent_at
    lines = []
    for n in range(file.rows):
        amount = rng.randint(100, 25_000)
        lines.append(
            json.dumps(
                {
                    "transactionId": f"txn-{file.id[:8]}-{n:06d}",
                    "userId": f"user-{rng.randint(1, 5_000):05d}",
                    "merchantName": rng.choice(_MERCHANTS),
                    "transactionAmountInCents": amount,
                    "commissionInCents": amount * rng.randint(1, 10) // 100,
                    "status": status,
                    "transactionTimestamp": (start + timedelta(seconds=n * 7)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                },
                separators=(",", ":"),
            )
        )
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def report_content(key: tuple[str, ...]) -> bytes | None:
    """The bytes of the object ``("reports", file id, file name)``, or None."""
    if len(key) != 3 or key[0] != "reports":
        return None
    file = FILES_BY_ID.get(key[1])
    if file is None or file.file_name != key[2]:
        return None
    return _content(file.id)
