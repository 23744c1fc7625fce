"""Transactions (API reference §7.1), fraud markers (§7.2) and earned rewards (§7.5).

A batch is validated item by item, with JSON:API pointers and each error carrying the
item's ``id``: when some items are bad the rest are accepted and the answer is a 207
Multi-Status; when all are, a 400 (or a 409 when every one was received before).

A transaction at a merchant with a live seeded offer earns a reward: an
``approvedTransaction`` row on APPROVED, replaced by a ``rewardedTransaction`` row with the
commission on SETTLED (a REVERSED or DECLINED event drops a row not settled yet). The
merchant is recognised by its name (``merchant.name``) or, failing that, by the offer's
name in the description. Fraud-flagged transactions earn nothing. Each reward earned is
notified (§13): ``earnedRewardApproved``, then ``earnedRewardSettled`` with the commission.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec

from .._constants import (
    EARNED_REWARD_INCLUDES,
    EARNED_REWARD_STATUSES,
    EARNED_REWARDS_RANGES,
    MAX_FRAUD_MARKERS,
    MAX_TRANSACTIONS,
)
from .._jsonapi import (
    ApiError,
    Page,
    Params,
    canonical_query,
    format_datetime,
    invalid_parameter,
)
from .._records import ReceivedFraudMarker
from .._routing import Call, Document, route
from .._seed import OFFERS, SeedOffer
from .._transaction_checks import Checker, Errors, item_error, parse_date, validate_transaction
from .._transaction_wire import CoreAttributes, TransactionAttributes, quick_decode
from .users import require_enrolled

_ORG = "/v2/issuers/{org}"
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]

# --------------------------------------------------------------------------- transactions


@route("POST", f"{_ORG}/transactions", status=201)
def create_transactions(call: Call) -> Document:
    errors: Errors = []
    purchases = _quick(call.body)
    if purchases is None:  # something is off: find every problem, with its pointer
        data = _batch(call.json(), "transactions", MAX_TRANSACTIONS)
        purchases = [_purchase(n, data[n]) for n in _distinct(data, validate_transaction, errors)]
    organization = call.organization_id
    taken = call.emulator._ledger.claim(organization, [p.id for p in purchases])
    accepted = []
    for purchase in purchases:
        if purchase.id in taken:
            detail = f"transaction {purchase.id!r} was already received"
            errors.append(item_error(409, purchase.position, purchase.id, detail, "/id"))
        else:
            accepted.append(purchase)
    if not accepted:
        status = 409 if all(e["status"] == "409" for e in errors) else 400
        raise ApiError(status, errors=_ordered(errors))
    job_id = str(uuid.uuid4())
    call.emulator._ledger.record(
        organization, job_id, call.body, tuple(p.position for p in accepted)
    )
    for purchase in accepted:
        _earn(call, purchase)
    document: Document = {
        "data": {
            "type": "job",
            "id": job_id,
            "attributes": {
                "status": "queued",
                "message": "Incoming Transactions event successfully queued for processing",
            },
        }
    }
    if errors:
        call.status = 207
        document["errors"] = _ordered(errors)
    return document


class _Purchase:
    """What the reward bookkeeping needs of one accepted transaction (item ``position``)."""

    __slots__ = (
        "amount",
        "description",
        "direction",
        "id",
        "merchant",
        "position",
        "status",
        "transaction_id",
        "user",
        "when",
    )

    def __init__(
        self,
        position: int,
        id_: str,
        attributes: dict[str, Any] | TransactionAttributes | CoreAttributes,
    ) -> None:
        self.position = position
        self.id = id_
        if isinstance(attributes, dict):
            merchant = attributes.get("merchant")
            self.user = attributes["userId"]
            self.transaction_id = attributes["transactionId"]
            self.status = attributes["status"]
            self.direction = attributes["direction"]
            self.amount = attributes["amount"]
            self.description = attributes["description"]
            self.merchant = merchant["name"] if isinstance(merchant, dict) else None
            self.when = parse_date(
                attributes.get("authorizationDate") or attributes.get("settledDate")
            )
        else:
            merchant = getattr(attributes, "merchant", None)
            self.user = attributes.user_id
            self.transaction_id = attributes.transaction_id
            self.status = attributes.status
            self.direction = attributes.direction
            self.amount = attributes.amount
            self.description = attributes.description
            self.merchant = merchant.name if merchant is not None else None
            self.when = attributes.authorization_date or attributes.settled_date


def _quick(body: bytes) -> list[_Purchase] | None:
    items = quick_decode(body)
    if items is None:
        return None
    return [_Purchase(n, item.id, item.attributes) for n, item in enumerate(items)]


def _purchase(position: int, item: dict[str, Any]) -> _Purchase:
    return _Purchase(position, item["id"], item["attributes"])


def _ordered(errors: Errors) -> Errors:
    """By item position, then as found (stable)."""
    return sorted(errors, key=lambda e: int(e["source"]["pointer"].split("/")[2]))


def _batch(body: Any, noun: str, limit: int) -> list[Any]:
    if not isinstance(body, dict) or "data" not in body:
        raise ApiError(400, "request body must be an object with a 'data' array", pointer="/data")
    data = body["data"]
    if not isinstance(data, list):
        raise ApiError(400, f"data must be an array of {noun}", pointer="/data")
    if not data:
        raise ApiError(400, f"data must contain at least one of the {noun}", pointer="/data")
    if len(data) > limit:
        raise ApiError(
            400,
            f"data contains {len(data)} {noun}; at most {limit} are allowed per request",
            pointer="/data",
        )
    return data


def _distinct(
    data: list[Any], validate: Callable[[int, Any, Errors], None], errors: Errors
) -> list[int]:
    """Positions of the valid items, leaving out an id seen earlier in the same request."""
    valid: list[int] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(data):
        before = len(errors)
        validate(n, item, errors)
        if len(errors) > before:
            continue
        id_ = item["id"]
        first = seen.setdefault(id_, n)
        if first != n:
            errors.append(
                item_error(400, n, id_, f"id {id_!r} repeats data[{first}] of this request", "/id")
            )
            continue
        valid.append(n)
    return valid


# --------------------------------------------------------------------------- rewards


@functools.lru_cache(maxsize=4096)
def _normalized(name: str) -> str:
    return _NOT_ALNUM.sub("", name.casefold())


_NOT_ALNUM = re.compile(r"[\W_]+")


def _live_from(offer: SeedOffer) -> tuple[SeedOffer, datetime, datetime]:
    start = msgspec.convert(offer.start_date, _AWARE)
    end = msgspec.convert(offer.expiration_date, _AWARE)
    return offer, start, end


_OFFERS_BY_NAME = {_normalized(offer.name): _live_from(offer) for offer in OFFERS}
_OFFER_NAMES = re.compile(
    "|".join(re.escape(name) for name in sorted(_OFFERS_BY_NAME, key=len, reverse=True))
)


@functools.lru_cache(maxsize=4096)
def _offer_named(merchant: str | None, description: str) -> str | None:
    """The normalized name of the offer a merchant name (or else a description) names."""
    if merchant is not None:
        name = _normalized(merchant)
        if name in _OFFERS_BY_NAME:
            return name
    found = _OFFER_NAMES.search(_normalized(description))
    return found.group() if found else None


def _offer_for(purchase: _Purchase, now: datetime) -> SeedOffer | None:
    """The live seeded offer of the transaction's merchant, if any."""
    name = _offer_named(purchase.merchant, purchase.description)
    if name is None:
        return None
    offer, start, end = _OFFERS_BY_NAME[name]
    return offer if start <= now <= end else None


