"""Transactions, fraud markers and earned rewards against the emulator (§7.1, §7.2, §7.5)."""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import msgspec
import pytest
from aiohttp import web
from conftest import Inbox

from kard_async import (
    AsyncKard,
    BadRequestError,
    ConflictError,
    InvalidParameterError,
    Kard,
    MultiStatusError,
)
from kard_async.bulk import BulkReport
from kard_async.models import (
    ApprovedTransaction,
    CoreTransaction,
    EarnedRewardApproved,
    EarnedRewardSettled,
    FraudMarker,
    Merchant,
    ProcessorMids,
    RewardedTransaction,
    RewardMerchant,
    RewardOffer,
    Transaction,
    VisaMids,
)
from kard_async.models.transactions import as_fraud_marker, as_transaction, encode_transactions
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

USER = "user-7"
CHICKEN = "Worlds Greatest Chicken"  # the seed offer: 5.7%, reward capped at $20.00
RECENTLY = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
DATES = {
    "APPROVED": {"authorization_date": RECENTLY},
    "SETTLED": {"authorization_date": RECENTLY, "settled_date": RECENTLY + timedelta(days=1)},
}


def txn(
    n: int | str,
    status: str = "APPROVED",
    *,
    user: str = USER,
    merchant: Any = CHICKEN,
    amount: int = 1500,
    **fields: Any,
) -> Transaction:
    settings: dict[str, Any] = {
        "id": f"evt-{n}-{status}",
        "user_id": user,
        "transaction_id": f"txn-{n}",
        "status": status,
        "amount": amount,
        "currency": "USD",
        "description": "CARD PURCHASE",
        "direction": "DEBIT",
        "card_bin": "411111",
        "card_last_four": "1111",
        **DATES.get(status, {"transaction_date": RECENTLY}),
    }
    if merchant is not None:  # a merchant's name, or what to pass as merchant=
        settings["merchant"] = Merchant(name=merchant) if isinstance(merchant, str) else merchant
    settings.update(fields)
    return Transaction(**settings)


def core(n: int, **fields: Any) -> CoreTransaction:
    settings: dict[str, Any] = {
        "id": f"core-{n}",
        "user_id": USER,
        "transaction_id": f"core-txn-{n}",
        "amount": 2500,
        "currency": "USD",
        "description": "ACH DEBIT",
        "direction": "DEBIT",
        "settled_date": RECENTLY,
        "authorization_date": RECENTLY,
    }
    settings.update(fields)
    return CoreTransaction(**settings)


def posts(emulator: KardEmulator, suffix: str) -> int:
    return sum(1 for r in emulator.requests if r.method == "POST" and r.path.endswith(suffix))


# --------------------------------------------------------------------------- models


def test_a_transaction_is_checked_when_built() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 12.5}, "amount"),
        ({"amount": -100}, "amount"),
        ({"amount": True}, "amount"),
        ({"subtotal": 9.99}, "subtotal"),
        ({"currency": "US"}, "currency"),
        ({"currency": "U$D"}, "currency"),
        ({"card_bin": "4111 11"}, "card_bin"),
        ({"card_bin": "41111111"}, "card_bin"),
        ({"card_last_four": "111"}, "card_last_four"),
        ({"authorization_date": datetime(2025, 1, 1)}, "authorization_date"),
        ({"authorization_date": None}, "authorization_date"),
        ({"user_id": " "}, "user_id"),
        ({"id": ""}, "id"),
        ({"description": None}, "description"),
        ({"mcc": 5812}, "mcc"),
        ({"merchant": {"name": "X", "latitude": 39.9}}, "merchant.latitude"),
        ({"merchant": {"addrCity": "Philadelphia"}}, "merchant.name"),
        ({"merchant": 42}, "merchant"),
    ]
    for change, parameter in cases:
        with pytest.raises(InvalidParameterError) as caught:
            txn(1, **change)
        assert caught.value.parameter == parameter, change
    with pytest.raises(InvalidParameterError, match="never rounded"):
        txn(1, amount=12.34)
    with pytest.raises(InvalidParameterError, match="first 6 digits"):
        txn(1, card_bin="41111111")


@pytest.mark.parametrize(
    ("status", "date"),
    [
        ("APPROVED", "authorization_date"),
        ("SETTLED", "settled_date"),
        ("REVERSED", "transaction_date"),
        ("RETURNED", "transaction_date"),
        ("DECLINED", "transaction_date"),
    ],
)
def test_each_status_requires_its_date(status: str, date: str) -> None:
    dates = {name: RECENTLY for name in ("authorization_date", "settled_date", "transaction_date")}
    assert txn(1, status, **dates).status == status
    dates[date] = None  # type: ignore[assignment]
    with pytest.raises(InvalidParameterError, match=f"required when status is '{status}'") as e:
        txn(1, status, **dates)
    assert e.value.parameter == date


