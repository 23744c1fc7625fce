"""The transaction measures' inputs, the same for every variant, and the minimal client's
plain Structs.

``transaction_fields(n, users)`` describes transaction ``n`` as plain values (each variant
builds its own typed objects from them, before the clock starts): card transactions over
``users`` users, nine in ten SETTLED (with both dates), one in ten APPROVED, one in eight
at a merchant with a live seeded offer (so the emulator keeps rewards too). Ids carry a
per-run prefix: the emulator refuses an id it has already received (409).

``earned_rewards_page()`` is a 100-row earned-rewards page (§7.5) with the merchants and
offers side-loaded, for the decode measure.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Union

import msgspec

WHEN = datetime(2026, 11, 2, 17, 47, 6, tzinfo=timezone.utc)
SETTLED = WHEN + timedelta(days=1)
OFFER_MERCHANTS = ("Harbor Burger", "Taqueria Sol", "Golden Crust Pizza", "Bean & Barrel Coffee")
OTHER_MERCHANTS = tuple(f"Corner Store {n:03d}" for n in range(40))
CITIES = (("Philadelphia", "PA", "19147"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"))


def run_prefix() -> str:
    """Ids unique to this process: ``<8 hex>-``."""
    return uuid.uuid4().hex[:8] + "-"


def transaction_fields(n: int, users: int, prefix: str) -> dict[str, Any]:
    """Transaction ``n`` as snake_case values (datetimes aware)."""
    approved = n % 10 == 9
    merchant = OFFER_MERCHANTS[n % 4] if n % 8 == 0 else OTHER_MERCHANTS[n % 40]
    city, state, zip_code = CITIES[n % 3]
    return {
        "id": f"{prefix}evt-{n}",
        "user_id": f"tx-user-{n % users:05d}",
        "transaction_id": f"{prefix}txn-{n}",
        "status": "APPROVED" if approved else "SETTLED",
        "amount": 500 + n % 9_500,
        "currency": "USD",
        "description": f"POS PURCHASE {merchant.upper()}",
        "direction": "DEBIT",
        "card_bin": "411111",
        "card_last_four": f"{n % 10_000:04d}",
        "authorization_date": WHEN,
        "settled_date": None if approved else SETTLED,
        "mcc": "5812",
        "merchant": {
            "name": merchant,
            "id": f"{100000000000000 + n % 997}",
            "addr_city": city,
            "addr_state": state,
            "addr_zipcode": zip_code,
        },
    }


# --- the minimal client's request and response (plain gc=False Structs) ---


class _S(msgspec.Struct, rename="camel", omit_defaults=True, gc=False):
    pass


class MMerchant(_S):
    name: str
    id: str
    addr_city: str
    addr_state: str
    addr_zipcode: str


class MAttributes(_S):
    user_id: str
    transaction_id: str
    status: str
    amount: int
    currency: str
    description: str
    direction: str
    payment_type: str
    card_bin: str = msgspec.field(name="cardBIN")
    card_last_four: str
    authorization_date: datetime
    settled_date: datetime | None
    mcc: str
    merchant: MMerchant


class MTransaction(_S, tag_field="type", tag="transaction"):
    id: str
    attributes: MAttributes


class MBody(_S):
    data: list[MTransaction]


class MJobAttributes(_S):
    status: str


class MJob(_S):
    type: str
    id: str
    attributes: MJobAttributes


class MJobResponse(_S):
    data: MJob


def minimal_transaction(fields: dict[str, Any]) -> MTransaction:
    attributes = {key: value for key, value in fields.items() if key != "id"}
    attributes["merchant"] = MMerchant(**fields["merchant"])
    return MTransaction(fields["id"], MAttributes(payment_type="CARD", **attributes))


# --- the earned-rewards page of the decode measure ---


def earned_rewards_page(rows: int = 100) -> bytes:
    """A page as the API sends it: settled rewards (one in five paid out, some with a
    progress bar), merchants with logo and banner, offers."""
    rng = random.Random(7)
    merchants = [f"{rng.getrandbits(96):024x}" for _ in range(20)]
    offers = [f"{rng.getrandbits(96):024x}" for _ in range(20)]
    data = []
    for n in range(rows):
        amount = rng.randrange(500, 20_000)
        attributes: dict[str, Any] = {
            "status": "SETTLED",
            "transactionId": f"TXN-20261102-{n:06d}",
            "transactionAmountInCents": amount,
            "transactionTimestamp": (WHEN - timedelta(hours=7 * n))
            .isoformat()
            .replace("+00:00", "Z"),
            "paidToIssuer": "PAID_IN_FULL" if n % 5 == 0 else "UNPAID",
            "commissionEarned": {"user": {"type": "cents", "value": amount // 20}},
        }
        if n % 5 == 0:
            attributes["payoutTimestamp"] = "2026-11-30T00:00:00Z"
        data.append(
            {
                "type": "rewardedTransaction",
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "attributes": attributes,
                "relationships": {
                    "user": {"data": {"type": "user", "id": "tx-user-00001"}},
                    "merchant": {"data": {"type": "merchant", "id": merchants[n % 20]}},
                    "offer": {"data": {"type": "offer", "id": offers[n % 20]}},
                },
            }
        )
    included: list[dict[str, Any]] = [
        {
            "type": "merchant",
            "id": merchant,
            "attributes": {
                "name": f"Merchant {n}",
                "assets": [
                    {
                        "type": kind,
                        "url": f"https://attribution.getkard.com/{kind.lower()}/{merchant}.png"
                        f"?subtype={kind}&token=eyJhbGciOiJIUzI1NiJ9.{merchant}",
                        "alt": f"Merchant {n} {kind}",
                    }
                    for kind in ("IMG_VIEW", "BANNER_VIEW")
                ],
            },
        }
        for n, merchant in enumerate(merchants)
    ]
    included += [
        {"type": "offer", "id": offer, "attributes": {"purchaseChannel": ["INSTORE", "ONLINE"]}}
        for offer in offers
    ]
    path = "/v2/issuers/org-123/users/tx-user-00001/earned-rewards"
    page = {
        "data": data,
        "links": {
            "self": f"{path}?page[size]={rows}&include=merchant,offer",
            "prev": None,
            "next": f"{path}?page[after]=eyJvZmZzZXQiOjEwMH0&page[size]={rows}"
            "&include=merchant,offer",
        },
        "meta": {"lifetimeRewardsInCents": 123_456},
        "included": included,
    }
    return json.dumps(page, separators=(",", ":")).encode()


# --- the plain Structs of the decode measure ---


class _D(msgspec.Struct, rename="camel", gc=False):
    pass


class Identifier(_D):
    type: str
    id: str


class One(_D):
    data: Identifier


class Relationships(_D):
    user: One
    merchant: One
    offer: One


class Cents(_D):
    type: str
    value: int


class Commission(_D):
    user: Cents


class RewardedAttributes(_D):
    status: str
    transaction_id: str
    transaction_amount_in_cents: int
    transaction_timestamp: datetime
    paid_to_issuer: str
    commission_earned: Commission
    payout_timestamp: datetime | None = None


class ApprovedAttributes(_D):
    status: str
    transaction_id: str
    transaction_amount_in_cents: int
    transaction_timestamp: datetime


class Rewarded(_D, tag_field="type", tag="rewardedTransaction"):
    id: str
    attributes: RewardedAttributes
    relationships: Relationships


class Approved(_D, tag_field="type", tag="approvedTransaction"):
    id: str
    attributes: ApprovedAttributes
    relationships: Relationships


class Asset(_D):
    type: str
    url: str
    alt: str | None = None


class MerchantAttributes(_D):
    name: str
    assets: list[Asset] = []


class Merchant(_D, tag_field="type", tag="merchant"):
    id: str
    attributes: MerchantAttributes


class OfferAttributes(_D):
    purchase_channel: list[str]


class Offer(_D, tag_field="type", tag="offer"):
    id: str
    attributes: OfferAttributes


class Links(_D):
    self: str
    prev: str | None = None
    next: str | None = None


class Meta(_D):
    lifetime_rewards_in_cents: int


class EarnedRewardsPage(_D):
    data: list[Union[Rewarded, Approved]]  # noqa: UP007 - a plain tagged union
    links: Links
    meta: Meta
    included: list[Union[Merchant, Offer]] = []  # noqa: UP007


EARNED_DECODER = msgspec.json.Decoder(EarnedRewardsPage)