def _commission(offer: SeedOffer, amount: int) -> int:
    if offer.reward_type == "PERCENT":
        cents = round(amount * offer.reward_value / 100)
    else:
        cents = int(offer.reward_value)
    cap = offer.resource["attributes"].get("maxRewardAmount")
    return min(cents, cap["value"]) if cap else cents


def _merchant_id(offer: SeedOffer) -> str:
    return hashlib.sha1(f"merchant/{offer.name}".encode()).hexdigest()[:24]


def _earn(call: Call, purchase: _Purchase) -> None:
    """Update the user's reward row for this purchase, if it is at a merchant with an offer."""
    status = purchase.status
    if purchase.direction != "DEBIT":
        return
    ledger = call.emulator._ledger
    organization, user, transaction_id = (
        call.organization_id,
        purchase.user,
        purchase.transaction_id,
    )
    if status in ("REVERSED", "DECLINED"):
        ledger.drop_approved(organization, user, transaction_id)
        return
    if status not in ("APPROVED", "SETTLED"):
        return
    offer = _offer_for(purchase, datetime.now(timezone.utc))
    if offer is None or purchase.when is None:
        return
    timestamp = format_datetime(purchase.when)
    reward_attributes: dict[str, Any] = {
        "status": status,
        "transactionId": transaction_id,
        "transactionAmountInCents": purchase.amount,
        "transactionTimestamp": timestamp,
    }
    kind = "approvedTransaction"
    commission = None
    if status == "SETTLED":
        kind = "rewardedTransaction"
        commission = _commission(offer, purchase.amount)
        reward_attributes["paidToIssuer"] = "UNPAID"
        reward_attributes["commissionEarned"] = {"user": {"type": "cents", "value": commission}}
    key = f"{organization}/{user}/{transaction_id}/{status}"
    reward = {
        "type": kind,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        "attributes": reward_attributes,
        "relationships": {
            "user": {"data": {"type": "user", "id": user}},
            "merchant": {"data": {"type": "merchant", "id": _merchant_id(offer)}},
            "offer": {"data": {"type": "offer", "id": offer.id}},
        },
    }
    if ledger.put_reward(organization, user, transaction_id, reward):
        _notify_reward(call, purchase, offer, timestamp, commission)


