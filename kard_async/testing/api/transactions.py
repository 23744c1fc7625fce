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
import math
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec

from .._constants import (
    CARD_NETWORKS,
    DIRECTIONS,
    EARNED_REWARD_INCLUDES,
    EARNED_REWARD_STATUSES,
    EARNED_REWARDS_RANGES,
    MAX_FRAUD_MARKERS,
    MAX_TRANSACTIONS,
    PAYMENT_TYPES,
    PROCESSORS,
    STATES,
    TRANSACTION_DATES,
    TRANSACTION_STATUSES,
)
from .._jsonapi import (
    ApiError,
    Page,
    Params,
    canonical_query,
    error_object,
    format_datetime,
    invalid_parameter,
)
from .._records import ReceivedFraudMarker
from .._routing import Call, Document, route
from .._seed import OFFERS, SeedOffer
from .._transaction_wire import CoreAttributes, TransactionAttributes, quick_decode
from .users import require_enrolled

_ORG = "/v2/issuers/{org}"
_Errors = list[dict[str, Any]]
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]

# --------------------------------------------------------------------------- transactions


@route("POST", f"{_ORG}/transactions", status=201)
def create_transactions(call: Call) -> Document:
    errors: _Errors = []
    purchases = _quick(call.body)
    if purchases is None:  # something is off: find every problem, with its pointer
        data = _batch(call.json(), "transactions", MAX_TRANSACTIONS)
        purchases = [_purchase(n, data[n]) for n in _distinct(data, _validate_transaction, errors)]
    organization = call.organization_id
    taken = call.emulator._ledger.claim(organization, [p.id for p in purchases])
    accepted = []
    for purchase in purchases:
        if purchase.id in taken:
            detail = f"transaction {purchase.id!r} was already received"
            errors.append(_item_error(409, purchase.position, purchase.id, detail, "/id"))
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
            self.when = _date(attributes.get("authorizationDate") or attributes.get("settledDate"))
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


def _validate_transaction(index: int, item: Any, errors: _Errors) -> None:
    check = _Checker(index, item, errors)
    if not isinstance(item, dict):
        check.fail("", f"data[{index}] must be an object")
        return
    kind = item.get("type")
    if kind not in ("transaction", "coreTransaction"):
        check.fail("/type", f"type {kind!r} is not allowed; allowed: transaction, coreTransaction")
        return
    check.text("/id", item.get("id"))
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        check.fail("/attributes", "attributes is required and must be an object")
        return
    check.attributes = attributes
    for name in ("userId", "transactionId", "description"):
        check.text(f"/attributes/{name}", attributes.get(name))
    check.cents("amount", required=True)
    currency = attributes.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii()) or not (
        currency.isalpha()
    ):
        check.fail("/attributes/currency", f"currency {currency!r} is not a 3-letter ISO 4217 code")
    check.choice("direction", DIRECTIONS, required=True)
    if kind == "coreTransaction":
        if attributes.get("status") != "SETTLED":
            check.fail(
                "/attributes/status",
                f"status {attributes.get('status')!r} is not allowed; a coreTransaction is SETTLED",
            )
        for name in ("settledDate", "authorizationDate"):
            check.date(name, required=True)
        for name in ("financialInstitutionId", "financialInstitutionName"):
            check.optional_text(name)
        fours = attributes.get("cardLastFours")
        if fours is not None:
            if not isinstance(fours, list):
                check.fail("/attributes/cardLastFours", "cardLastFours must be an array")
            else:
                for n, four in enumerate(fours):
                    check.digits(f"/attributes/cardLastFours/{n}", four, 4, f"cardLastFours[{n}]")
        return
    status = attributes.get("status")
    required_date = TRANSACTION_DATES.get(status) if isinstance(status, str) else None
    check.choice("status", TRANSACTION_STATUSES, required=True)
    check.choice("paymentType", PAYMENT_TYPES, required=True)
    check.digits("/attributes/cardBIN", attributes.get("cardBIN"), 6)
    check.digits("/attributes/cardLastFour", attributes.get("cardLastFour"), 4)
    for name in ("authorizationDate", "settledDate", "transactionDate"):
        check.date(name, required=required_date == name)
    check.cents("subtotal", required=False)
    for name in _OPTIONAL_TEXT:
        check.optional_text(name)
    check.choice("cardNetwork", CARD_NETWORKS, required=False)
    merchant = attributes.get("merchant")
    if merchant is not None:
        _validate_merchant(check, merchant)
    mids = attributes.get("processorMids")
    if mids is not None:
        _validate_mids(check, mids)


_OPTIONAL_TEXT = (
    "description2",
    "mcc",
    "coreProviderId",
    "cardPresence",
    "panEntryMode",
    "authorizationCode",
    "retrievalReferenceNumber",
    "systemTraceAuditNumber",
    "acquirerReferenceNumber",
    "cardProductId",
    "userZipCode",
    "accountId",
)