def test_enums_stay_open() -> None:
    later = txn(1, "PENDING_REVIEW", direction="REFUND", card_network="UNIONPAY")
    assert later.status == "PENDING_REVIEW"  # a status never heard of requires no date
    assert later.to_wire()["attributes"]["cardNetwork"] == "UNIONPAY"


def test_nested_mappings_become_models() -> None:
    made = txn(
        1,
        merchant=None,
        processor_mids={"mids": {"vmid": "12345678901", "vsid": "12345678"}},
    )
    assert made.processor_mids == ProcessorMids(mids=VisaMids(vmid="12345678901", vsid="12345678"))
    with pytest.raises(InvalidParameterError) as caught:
        txn(1, processor_mids={"mids": {"vmid": "", "vsid": "1"}})
    assert caught.value.parameter == "processor_mids.mids.vmid"


def test_core_transactions_are_always_settled_with_both_dates() -> None:
    assert core(1).to_wire()["attributes"]["status"] == "SETTLED"
    with pytest.raises(InvalidParameterError, match="always 'SETTLED'"):
        core(1, status="APPROVED")
    with pytest.raises(InvalidParameterError) as caught:
        core(1, settled_date=None)
    assert caught.value.parameter == "settled_date"
    with pytest.raises(InvalidParameterError) as caught:
        core(1, card_last_fours=["1234", "12a4"])
    assert caught.value.parameter == "card_last_fours[1]"
    assert core(1, card_last_fours=["1234"]).card_last_fours == ("1234",)


def test_wire_form_round_trips_and_is_what_is_sent() -> None:
    full = txn(
        "full",
        "SETTLED",
        subtotal=1200,
        description_2="STORE 12",
        mcc="5812",
        merchant=Merchant(
            name=CHICKEN,
            id="123456789012345",
            addr_street="120 Main St",
            addr_city="Philadelphia",
            addr_state="PA",
            addr_zipcode="19147",
            addr_country="US",
            latitude="39.9419429",
            longitude="-75.1446869",
            store_id="12",
        ),
        card_network="VISA",
        processor_mids=ProcessorMids(mids=VisaMids(vmid="1", vsid="2")),
        authorization_code="123456",
        account_id="acct-1",
    )
    wire = full.to_wire()
    assert wire["type"] == "transaction"
    assert wire["id"] == "evt-full-SETTLED"
    attributes = wire["attributes"]
    assert "id" not in attributes
    assert attributes["cardBIN"] == "411111"
    assert attributes["paymentType"] == "CARD"  # required on the wire, a default here
    assert attributes["description2"] == "STORE 12"
    assert attributes["settledDate"].endswith("Z")
    assert attributes["processorMids"] == {"processor": "VISA", "mids": {"vmid": "1", "vsid": "2"}}
    assert attributes["merchant"]["addrZipcode"] == "19147"
    odd = txn('quote"é\\', payment_type="WALLET")
    for item in (full, odd, core(1, card_last_fours=["1234", "5678"])):
        assert as_transaction(item.to_wire()) == item
        assert msgspec.json.decode(item.to_json()) == item.to_wire()
    assert json.loads(encode_transactions([full, odd])) == {"data": [wire, odd.to_wire()]}


def test_wire_mappings_are_checked_like_models() -> None:
    wire = txn(1).to_wire()
    flat = {"id": wire["id"], **wire["attributes"]}  # attributes at the top level
    assert as_transaction(flat) == txn(1)
    for change, parameter in [
        ({"amount": 15.0}, "amount"),
        ({"cardBIN": None}, "cardBIN"),
        ({"authorizationDate": "2025-01-01T00:00:00"}, "authorization_date"),
        ({"merchant": {"name": "x", "latitude": "91"}}, "merchant.latitude"),
    ]:
        broken = {**wire, "attributes": {**wire["attributes"], **change}}
        with pytest.raises(InvalidParameterError) as caught:
            as_transaction(broken)
        assert caught.value.parameter == parameter, change
    with pytest.raises(InvalidParameterError) as caught:
        as_transaction({**wire, "type": "historicalTransaction"})
    assert caught.value.parameter == "type"


def test_fraud_markers() -> None:
    marker = FraudMarker("txn-1", USER)
    assert marker == FraudMarker(transaction_id="txn-1", user_id=USER)
    assert marker.to_wire() == {
        "type": "fraudulentTransaction",
        "id": "txn-1",
        "attributes": {"userId": USER},
    }
    assert as_fraud_marker(marker.to_wire()) == marker
    assert as_fraud_marker({"transactionId": "txn-1", "userId": USER}) == marker
    with pytest.raises(InvalidParameterError) as caught:
        FraudMarker("", USER)
    assert caught.value.parameter == "transaction_id"


# --------------------------------------------------------------------------- create