def _notify_reward(
    call: Call, purchase: _Purchase, offer: SeedOffer, timestamp: str, commission: int | None
) -> None:
    """``earnedRewardApproved``, or ``earnedRewardSettled`` with the ``commission`` (§13),
    to the organization's subscribers."""
    offer_attributes = offer.resource["attributes"]
    earned = "" if commission is None else f"${commission / 100:,.2f}"
    attributes: dict[str, Any] = {
        "message": f"You earned {earned or _reward_text(offer)} back at {offer.name}",
        "name": offer.name,
        "attributionUrl": f"https://attribution.getkard.com/rewards/{purchase.id}",
        "transactionId": purchase.transaction_id,
        "transactionAmountInCents": purchase.amount,
        "transactionTimestamp": timestamp,
        "categoryName": offer.category,
        "userReward": offer_attributes["userReward"],
        "purchaseChannel": offer_attributes["purchaseChannel"],
    }
    if commission is not None:
        attributes["commissionEarned"] = {"type": "cents", "value": commission}
    call.emulator.notify(
        "earnedRewardApproved" if commission is None else "earnedRewardSettled",
        attributes,
        relationships={
            "user": {"data": {"type": "user", "id": purchase.user}},
            "offer": {"data": {"type": offer.resource["type"], "id": offer.id}},
            "transaction": {"data": {"type": "transaction", "id": purchase.id}},
        },
        organization_id=call.organization_id,
    )


def _reward_text(offer: SeedOffer) -> str:
    """``5.7%``, or ``$5.00`` for a flat reward (in cents)."""
    if offer.reward_type == "FLAT":
        return f"${offer.reward_value / 100:,.2f}"
    return f"{offer.reward_value:g}%"


# --------------------------------------------------------------------------- fraud


@route("POST", f"{_ORG}/fraud", status=201)
def create_fraud_markers(call: Call) -> Document:
    data = _batch(call.json(), "fraud markers", MAX_FRAUD_MARKERS)
    errors: Errors = []
    accepted = _distinct(data, _validate_marker, errors)
    if not accepted:
        raise ApiError(400, errors=_ordered(errors))
    organization = call.organization_id
    call.emulator._ledger.flag(
        ReceivedFraudMarker(organization, data[n]["id"], data[n]["attributes"]["userId"])
        for n in accepted
    )
    document: Document = {"data": [data[n] for n in accepted]}
    if errors:
        call.status = 207
        document["errors"] = _ordered(errors)
    return document