def _validate_merchant(check: _Checker, merchant: Any) -> None:
    where = "/attributes/merchant"
    if not isinstance(merchant, dict):
        check.fail(where, "merchant must be an object")
        return
    check.text(f"{where}/name", merchant.get("name"))
    for name in ("id", "addrStreet", "addrCity", "addrZipcode", "addrCountry", "storeId"):
        value = merchant.get(name)
        if value is not None and not isinstance(value, str):
            check.fail(f"{where}/{name}", f"merchant.{name} must be a string, got {value!r}")
    state = merchant.get("addrState")
    if state is not None and state not in STATES:
        check.fail(f"{where}/addrState", f"merchant.addrState {state!r} is not a US state code")
    for name, limit in (("latitude", 90.0), ("longitude", 180.0)):
        value = merchant.get(name)
        if value is not None and not _coordinate(value, limit):
            check.fail(
                f"{where}/{name}",
                f"merchant.{name} must be a decimal string within ±{limit:g}, got {value!r}",
            )


def _coordinate(value: object, limit: float) -> bool:
    if not isinstance(value, str):
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and -limit <= number <= limit


def _validate_mids(check: _Checker, mids: Any) -> None:
    where = "/attributes/processorMids"
    if not isinstance(mids, dict):
        check.fail(where, "processorMids must be an object")
        return
    processor = mids.get("processor")
    if processor not in PROCESSORS:
        check.fail(f"{where}/processor", f"processor {processor!r} is not allowed; allowed: VISA")
        return
    inner = mids.get("mids")
    if not isinstance(inner, dict):
        check.fail(f"{where}/mids", "processorMids.mids must be an object with vmid and vsid")
        return
    for name in ("vmid", "vsid"):
        check.text(f"{where}/mids/{name}", inner.get(name))


class _Checker:
    """Collects the errors of one item of ``data``, each with its pointer and the item id."""

    __slots__ = ("attributes", "errors", "id", "index")

    def __init__(self, index: int, item: Any, errors: _Errors) -> None:
        self.index = index
        self.errors = errors
        raw_id = item.get("id") if isinstance(item, dict) else None
        self.id = raw_id if isinstance(raw_id, str) else None
        self.attributes: dict[str, Any] = {}

    def fail(self, where: str, detail: str) -> None:
        self.errors.append(_item_error(400, self.index, self.id, detail, where))

    def text(self, where: str, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            name = where.rsplit("/", 1)[-1]
            self.fail(where, f"{name} is required and must be a non-empty string, got {value!r}")

    def optional_text(self, name: str) -> None:
        value = self.attributes.get(name)
        if value is not None and not isinstance(value, str):
            self.fail(f"/attributes/{name}", f"{name} must be a string, got {value!r}")

    def digits(self, where: str, value: object, count: int, name: str = "") -> None:
        if not (isinstance(value, str) and len(value) == count and value.isascii()) or not (
            value.isdigit()
        ):
            name = name or where.rsplit("/", 1)[-1]
            self.fail(where, f"{name} must be a string of {count} digits, got {value!r}")

    def cents(self, name: str, *, required: bool) -> None:
        value = self.attributes.get(name)
        if value is None and not required:
            return
        if type(value) is not int or value < 0:
            self.fail(
                f"/attributes/{name}",
                f"{name} must be a non-negative integer number of cents, got {value!r}",
            )

    def choice(self, name: str, allowed: tuple[str, ...], *, required: bool) -> None:
        value = self.attributes.get(name)
        if value is None and not required:
            return
        if value not in allowed:
            self.fail(
                f"/attributes/{name}",
                f"{name} {value!r} is not allowed; allowed values: {', '.join(allowed)}",
            )

    def date(self, name: str, *, required: bool) -> None:
        value = self.attributes.get(name)
        if value is None:
            if required:
                status = self.attributes.get("status")
                self.fail(f"/attributes/{name}", f"{name} is required for status {status}")
            return
        if _date(value) is None:
            self.fail(
                f"/attributes/{name}",
                f"{name} {value!r} is not an ISO-8601 date-time with a timezone "
                "(e.g. 2025-01-01T00:00:00Z)",
            )


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return msgspec.convert(value, _AWARE)
    except msgspec.ValidationError:
        return None


def _item_error(
    status: int, index: int, item_id: str | None, detail: str, where: str
) -> dict[str, Any]:
    error = error_object(status, detail, pointer=f"/data/{index}{where}")
    if item_id is not None:
        error["id"] = item_id
    return error


def _ordered(errors: _Errors) -> _Errors:
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
    data: list[Any], validate: Callable[[int, Any, _Errors], None], errors: _Errors
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
                _item_error(400, n, id_, f"id {id_!r} repeats data[{first}] of this request", "/id")
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
    errors: _Errors = []
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


def _validate_marker(index: int, item: Any, errors: _Errors) -> None:
    check = _Checker(index, item, errors)
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
        when = _date(attributes["transactionTimestamp"])
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