async def test_create_sends_the_wire_form_and_returns_the_job(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    sent = [txn(1), txn(2, "SETTLED", merchant=None), core(3), txn(4).to_wire()]
    result = await kard.transactions.create(sent)
    assert result.ok
    assert result.job is not None
    assert result.job.status == "queued"
    assert result.data == ["evt-1-APPROVED", "evt-2-SETTLED", "core-3", "evt-4-APPROVED"]
    result.raise_for_errors()
    received = kard_emulator.transactions
    assert [(r.type, r.id, r.job_id) for r in received] == [
        ("transaction", "evt-1-APPROVED", result.job.id),
        ("transaction", "evt-2-SETTLED", result.job.id),
        ("coreTransaction", "core-3", result.job.id),
        ("transaction", "evt-4-APPROVED", result.job.id),
    ]
    assert received[0].attributes == txn(1).to_wire()["attributes"]
    assert received[2].attributes == core(3).to_wire()["attributes"]


async def test_create_refuses_bad_batches_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    too_many = [txn(n) for n in range(501)]
    checks: list[tuple[Any, str, str]] = [
        ([], "transactions", "1 to 500"),
        (too_many, "transactions", "bulk_create"),
        (txn(1), "transactions", "list"),
        ([txn(1), txn(2), txn(1)], "transactions[2].id", r"duplicates transactions\[0\]\.id"),
        ([txn(1), {"type": "transaction", "id": "x"}], "transactions[1].userId", "required"),
    ]
    for batch, parameter, text in checks:
        with pytest.raises(InvalidParameterError, match=text) as caught:
            await kard.transactions.create(batch)
        assert caught.value.parameter == parameter
    with pytest.raises(InvalidParameterError) as caught:
        await kard.transactions.mark_fraud([FraudMarker("t", "u"), FraudMarker("t", "v")])
    assert caught.value.parameter == "markers[1].transaction_id"
    assert posts(kard_emulator, "/transactions") == posts(kard_emulator, "/fraud") == 0
    result = await kard.transactions.create(too_many[:500])
    assert len(result.data) == 500


async def test_a_partial_success_is_a_207_with_each_failure_named(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.transactions.create([txn(1)])
    # Valid here, refused there: a status this client version lets through, and a resend.
    result = await kard.transactions.create([txn(2), txn(3, "ON_HOLD"), txn(1), txn(4)])
    assert not result.ok
    assert result.data == ["evt-2-APPROVED", "evt-4-APPROVED"]
    assert result.failed_ids == ["evt-3-ON_HOLD", "evt-1-APPROVED"]
    on_hold, again = result.errors
    assert on_hold.status == "400"
    assert on_hold.source is not None
    assert on_hold.source.pointer == "/data/1/attributes/status"
    assert again.status == "409"
    assert again.detail is not None
    assert "already received" in again.detail
    with pytest.raises(MultiStatusError, match="2 items failed, 2 succeeded") as caught:
        result.raise_for_errors()
    assert caught.value.succeeded == 2
    ids = [r.id for r in kard_emulator.transactions]
    assert ids == ["evt-1-APPROVED", "evt-2-APPROVED", "evt-4-APPROVED"]


async def test_when_every_item_is_refused_the_call_raises(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(BadRequestError) as bad:
        await kard.transactions.create([txn(1, "ON_HOLD"), txn(2, "NEW", card_network="JCB")])
    assert [e.id for e in bad.value.errors] == ["evt-1-ON_HOLD", "evt-2-NEW", "evt-2-NEW"]
    await kard.transactions.create([txn(3)])
    with pytest.raises(ConflictError) as conflict:
        await kard.transactions.create([txn(3)])
    assert conflict.value.errors[0].id == "evt-3-APPROVED"
    assert not conflict.value.outcome_unknown
    assert [r.id for r in kard_emulator.transactions] == ["evt-3-APPROVED"]


async def test_emulator_validates_every_field_with_pointers(kard_server: EmulatorServer) -> None:
    """The emulator, spoken to directly: what a client that checks nothing would meet."""
    good = txn(1).to_wire()
    attributes = good["attributes"]
    bad_items = [
        {**good, "id": 5},
        {**good, "id": "b", "attributes": {**attributes, "amount": 10.5}},
        {**good, "id": "c", "attributes": {**attributes, "cardBIN": "41111"}},
        {**good, "id": "d", "attributes": {**attributes, "authorizationDate": None}},
        {**good, "id": "e", "attributes": {**attributes, "authorizationDate": "2025-01-01"}},
        {**good, "id": "f", "attributes": {**attributes, "merchant": {"addrState": "XX"}}},
        {**good, "id": "g", "type": "historicalTransaction"},
        {**good, "id": "h", "attributes": {**attributes, "paymentType": "CASH"}},
        {"type": "coreTransaction", "id": "i", "attributes": {**attributes, "status": "APPROVED"}},
        good,
        good,
    ]
    async with _raw_session(kard_server) as (session, headers):
        url = f"{kard_server.base_url}/v2/issuers/{TEST_ORGANIZATION_ID}/transactions"
        async with session.post(url, json={"data": bad_items}, headers=headers) as response:
            assert response.status == 207
            document = await response.json()
        async with session.post(url, json={"data": []}, headers=headers) as response:
            assert response.status == 400
    pointers = {(e.get("id"), e["source"]["pointer"]) for e in document["errors"]}
    assert pointers >= {
        (None, "/data/0/id"),
        ("b", "/data/1/attributes/amount"),
        ("c", "/data/2/attributes/cardBIN"),
        ("d", "/data/3/attributes/authorizationDate"),
        ("e", "/data/4/attributes/authorizationDate"),
        ("f", "/data/5/attributes/merchant/name"),
        ("f", "/data/5/attributes/merchant/addrState"),
        ("g", "/data/6/type"),
        ("h", "/data/7/attributes/paymentType"),
        ("i", "/data/8/attributes/status"),
        ("i", "/data/8/attributes/settledDate"),
        ("evt-1-APPROVED", "/data/10/id"),  # the same id twice in one request
    }
    assert document["data"]["type"] == "job"
    assert [t.id for t in kard_server.emulator.transactions] == ["evt-1-APPROVED"]


# --------------------------------------------------------------------------- fraud


async def test_mark_fraud_records_markers_and_stops_rewards(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.transactions.create([txn(1, "SETTLED"), txn(2, "SETTLED")])
    assert len((await kard.users.rewards.earned(USER)).data) == 2
    result = await kard.transactions.mark_fraud(
        [FraudMarker("txn-1", USER), {"transactionId": "txn-9", "userId": "someone"}]
    )
    assert result.ok
    assert [(m.transaction_id, m.user_id) for m in result.data] == [
        ("txn-1", USER),
        ("txn-9", "someone"),
    ]
    assert {(m.transaction_id, m.user_id) for m in kard_emulator.fraud_markers} == {
        ("txn-1", USER),
        ("txn-9", "someone"),
    }
    page = await kard.users.rewards.earned(USER)
    assert [r.transaction_id for r in page.data] == ["txn-2"]
    # A flagged purchase earns nothing later either.
    await kard.transactions.create([txn(9, "SETTLED", user="someone")])
    assert (await kard.users.rewards.earned("someone")).data == []


async def test_mark_fraud_surfaces_a_207(kard: AsyncKard) -> None:
    """The emulator refuses nothing the client lets through, so a small server answers."""

    async def fraud(request: web.Request) -> web.Response:
        data = (await request.json())["data"]
        error = {"status": "400", "detail": "unknown transaction", "id": data[1]["id"]}
        return web.json_response({"data": [data[0]], "errors": [error]}, status=207)

    async with _tiny_server(("POST", "/v2/issuers/org-1/fraud", fraud)) as base_url:
        client = AsyncKard(token="t", organization_id="org-1", base_url=base_url)
        async with client:
            result = await client.transactions.mark_fraud(
                [FraudMarker("a", "u"), FraudMarker("b", "u")]
            )
    assert not result.ok
    assert [m.transaction_id for m in result.data] == ["a"]
    assert result.failed_ids == ["b"]
    with pytest.raises(MultiStatusError, match="1 items failed, 1 succeeded"):
        result.raise_for_errors()


# --------------------------------------------------------------------------- earned rewards


async def test_transactions_at_offer_merchants_earn_rewards(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.transactions.create(
        [
            txn(1),
            txn(2, merchant="Corner Store Nobody Knows"),
            txn(3, merchant=None, description="HARBOR BURGER #12 PHILA"),  # by description
            txn(4, direction="CREDIT"),
            core(5, description="WORLDS GREATEST CHICKEN"),
        ]
    )
    approved = await kard.users.rewards.earned(USER, status="APPROVED")
    assert {r.transaction_id for r in approved.data} == {"txn-1", "txn-3"}
    assert all(isinstance(r, ApprovedTransaction) for r in approved.data)
    assert all(r.commission_in_cents is None and r.status == "APPROVED" for r in approved.data)
    assert approved.data[0].user_id == USER
    # The total counts settled rewards whatever the status filter: the core transaction
    # (settled, found by its description) earned 5.7% of $25.00.
    assert approved.meta.lifetime_rewards_in_cents == 142
    settled = await kard.users.rewards.earned(USER)
    assert [(r.transaction_id, r.commission_in_cents) for r in settled.data] == [
        ("core-txn-5", 142)
    ]

    await kard.transactions.create([txn(1, "SETTLED"), txn(3, "SETTLED", merchant="Harbor Burger")])
    approved = await kard.users.rewards.earned(USER, status="APPROVED")
    assert approved.data == []  # settled counterparts replace them
    settled = await kard.users.rewards.earned(USER)
    rewards = {r.transaction_id: r for r in settled.data}
    assert set(rewards) == {"txn-1", "txn-3", "core-txn-5"}
    chicken = rewards["txn-1"]
    assert isinstance(chicken, RewardedTransaction)
    assert chicken.commission_in_cents == 86  # 5.7% of $15.00
    assert chicken.attributes.paid_to_issuer == "UNPAID"
    assert chicken.amount_in_cents == 1500
    assert chicken.attributes.transaction_timestamp == RECENTLY
    assert rewards["txn-3"].commission_in_cents == 300  # $3.00 flat
    assert settled.meta.lifetime_rewards_in_cents == 86 + 300 + 142
    # Each reward is notified once per state, subscribed to or not.
    assert notified(kard_emulator) == [
        ("earnedRewardApproved", "txn-1"),
        ("earnedRewardApproved", "txn-3"),
        ("earnedRewardSettled", "core-txn-5"),
        ("earnedRewardSettled", "txn-1"),
        ("earnedRewardSettled", "txn-3"),
    ]
    # A settled reward is never turned back into an approved one by a late approval, nor
    # notified again when its settlement is sent again.
    await kard.transactions.create(
        [txn(1, "APPROVED", id="late-approval"), txn(1, "SETTLED", id="settled-again")]
    )
    assert (await kard.users.rewards.earned(USER, status="APPROVED")).data == []
    assert len(notified(kard_emulator)) == 5


def notified(emulator: KardEmulator) -> list[tuple[str, str]]:
    """(event name, transaction id) of every notification the emulator emitted."""
    return [
        (sent.event_name, json.loads(sent.body)["data"]["attributes"]["transactionId"])
        for sent in emulator.notifications
    ]


async def test_earned_rewards_are_notified_to_subscribers(
    kard: AsyncKard, kard_emulator: KardEmulator, webhook_inbox: Inbox
) -> None:
    await webhook_inbox.subscribe(kard, "earnedRewardApproved", "earnedRewardSettled")
    await kard.transactions.create([txn(1), txn(2, merchant="Corner Store Nobody Knows")])
    approved = await webhook_inbox.next()
    await kard.transactions.create([txn(1, "SETTLED")])
    settled = await webhook_inbox.next()
    (row,) = (await kard.users.rewards.earned(USER)).data

    # Both signed, verified and parsed by aiohttp_handler into the typed notifications.
    assert isinstance(approved, EarnedRewardApproved)
    assert isinstance(settled, EarnedRewardSettled)
    for sent in (approved, settled):
        assert sent.user_id == USER
        assert sent.meta is not None
        assert sent.meta.issuer_id == TEST_ORGANIZATION_ID
        assert sent.relationships is not None
        assert sent.relationships.offer is not None
        assert sent.relationships.offer.ids == [row.offer_id]
        attributes = sent.attributes
        assert attributes.name == CHICKEN
        assert attributes.transaction_id == "txn-1"
        assert attributes.transaction_amount_in_cents == 1500
        assert attributes.user_reward is not None
        assert (attributes.user_reward.type, attributes.user_reward.value) == ("PERCENT", 5.7)
        assert attributes.transaction_timestamp == RECENTLY
        assert attributes.purchase_channel
    assert transaction_ids(approved) == ["evt-1-APPROVED"]
    assert transaction_ids(settled) == ["evt-1-SETTLED"]
    assert approved.attributes.message == f"You earned 5.7% back at {CHICKEN}"
    # The settled one carries what the user earned: 5.7% of $15.00, as the reward row says.
    assert settled.attributes.commission_earned.value == 86
    assert settled.attributes.commission_earned.type == "cents"
    assert settled.attributes.message == f"You earned $0.86 back at {CHICKEN}"
    assert row.commission_in_cents == 86

    # Nothing else was sent (txn-2 is at a merchant without an offer), each delivered once.
    attempts = await kard_emulator.wait_for_deliveries()
    assert [(a.event_name, a.status) for a in attempts] == [
        ("earnedRewardApproved", 200),
        ("earnedRewardSettled", 200),
    ]
    assert webhook_inbox.events.empty()


def transaction_ids(sent: EarnedRewardApproved | EarnedRewardSettled) -> list[str]:
    relationships = sent.relationships
    transaction = relationships.transaction if relationships is not None else None
    return transaction.ids if transaction is not None else []


async def test_a_reversed_approval_earns_nothing(kard: AsyncKard) -> None:
    await kard.transactions.create([txn(1), txn(2)])
    await kard.transactions.create([txn(1, "REVERSED"), txn(2, "DECLINED")])
    assert (await kard.users.rewards.earned(USER, status="APPROVED")).data == []


async def test_earned_reward_filters(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    long_ago = RECENTLY - timedelta(days=200)
    await kard.transactions.create(
        [
            txn(1, "SETTLED"),
            txn(2, "SETTLED", amount=1000, authorization_date=long_ago, settled_date=long_ago),
        ]
    )
    assert len((await kard.users.rewards.earned(USER, range="12M")).data) == 2
    recent = await kard.users.rewards.earned(USER, range="3M")
    assert [r.transaction_id for r in recent.data] == ["txn-1"]
    assert recent.meta.lifetime_rewards_in_cents == 86
    assert (await kard.users.rewards.earned(USER, paid_in_full_only=True)).data == []
    assert kard_emulator.pay_rewards(USER) == 2
    paid = await kard.users.rewards.earned(USER, paid_in_full_only=True, range="6M")
    assert [r.transaction_id for r in paid.data] == ["txn-1"]
    reward = paid.data[0]
    assert isinstance(reward, RewardedTransaction)
    assert reward.attributes.paid_to_issuer == "PAID_IN_FULL"
    assert reward.attributes.payout_timestamp is not None
    assert paid.meta.lifetime_rewards_in_cents == 86

    query = dict(parse_qsl(kard_emulator.requests[-1].query_string))
    assert query == {
        "filter[paidInFullOnly]": "true",
        "filter[range]": "6M",
    }


async def test_earned_rewards_include_and_pagination(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    brands = ["Worlds Greatest Chicken", "Harbor Burger", "Taqueria Sol"]
    await kard.transactions.create(
        [
            txn(n, "SETTLED", merchant=brands[n % 3], authorization_date=RECENTLY - timedelta(n))
            for n in range(7)
        ]
    )
    page = await kard.users.rewards.earned(USER, include=["merchant", "offer"], page_size=3)
    assert [r.transaction_id for r in page.data] == ["txn-0", "txn-1", "txn-2"]  # newest first
    assert page.has_next_page()
    for reward in page.data:
        merchant = page.merchant_of(reward)
        offer = page.offer_of(reward)
        assert isinstance(merchant, RewardMerchant)
        assert isinstance(offer, RewardOffer)
        assert merchant.name == brands[int(reward.transaction_id[-1]) % 3]
        assert offer.attributes.purchase_channel
    second = await page.next_page()
    assert second is not None
    assert [r.transaction_id for r in second.data] == ["txn-3", "txn-4", "txn-5"]
    assert len(second.included) == 6  # the include filter follows the cursor
    seen = [r.transaction_id async for r in kard.users.rewards.earned(USER, page_size=2)]
    assert seen == [f"txn-{n}" for n in range(7)]
    assert sum(1 for r in kard_emulator.requests if r.path.endswith("/earned-rewards")) == 2 + 4


async def test_earned_rewards_arguments_are_checked_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(InvalidParameterError):
        kard.users.rewards.earned(USER, page_size=0)
    with pytest.raises(InvalidParameterError):
        kard.users.rewards.earned(USER, after="a", before="b")
    with pytest.raises(InvalidParameterError):
        kard.users.rewards.earned(USER, paid_in_full_only="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        kard.users.rewards.earned("")
    assert kard_emulator.requests == []
    # Values this version does not know go through; the server has the last word.
    with pytest.raises(BadRequestError, match="filter\\[range\\]"):
        await kard.users.rewards.earned(USER, range="24M")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bulk


def accounted_ids(report: BulkReport) -> Counter[str]:
    """Each failed or invalid item's id, as often as the report files it."""
    ids: Counter[str] = Counter()
    for batch in report.failed:
        ids.update(item.id for item in batch.items)
    for invalid in report.invalid:
        item = invalid.item
        ids[item.id if isinstance(item, Transaction) else str(item)] += 1
    return ids


async def test_bulk_create_files_207_items_and_never_resends_accepted_ones(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.transactions.create([txn(7)])  # so that its resend below is a 409
    items: list[Any] = [txn(n, merchant=None) for n in range(1200)]
    items[5] = txn(5, "ON_HOLD", merchant=None)  # refused by the server
    items[7] = txn(7)  # already received
    items[600] = {"type": "transaction", "id": "no-attributes"}  # refused here
    report = await kard.transactions.bulk_create(items, concurrency=4)
    assert report.accepted == 1197
    assert sorted(job.count for job in report.jobs) == [199, 498, 500]  # in completion order
    assert all(job.key == TEST_ORGANIZATION_ID and job.job_id for job in report.jobs)
    assert not report.failed
    invalid = {item.index: item for item in report.invalid}
    assert set(invalid) == {5, 7, 600}
    assert "status 'ON_HOLD' is not allowed" in invalid[5].reason
    assert invalid[5].reason.startswith("server: ")
    assert "already received" in invalid[7].reason
    assert "userId" in invalid[600].reason
    assert posts(kard_emulator, "/transactions") == 1 + 3  # nothing sent twice
    recorded = Counter(t.id for t in kard_emulator.transactions)
    assert max(recorded.values()) == 1
    assert len(recorded) == 1 + 1197


def fault_cases() -> list[Any]:
    return [
        pytest.param([Fault(kind="status", status=503, probability=0.4, times=None)], id="503"),
        pytest.param(
            [
                Fault(kind="status", status=500, probability=0.15, times=None, seed=1),
                Fault(kind="drop_before", probability=0.15, times=None, seed=2),
                Fault(kind="drop_after", probability=0.15, times=None, seed=3),
                Fault(kind="truncate", probability=0.15, times=None, seed=4),
                Fault(kind="status", status=429, probability=0.15, times=None, seed=5),
            ],
            id="mixed",
        ),
    ]


@pytest.mark.parametrize("faults", fault_cases())
async def test_bulk_create_accounts_for_every_transaction_exactly_once_under_faults(
    kard: AsyncKard, kard_emulator: KardEmulator, faults: list[Fault]
) -> None:
    for fault in faults:
        fault.method, fault.path = "POST", "/transactions$"
        kard_emulator.inject(fault)
    sent = [txn(n, merchant=None, user=f"user-{n % 50}") for n in range(12_000)]
    random.Random(3).shuffle(sent)
    sent[10] = txn(10, "ON_HOLD", merchant=None)  # one item the server refuses in a 207

    report = await kard.transactions.bulk_create(iter(sent), concurrency=8, max_retries=20)

    assert all(f.applied for f in faults), [f.applied for f in faults]
    filed = accounted_ids(report)
    assert max(filed.values()) == 1, "an item is filed twice"
    assert report.accepted + report.failed_count + len(report.invalid) == len(sent)
    failed_ids = {i.id for b in report.failed for i in b.items}
    if "evt-10-ON_HOLD" not in failed_ids:  # else its batch failed before the server saw it
        assert [item.index for item in report.invalid] == [10]
    recorded = Counter(t.id for t in kard_emulator.transactions)
    assert max(recorded.values()) == 1, "a transaction was recorded twice"
    known_failed = {i.id for b in report.failed if not b.outcome_unknown for i in b.items}
    maybe = {i.id for b in report.failed if b.outcome_unknown for i in b.items}
    accepted = {t.id for t in sent} - set(filed)
    assert len(accepted) == report.accepted
    assert accepted <= set(recorded), "an accepted transaction is not on the server"
    assert not known_failed & set(recorded), "a transaction reported failed was recorded"
    assert set(recorded) <= accepted | maybe
    if faults[0].status == 503 and len(faults) == 1:
        assert not report.failed, "503 is surely unprocessed: retried until accepted"
    else:
        assert maybe, "a dropped connection leaves the outcome unknown"
        # Sending the failures again: known failures go through; unknown ones are 409s
        # when the server had them, never duplicates.
        kard_emulator.clear_faults()
        again = await kard.transactions.bulk_create(report.failed_items())
        assert not again.failed
        assert again.accepted + len(again.invalid) == report.failed_count
        repeated = [i for i in again.invalid if i.item.id != "evt-10-ON_HOLD"]
        assert all("already received" in item.reason for item in repeated)
        assert {item.item.id for item in repeated} <= maybe
        final = Counter(t.id for t in kard_emulator.transactions)
        assert max(final.values()) == 1
        assert set(final) == {t.id for t in sent} - {"evt-10-ON_HOLD"}


async def test_bulk_mark_fraud(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    markers: list[Any] = [FraudMarker(f"txn-{n}", USER) for n in range(1001)]
    markers.append({"transactionId": "", "userId": USER})
    report = await kard.transactions.bulk_mark_fraud(markers, concurrency=2)
    assert report.accepted == 1001
    assert sorted(job.count for job in report.jobs) == [1, 500, 500]  # in completion order
    assert all(job.job_id is None for job in report.jobs)
    assert [item.index for item in report.invalid] == [1001]
    assert len(kard_emulator.fraud_markers) == 1001


async def test_bulk_arguments_are_checked(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    with pytest.raises(InvalidParameterError):
        await kard.transactions.bulk_create([txn(1)], concurrency=0)
    with pytest.raises(InvalidParameterError):
        await kard.transactions.bulk_create(txn(1).to_wire())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        await kard.transactions.bulk_mark_fraud([], max_buffered_markers=0)
    assert kard_emulator.requests == []


async def test_bulk_create_reads_an_async_iterable_lazily(kard: AsyncKard) -> None:
    produced = 0

    async def source() -> AsyncIterator[Transaction]:
        nonlocal produced
        for n in range(3_000):
            produced += 1
            yield txn(n, merchant=None)

    report = await kard.transactions.bulk_create(
        source(), concurrency=2, max_buffered_transactions=1_000
    )
    assert report.ok
    assert report.accepted == produced == 3_000


# --------------------------------------------------------------------------- blocking


def test_the_blocking_client_mirrors_transactions(kard_server: EmulatorServer) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        result = kard.transactions.create([txn(1, "SETTLED"), txn(2, "SETTLED")])
        assert result.ok
        report = kard.transactions.bulk_create(txn(n, "SETTLED") for n in range(3, 8))
        assert report.accepted == 5
        page = kard.users.rewards.earned(USER, page_size=4)
        assert len(page.data) == 4
        assert sorted(r.transaction_id for r in page) == [f"txn-{n}" for n in range(1, 8)]
        assert kard.transactions.mark_fraud([FraudMarker("txn-1", USER)]).ok


# --------------------------------------------------------------------------- helpers


@contextlib.asynccontextmanager
async def _raw_session(
    server: EmulatorServer,
) -> AsyncIterator[tuple[aiohttp.ClientSession, dict[str, str]]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{server.base_url}/v2/auth/token",
            json={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
        ) as response:
            token = (await response.json())["access_token"]
        yield session, {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def _tiny_server(*routes: tuple[str, str, Any]) -> AsyncIterator[str]:
    app = web.Application()
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- emulator paths


def _attributes(**change: Any) -> Any:
    def apply(item: dict[str, Any]) -> None:
        item["attributes"].update(change)

    return apply


def _merchant(**change: Any) -> Any:
    def apply(item: dict[str, Any]) -> None:
        item["attributes"]["merchant"] = {"name": CHICKEN, **change}

    return apply


def _drop(name: str) -> Any:
    def apply(item: dict[str, Any]) -> None:
        del item["attributes"][name]

    return apply


EMULATOR_CASES: list[tuple[str, Any]] = [
    ("valid", lambda item: None),
    ("lower-case currency", _attributes(currency="usd")),
    ("unknown attribute", _attributes(loyaltyTier="gold")),
    ("every option", _attributes(subtotal=0, mcc="5812", cardNetwork="VISA", accountId="a")),
    ("mids", _attributes(processorMids={"processor": "VISA", "mids": {"vmid": "1", "vsid": "2"}})),
    ("merchant", _merchant(addrState="PA", latitude="39.9", longitude="-75.1")),
    ("core", lambda item: item.update(core(1).to_wire())),
    ("core with cards", lambda item: item.update(core(1, card_last_fours=["1234"]).to_wire())),
    ("blank id", lambda item: item.update(id=" ")),
    ("no id", lambda item: item.pop("id")),
    ("blank user", _attributes(userId="  ")),
    ("no user", _drop("userId")),
    ("float amount", _attributes(amount=10.0)),
    ("negative amount", _attributes(amount=-1)),
    ("bool amount", _attributes(amount=True)),
    ("negative subtotal", _attributes(subtotal=-5)),
    ("currency symbol", _attributes(currency="U$D")),
    ("long currency", _attributes(currency="USDT")),
    ("short BIN", _attributes(cardBIN="41111")),
    ("letter in BIN", _attributes(cardBIN="41111a")),
    ("wide digits in BIN", _attributes(cardBIN="\uff14\uff11\uff11\uff11\uff11\uff11")),
    ("last four", _attributes(cardLastFour="11 1")),
    ("unknown status", _attributes(status="ON_HOLD")),
    ("unknown direction", _attributes(direction="REFUND")),
    ("cash", _attributes(paymentType="CASH")),
    ("no date", _attributes(authorizationDate=None)),
    ("naive date", _attributes(authorizationDate="2025-01-01T00:00:00")),
    ("not a date", _attributes(authorizationDate="yesterday")),
    ("reversed without date", _attributes(status="REVERSED")),
    ("number as text", _attributes(mcc=5812)),
    ("unknown network", _attributes(cardNetwork="JCB")),
    ("unknown processor", _attributes(processorMids={"processor": "MC", "mids": {}})),
    (
        "blank vmid",
        _attributes(processorMids={"processor": "VISA", "mids": {"vmid": " ", "vsid": "2"}}),
    ),
    ("merchant without name", lambda item: item["attributes"].update(merchant={"id": "1"})),
    ("blank merchant name", _merchant(name=" ")),
    ("unknown state", _merchant(addrState="ZZ")),
    ("latitude out of range", _merchant(latitude="91")),
    ("latitude as number", _merchant(latitude=39.9)),
    (
        "core approved",
        lambda item: item.update(
            type="coreTransaction",
            attributes={**core(1).to_wire()["attributes"], "status": "APPROVED"},
        ),
    ),
    (
        "core bad card",
        lambda item: (
            item.update(core(1).to_wire()) or item["attributes"].update(cardLastFours=["12a4"])
        ),
    ),
    ("unknown type", lambda item: item.update(type="historicalTransaction")),
]


@pytest.mark.parametrize(("case", "change"), EMULATOR_CASES, ids=[c for c, _ in EMULATOR_CASES])
def test_the_emulators_fast_path_and_file_lines_accept_only_what_its_full_check_accepts(
    case: str, change: Any
) -> None:
    from kard_async.testing._transaction_checks import validate_transaction
    from kard_async.testing._transaction_lines import check_line
    from kard_async.testing._transaction_wire import quick_decode, quick_decode_item
    from kard_async.testing.api.transactions import _distinct

    item = txn(1).to_wire()
    change(item)
    errors: list[dict[str, Any]] = []
    full = bool(_distinct([item], validate_transaction, errors))
    fast = quick_decode(json.dumps({"data": [item]}).encode()) is not None
    assert fast == full, errors
    assert full == (case in ACCEPTED), errors
    # A line of a daily file: the same checks, and the same reasons.
    line = json.dumps(item).encode()
    assert (quick_decode_item(line) is not None) == full
    transaction_id, reason = check_line(line)
    assert (transaction_id, reason) == (
        (item["id"], None) if full else (None, "; ".join(e["detail"] for e in errors))
    )


ACCEPTED = frozenset(
    (
        "valid",
        "lower-case currency",
        "unknown attribute",
        "every option",
        "mids",
        "merchant",
        "core",
        "core with cards",
    )
)