def _validate_marker(index: int, item: Any, errors: Errors) -> None:
    check = Checker(index, item, errors)
    if not isinstance(item, dict):
        check.fail("", f"data[{index}] must be an object")
        return
    kind = item.get("type")
    if kind != "fraudulentTransaction":
        check.fail("/type", f"type {kind!r} is not allowed; allowed: fraudulentTransaction")
    check.text("/id", item.get("id"))
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        check.fail("/attributes", "attributes is required and must be an object")
        return
    check.text("/attributes/userId", attributes.get("userId"))


# --------------------------------------------------------------------------- earned rewards

_EARNED_PARAMS = ("filter[status]", "filter[paidInFullOnly]", "filter[range]", "include")
_EARNED_LISTS = ("include",)
_MONTHS = {"12M": 12, "6M": 6, "3M": 3}


@route("GET", f"{_ORG}/users/{{user}}/earned-rewards")
def earned_rewards(call: Call) -> Document:
    require_enrolled(call)
    params = call.params
    status = _single_choice(params, "filter[status]", EARNED_REWARD_STATUSES) or "SETTLED"
    paid_only = params.boolean("filter[paidInFullOnly]") or False
    since = _window_start(_single_choice(params, "filter[range]", EARNED_REWARDS_RANGES) or "12M")
    include = params.csv("include", EARNED_REWARD_INCLUDES)

    rows = []
    lifetime = 0
    for row in call.emulator._ledger.rewards(call.organization_id, call.user_id):
        attributes = row["attributes"]
        when = parse_date(attributes["transactionTimestamp"])
        assert when is not None
        if when < since:
            continue
        settled = row["type"] == "rewardedTransaction"
        paid = attributes.get("paidToIssuer") == "PAID_IN_FULL"
        if settled and (paid or not paid_only):
            lifetime += attributes["commissionEarned"]["user"]["value"]
        if (status == "SETTLED") != settled or (settled and paid_only and not paid):
            continue
        rows.append((when, row))
    rows.sort(key=lambda pair: (pair[0], pair[1]["id"]), reverse=True)
    page = Page(params, len(rows))
    window = [row for _, row in rows[page.start : page.end]]
    path = call.user_path + "/earned-rewards"
    document: Document = {
        "data": window,
        "links": page.links(path, canonical_query(params, _EARNED_PARAMS, _EARNED_LISTS)),
        "meta": {"lifetimeRewardsInCents": lifetime},
    }
    if include:
        document["included"] = _included(window, include)
    return document


def _single_choice(params: Params, name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.single(name)
    if value is not None and value not in allowed:
        raise invalid_parameter(
            name, f"{name} value {value!r} is not allowed; allowed values: {', '.join(allowed)}"
        )
    return value


def _window_start(range_: str) -> datetime:
    now = datetime.now(timezone.utc)
    if range_ == "YTD":
        return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = divmod(now.year * 12 + now.month - 1 - _MONTHS[range_], 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


_OFFERS_BY_ID = {offer.id: offer for offer in OFFERS}


def _included(window: list[dict[str, Any]], include: list[str]) -> list[dict[str, Any]]:
    offers: dict[str, SeedOffer] = {}
    for row in window:
        offer = _OFFERS_BY_ID.get(row["relationships"]["offer"]["data"]["id"])
        if offer is not None:
            offers.setdefault(offer.id, offer)
    included: list[dict[str, Any]] = []
    if "merchant" in include:
        for offer in offers.values():
            logo = [a for a in offer.resource["attributes"]["assets"] if a["type"] == "IMG_VIEW"]
            included.append(
                {
                    "type": "merchant",
                    "id": _merchant_id(offer),
                    "attributes": {"name": offer.name, "assets": logo},
                }
            )
    if "offer" in include:
        included.extend(
            {
                "type": "offer",
                "id": offer.id,
                "attributes": {"purchaseChannel": list(offer.channels)},
            }
            for offer in offers.values()
        )
    return included
