"""Daily transaction files as part of ``kard.transactions``: real ``Transaction`` /
``CoreTransaction`` models written as file lines, a line accepted exactly when
``POST .../transactions`` accepts the item, the ``fileProcessingResult`` notification with
its result file, and the blocking twins."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest
from conftest import Inbox
from yarl import URL

from kard_async import AsyncKard, Kard
from kard_async.models import (
    CoreTransaction,
    FileProcessingResult,
    Merchant,
    Transaction,
)
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    KardEmulator,
)

WHEN = datetime(2025, 1, 31, 12, 0, tzinfo=timezone.utc)
STATUSES = ("APPROVED", "SETTLED", "REVERSED", "RETURNED", "DECLINED")
DATE_OF = {"APPROVED": "authorization_date", "SETTLED": "settled_date"}


def model(n: int) -> Transaction | CoreTransaction:
    """Transaction ``n``: each status with the date it requires, every sixth a core one."""
    common: dict[str, Any] = {
        "id": f"txn-{n:04d}",
        "user_id": f"user-{n % 3}",
        "transaction_id": f"purchase-{n:04d}",
        "amount": 1_000 + n,
        "currency": "USD",
        "description": f"purchase {n}",
        "direction": "DEBIT",
    }
    if n % 6 == 5:
        return CoreTransaction(
            **common, settled_date=WHEN, authorization_date=WHEN, card_last_fours=("4242",)
        )
    status = STATUSES[n % 5]
    return Transaction(
        **common,
        status=status,
        card_bin="411111",
        card_last_four="4242",
        mcc="5812",
        merchant=Merchant(name="Corner Cafe", addr_state="PA", latitude="39.95"),
        **{DATE_OF.get(status, "transaction_date"): WHEN},
    )


async def test_models_are_written_as_the_bytes_post_transactions_sends(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    items = [model(n) for n in range(60)]
    result = await kard.transactions.upload_file(items, compress=False, filename="models.jsonl")
    # Each line is the item POST /transactions sends for the model (to_json() is to_wire()).
    sent = b"".join(item.to_json() + b"\n" for item in items)
    assert [json.loads(line) for line in sent.splitlines()] == [m.to_wire() for m in items]
    (stored,) = kard_emulator.received_files
    assert stored.sha256 == hashlib.sha256(sent).hexdigest()
    assert (result.lines, stored.lines_accepted, stored.lines_rejected) == (60, 60, 0)
    assert list(stored.transaction_ids or ()) == [item.id for item in items]
    # The transactions handler accepts the same models.
    created = await kard.transactions.create(items)
    assert created.ok
    assert [t.id for t in kard_emulator.transactions] == [item.id for item in items]


async def test_an_async_iterable_of_models_is_gzipped_on_the_fly(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    async def todays_transactions() -> AsyncIterator[Transaction | CoreTransaction]:
        for n in range(1_000):
            yield model(n)

    result = await kard.transactions.upload_file(
        todays_transactions(), filename="daily-2025-01-31.jsonl.gz", kind="historical"
    )
    (part,) = result.parts
    assert (part.filename, part.upload_type, part.lines) == (
        "daily-2025-01-31.jsonl.gz",
        "historicalTransactionsFile",
        1_000,
    )
    (stored,) = kard_emulator.received_files
    assert stored.gzip
    assert (stored.lines_accepted, stored.lines_rejected) == (1_000, 0)
    assert list(stored.transaction_ids or ()) == [f"txn-{n:04d}" for n in range(1_000)]


def _set(**attributes: Any) -> Any:
    def change(item: dict[str, Any]) -> None:
        item["attributes"].update(attributes)

    return change


def _drop(name: str) -> Any:
    def change(item: dict[str, Any]) -> None:
        del item["attributes"][name]

    return change


# Items the client's line writer lets through (its check is structural), each refused or
# not by the server's own rules; applied to model(n)'s wire form.
CHANGES: list[tuple[int, Any]] = [
    (0, lambda item: None),
    (1, _set(status="PENDING")),
    (1, _set(amount=10.5)),
    (2, _set(cardBIN="41111")),
    (1, _drop("settledDate")),
    (3, _set(currency="U$D")),
    (4, lambda item: item["attributes"]["merchant"].update(addrState="ZZ")),
    (5, _set(status="APPROVED")),  # a core transaction
    (5, lambda item: None),
    (0, lambda item: item.update(type="historicalTransaction")),
    (2, _set(amount=-1, cardLastFour="42")),  # two problems: both named
    (3, _set(loyaltyTier="gold")),  # an attribute this version does not know
    (1, lambda item: None),
]


async def test_a_line_is_refused_exactly_when_post_transactions_refuses_the_item(
    kard: AsyncKard, kard_server: EmulatorServer
) -> None:
    items = []
    for position, (n, change) in enumerate(CHANGES):
        item = copy.deepcopy(model(n).to_wire())
        item["id"] = f"item-{position}"
        change(item)
        items.append(item)
    await kard.transactions.upload_file(items, filename="mixed.jsonl.gz")
    (stored,) = kard_server.emulator.received_files

    url = f"{kard_server.base_url}/v2/issuers/{TEST_ORGANIZATION_ID}/transactions"
    headers = {"Authorization": f"Bearer {await kard.auth.token()}"}
    refused = {}
    async with aiohttp.ClientSession() as session:
        for line, item in enumerate(items, start=1):
            async with session.post(url, json={"data": [item]}, headers=headers) as response:
                document = await response.json()
            if response.status != 201:
                assert response.status == 400, document
                refused[line] = "; ".join(error["detail"] for error in document["errors"])
    assert sorted(refused) == [2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert dict(stored.rejections) == refused
    assert (stored.lines_accepted, stored.lines_rejected) == (4, 9)
    assert "cardLastFour" in refused[11]
    assert "amount" in refused[11]


async def test_a_processed_file_is_notified_with_its_result(
    kard: AsyncKard, kard_emulator: KardEmulator, webhook_inbox: Inbox
) -> None:
    await webhook_inbox.subscribe(kard, "fileProcessingResult")
    bad = model(1).to_wire()
    bad["attributes"]["amount"] = -1
    result = await kard.transactions.upload_file(
        [model(0), bad, model(2)], filename="daily.jsonl.gz"
    )

    notification = await webhook_inbox.next()
    assert isinstance(notification, FileProcessingResult)
    attributes = notification.attributes
    assert attributes.file_name == "daily.jsonl.gz"
    assert attributes.sent_at == attributes.last_modified
    assert datetime.fromisoformat(attributes.sent_at.replace("Z", "+00:00")).tzinfo is not None
    (emitted,) = kard_emulator.notifications
    assert (emitted.event_name, emitted.id) == ("fileProcessingResult", notification.id)

    async with (
        aiohttp.ClientSession() as session,
        session.get(URL(attributes.download_url, encoded=True)) as response,
    ):
        assert response.status == 200
        body = await response.read()
    summary, *rejected = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    (stored,) = kard_emulator.received_files
    assert summary == {
        "fileName": "daily.jsonl.gz",
        "uploadId": result.ids[0],
        "linesAccepted": 2,
        "linesRejected": 1,
        "error": None,
    }
    assert rejected == [{"line": 2, "reason": stored.rejections[0][1]}]
    assert "amount" in rejected[0]["reason"]


async def test_without_subscribers_the_notification_is_only_recorded(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.transactions.upload_file([model(0)], filename="quiet.jsonl.gz")
    (emitted,) = kard_emulator.notifications
    assert emitted.event_name == "fileProcessingResult"
    assert emitted.subscription_ids == ()
    assert json.loads(emitted.body)["data"]["attributes"]["fileName"] == "quiet.jsonl.gz"


@pytest.mark.parametrize("source", ["models", "path"])
def test_the_blocking_client_uploads_through_transactions(
    kard_server: EmulatorServer, tmp_path: Any, source: str
) -> None:
    items = [model(n) for n in range(10)]
    path = tmp_path / "daily.jsonl"
    path.write_bytes(b"".join(item.to_json() + b"\n" for item in items))
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        (url,) = kard.transactions.upload_urls([("spare.jsonl.gz", "incoming")])
        result = kard.transactions.upload_file(items if source == "models" else path)
    assert url.expires_in == 900
    assert result.lines == 10
    (stored,) = kard_server.emulator.received_files
    assert stored.lines_accepted == 10
    assert stored.filename.endswith(".jsonl.gz")
