"""Webhooks: signatures, typed notifications, the aiohttp handler over real HTTP on 127.0.0.1,
the ``kard-async webhooks listen`` command as a subprocess, and the benchmark worker."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import logging
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from benchmarks import webhook as webhook_benchmark
from kard_async import InvalidParameterError, KardError, WebhookPayloadError, WebhookSignatureError
from kard_async.models import (
    AuditUpdate,
    EarnedRewardApproved,
    EarnedRewardRejected,
    EarnedRewardSettled,
    EmailNotificationPlacementFile,
    FileProcessingResult,
    Notification,
    PayoutReconciliationFile,
    PushNotificationPlacementFile,
    UnknownNotification,
    UnknownResource,
)
from kard_async.webhooks import aiohttp_handler, construct_event, sign, verify_signature

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "whsec_test_Kf8s2LqP0vXbN3"
META = {"issuerId": "6283f2d5e5a1b6ebbf7e4f35", "issuerName": "Example Bank"}


def compact(payload: Any) -> bytes:
    """How Kard (Node, ``JSON.stringify``) writes a payload: no spaces, UTF-8 as is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def relation(kind: str, id_: str) -> dict[str, Any]:
    return {"data": {"type": kind, "id": id_}}


EARNED = {
    "message": "You have earned a 72 cent reward on your transaction at McDonald's",
    "name": "McDonald's",
    "attributionUrl": "https://api.getkard.com/v2/attribution/eyJub3RpZmljYXRpb24iOjF9",
    "surveyUrl": "https://survey.getkard.com/s/123",
    "cardProductId": "card_product_123",
    "transactionTimestamp": "2024-10-01T14:32:10.000Z",
    "transactionId": "019df940-babd-7cd3-acfc-a96de16643e9",
    "transactionAmountInCents": 3000,
    "categoryName": "Food & Beverage",
    "userReward": {"type": "PERCENT", "value": 2.4},
    "assets": [{"type": "IMG_VIEW", "url": "https://cdn.getkard.com/m/logo.png?a=1"}],
    "purchaseChannel": ["ONLINE", "INSTORE"],
}
EARNED_RELATIONSHIPS = {
    "user": relation("user", "user-1234"),
    "offer": relation("offer", "offer-555"),
    "transaction": relation("transaction", "txn-987"),
}

PAYLOADS: dict[str, dict[str, Any]] = {
    "earnedRewardApproved": {
        "type": "earnedRewardApproved",
        "id": "ntf-approved-1",
        "attributes": EARNED,
        "relationships": EARNED_RELATIONSHIPS,
    },
    "earnedRewardSettled": {
        "type": "earnedRewardSettled",
        "id": "ntf-settled-1",
        "attributes": {**EARNED, "commissionEarned": {"type": "cents", "value": 72}},
        "relationships": EARNED_RELATIONSHIPS,
    },
    "earnedRewardRejected": {
        "type": "earnedRewardRejected",
        "id": "ntf-rejected-1",
        "attributes": {
            "reason": "USER_NOT_ENROLLED",
            "message": "This transaction is not eligible for a reward",
            "transactionId": "txn-988",
            "transactionAmountInCents": 1250,
            "transactionTimestamp": "2024-10-02T09:00:00Z",
        },
        "relationships": {
            "user": relation("user", "user-1234"),
            "transaction": relation("transaction", "txn-988"),
        },
    },
    "auditUpdate": {
        "type": "auditUpdate",
        "id": "ntf-audit-1",
        "attributes": {
            "status": "CLOSED",
            "auditCode": 3006,
            "merchantName": "McDonald's",
            "auditDescription": "Customer says the cashback is missing",
            "transactionId": "txn-987",
            "resolutionCode": 5007,
            "resolutionDescription": "Transaction will be resent through webhook",
            "resolutionTimeStamp": "2024-10-05T12:00:00Z",
        },
        "relationships": {
            "user": relation("user", "user-1234"),
            "audit": relation("audit", "audit-42"),
        },
    },
    "fileProcessingResult": {
        "type": "fileProcessingResult",
        "id": "ntf-file-1",
        "attributes": {
            "fileName": "transaction_12345.result.jsonl",
            "sentAt": "2024-10-01T00:00:00Z",
            "lastModified": "2024-10-01T00:05:00Z",
            "downloadUrl": "https://files.getkard.com/results/transaction_12345.jsonl?sig=abc",
        },
    },
    "pushNotificationPlacementFile": {
        "type": "pushNotificationPlacementFile",
        "id": "placement-push-1",
        "attributes": {
            "placementName": "Weekly push",
            "availableSlots": 3,
            "cadence": "WEEKLY",
            "downloadUrl": "https://files.getkard.com/placements/push.jsonl.gz?sig=abc",
        },
        "relationships": {
            "placement": relation("placement", "placement-push-1"),
            "contentStrategy": relation("contentStrategy", "strategy-7"),
        },
    },
    "emailNotificationPlacementFile": {
        "type": "emailNotificationPlacementFile",
        "id": "placement-email-1",
        "attributes": {
            "name": "Monthly email",
            "organizationId": "org-123",
            "availableSlots": 5,
            "cadence": "MONTHLY",
            "downloadUrl": "https://files.getkard.com/placements/email.jsonl.gz?sig=abc",
        },
        "relationships": {"placement": relation("placement", "placement-email-1")},
    },
    "payoutReconciliationFile": {
        "type": "payoutReconciliationFile",
        "id": "ntf-payout-1",
        "attributes": {
            "fileName": "payout_2024_09.csv",
            "periodStart": "2024-09-01T00:00:00Z",
            "periodEnd": "2024-09-30T23:59:59Z",
            "downloadUrl": "https://files.getkard.com/payouts/2024_09.csv?sig=abc",
            "expiresIn": 1800,
        },
        "relationships": {"file": relation("file", "file-2024-09")},
    },
}


def body_of(kind: str, **data_overrides: Any) -> bytes:
    data = copy.deepcopy(PAYLOADS[kind])
    data.update(data_overrides)
    return compact({"data": data, "meta": META})


def check_settled(event: Notification) -> None:
    assert isinstance(event, EarnedRewardSettled)
    assert event.attributes.commission_earned.value == 72


CHECKS: dict[str, tuple[type[Any], Callable[[Any], object]]] = {
    "earnedRewardApproved": (
        EarnedRewardApproved,
        lambda e: (
            e.attributes.transaction_amount_in_cents == 3000
            and e.attributes.user_reward.value == 2.4
            and e.attributes.transaction_timestamp
            == datetime(2024, 10, 1, 14, 32, 10, tzinfo=timezone.utc)
            and e.attributes.purchase_channel == ["ONLINE", "INSTORE"]
            and e.attributes.assets[0].type == "IMG_VIEW"
            and e.user_id == "user-1234"
            and e.relationships.offer.ids == ["offer-555"]
        ),
    ),
    "earnedRewardSettled": (
        EarnedRewardSettled,
        lambda e: (
            e.attributes.commission_earned.value == 72
            and e.attributes.commission_earned.type == "cents"
            and e.attributes.name == "McDonald's"
            and e.user_id == "user-1234"
        ),
    ),
    "earnedRewardRejected": (
        EarnedRewardRejected,
        lambda e: e.attributes.reason == "USER_NOT_ENROLLED" and e.user_id == "user-1234",
    ),
    "auditUpdate": (
        AuditUpdate,
        lambda e: (
            e.attributes.status == "CLOSED"
            and e.attributes.audit_code == 3006
            and e.attributes.resolution_code == 5007
            and e.attributes.resolution_time_stamp == datetime(2024, 10, 5, 12, tzinfo=timezone.utc)
            and e.relationships.audit.ids == ["audit-42"]
            and e.user_id == "user-1234"
        ),
    ),
    "fileProcessingResult": (
        FileProcessingResult,
        lambda e: (
            e.attributes.file_name == "transaction_12345.result.jsonl"
            and e.attributes.download_url.startswith("https://files.getkard.com/results/")
            and e.attributes.period_start is None
        ),
    ),
    "pushNotificationPlacementFile": (
        PushNotificationPlacementFile,
        lambda e: (
            e.attributes.placement_name == "Weekly push"
            and e.attributes.available_slots == 3
            and e.relationships.content_strategy.ids == ["strategy-7"]
        ),
    ),
    "emailNotificationPlacementFile": (
        EmailNotificationPlacementFile,
        lambda e: (
            e.attributes.organization_id == "org-123"
            and e.attributes.cadence == "MONTHLY"
            and e.relationships.content_strategy is None
        ),
    ),
    "payoutReconciliationFile": (
        PayoutReconciliationFile,
        lambda e: e.attributes.expires_in == 1800 and e.relationships.file.ids == ["file-2024-09"],
    ),
}


# --------------------------------------------------------------------------- signatures


def test_sign_is_the_base64_hmac_sha256_of_the_exact_bytes() -> None:
    # The RFC 4231-style textbook vector: HMAC-SHA256("key", "The quick brown fox ...").
    expected = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    message = b"The quick brown fox jumps over the lazy dog"
    assert sign(message, "key") == base64.b64encode(bytes.fromhex(expected)).decode()
    assert sign(message, b"key") == sign(message, "key")
    assert sign(message + b" ", "key") != sign(message, "key")


def test_verify_accepts_base64_and_hex_digests() -> None:
    body = body_of("earnedRewardSettled")
    digest = hmac.new(KEY.encode(), body, hashlib.sha256).digest()
    for signature in (
        base64.b64encode(digest).decode(),  # Kard's recipe: base64
        base64.b64encode(digest).decode().rstrip("="),  # padding dropped on the way
        digest.hex(),
        digest.hex().upper(),
        f"  {digest.hex()}\n",
    ):
        assert verify_signature(body, signature, KEY), signature
        assert verify_signature(body, signature, KEY.encode())
        assert verify_signature(bytearray(body), signature, KEY)


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "   ",
        "not-a-signature",
        "sha256=" + "0" * 64,
        "0" * 64,  # well-formed hex, wrong digest
        base64.b64encode(b"\0" * 32).decode(),  # well-formed base64, wrong digest
        base64.b64encode(b"\0" * 31).decode(),
        "z" * 64,  # 64 characters that are not hex
        "é" * 44,
    ],
)
def test_verify_rejects_missing_empty_and_wrong_signatures(signature: str | None) -> None:
    assert verify_signature(body_of("earnedRewardSettled"), signature, KEY) is False


def test_verify_rejects_another_key_and_a_changed_body() -> None:
    body = body_of("earnedRewardSettled")
    signature = sign(body, KEY)
    assert not verify_signature(body, signature, KEY + "x")
    assert not verify_signature(body, signature, "whsec_production_key")
    changed = body.replace(b'"value":72', b'"value":7200')
    assert changed != body
    assert not verify_signature(changed, signature, KEY)
    assert not verify_signature(b"", signature, KEY)


def test_construct_event_raises_on_missing_empty_and_bad_signatures() -> None:
    body = body_of("earnedRewardSettled")
    for missing in (None, "", "  "):
        with pytest.raises(WebhookSignatureError, match="missing or empty"):
            construct_event(body, missing, KEY)
    with pytest.raises(WebhookSignatureError, match="does not match the body"):
        construct_event(body, sign(body, "another-key"), KEY)
    with pytest.raises(WebhookSignatureError, match="does not match the body"):
        construct_event(body + b"\n ", "garbage", KEY)
    assert issubclass(WebhookSignatureError, KardError)


# --- bodies re-serialised between Kard and the receiver (Kard signs JSON.stringify output)


def test_pretty_printed_body_verifies_against_the_compact_signature() -> None:
    payload = {"data": PAYLOADS["earnedRewardSettled"], "meta": META}
    signature = sign(compact(payload), KEY)
    for reformatted in (
        json.dumps(payload, indent=2).encode(),  # non-ASCII escaped as \uXXXX
        json.dumps(payload, indent=4, ensure_ascii=False).encode(),
        json.dumps(payload, separators=(", ", ": ")).encode(),
        json.dumps(payload).replace("/", "\\/").encode(),  # escaped slashes
        b"\r\n" + json.dumps(payload, indent="\t").encode() + b"\n",
    ):
        assert reformatted != compact(payload)
        assert verify_signature(reformatted, signature, KEY)
        event = construct_event(reformatted, signature, KEY)
        assert isinstance(event, EarnedRewardSettled)
        assert event.id == "ntf-settled-1"


def test_reformatted_body_with_changed_content_is_rejected() -> None:
    payload = {"data": PAYLOADS["earnedRewardSettled"], "meta": META}
    signature = sign(compact(payload), KEY)
    tampered = copy.deepcopy(payload)
    tampered["data"]["attributes"]["commissionEarned"]["value"] = 7200
    assert not verify_signature(json.dumps(tampered, indent=2).encode(), signature, KEY)
    reordered = {"meta": META, "data": payload["data"]}  # JSON.stringify keeps key order
    assert not verify_signature(json.dumps(reordered, indent=2).encode(), signature, KEY)
    with pytest.raises(WebhookSignatureError):
        construct_event(json.dumps(tampered).encode(), signature, KEY)


# Each pair: a body as a receiver may get it, and JSON.stringify(JSON.parse(body)) as
# Node 20 printed it (numbers written the JavaScript way, escapes as JavaScript writes them).
NODE_STRINGIFY = [
    (
        '{"a" : 1.0E+2 , "b":\t[ 1e5 ,\n 1E-10, 0.000001, 0.0000001, 100.0, 1.25e2, -0.0]}',
        '{"a":100,"b":[100000,1e-10,0.000001,1e-7,100,125,0]}',
    ),
    (
        '{"v": [5.0, 5.70, 1e21, 1e20, 123456789.125, 2.5e-5, 1.7976931348623157e308]}',
        '{"v":[5,5.7,1e+21,100000000000000000000,123456789.125,0.000025,1.7976931348623157e+308]}',
    ),
    (
        '{"s": "caf\\u00e9 \\ud83d\\ude00 \\u0001\\u001f \\b\\f\\n\\r\\t '
        '\\"q\\" \\\\ \\/ \\u2028"}',
        '{"s":"café 😀 \\u0001\\u001f \\b\\f\\n\\r\\t \\"q\\" \\\\ / \u2028"}',
    ),
    ('{ "z": {}, "a": [ ], "m": [true, false, null] }', '{"z":{},"a":[],"m":[true,false,null]}'),
]


@pytest.mark.parametrize(("received", "stringified"), NODE_STRINGIFY)
def test_compact_form_matches_javascript_json_stringify(received: str, stringified: str) -> None:
    assert received.encode() != stringified.encode()
    assert verify_signature(received.encode(), sign(stringified.encode(), KEY), KEY)
    almost = stringified.replace("1", "2", 1).replace("z", "y", 1).replace("caf", "cab", 1)
    assert not verify_signature(received.encode(), sign(almost.encode(), KEY), KEY)


def test_non_ascii_bodies() -> None:
    data = copy.deepcopy(PAYLOADS["earnedRewardApproved"])
    data["attributes"]["name"] = "Café «Zoë» 東京 😀"
    data["attributes"]["message"] = "Vous avez gagné 0,72 € chez Café «Zoë»"
    payload = {"data": data, "meta": {**META, "issuerName": "Bänk"}}
    raw = compact(payload)
    assert "é".encode() in raw  # UTF-8 as is, the way JSON.stringify writes it
    signature = sign(raw, KEY)
    event = construct_event(raw, signature, KEY)
    assert isinstance(event, EarnedRewardApproved)
    assert event.attributes.name == "Café «Zoë» 東京 😀"
    assert event.meta is not None
    assert event.meta.issuer_name == "Bänk"
    # The same content with non-ASCII escaped (\u00e9) still matches Kard's signature ...
    escaped = json.dumps(payload).encode()
    assert escaped.isascii()
    assert construct_event(escaped, signature, KEY).id == event.id
    # ... but a signature over the escaped form is not what the raw UTF-8 body carries.
    assert not verify_signature(raw, sign(escaped, KEY), KEY)
    # A body that is not UTF-8 / JSON only verifies on its raw bytes.
    latin1 = '{"name": "Café"}'.encode("latin-1")
    assert verify_signature(latin1, sign(latin1, KEY), KEY)
    assert not verify_signature(latin1, sign(b'{"name":"Caf\xc3\xa9"}', KEY), KEY)


# --------------------------------------------------------------------------- notifications


@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_every_known_type_decodes_from_a_realistic_payload(kind: str) -> None:
    body = body_of(kind)
    event = construct_event(body, sign(body, KEY), KEY)
    model, check = CHECKS[kind]
    assert type(event) is model
    assert event.type == kind
    assert event.id == PAYLOADS[kind]["id"]
    assert event.meta is not None
    assert (event.meta.issuer_id, event.meta.issuer_name) == (META["issuerId"], "Example Bank")
    assert check(event)


def test_unknown_types_are_kept_never_an_error() -> None:
    body = compact(
        {
            "data": {
                "type": "cardLinkedOfferExpired",  # a type this version does not know
                "id": "ntf-new-1",
                "attributes": {"offerId": "o-1", "expiresAt": "2025-01-01T00:00:00Z"},
                "relationships": {"user": relation("user", "user-1")},
            },
            "meta": META,
        }
    )
    event = construct_event(body, sign(body, KEY), KEY)
    assert isinstance(event, UnknownNotification)
    assert isinstance(event, UnknownResource)
    assert (event.type, event.id) == ("cardLinkedOfferExpired", "ntf-new-1")
    assert event.attributes == {"offerId": "o-1", "expiresAt": "2025-01-01T00:00:00Z"}
    assert event.relationships["user"]["data"]["id"] == "user-1"
    assert event.meta is not None
    assert event.meta.issuer_id == META["issuerId"]
    # Removed types (validTransaction, clawback) come through the same way.
    old = compact({"data": {"type": "clawback", "id": "c-1"}})
    event = construct_event(old, sign(old, KEY), KEY)
    assert isinstance(event, UnknownNotification)
    assert (event.type, event.id, event.meta) == ("clawback", "c-1", None)


def test_open_enums_unknown_fields_and_a_data_level_meta() -> None:
    data = copy.deepcopy(PAYLOADS["earnedRewardRejected"])
    data["attributes"]["reason"] = "SOME_FUTURE_REASON"
    data["attributes"]["newField"] = {"nested": [1, 2]}
    data["meta"] = {"issuerId": "not-the-envelope"}  # JSON:API allows resource meta
    body = compact({"data": data, "meta": META, "errors": [], "jsonapi": {"version": "1.1"}})
    event = construct_event(body, sign(body, KEY), KEY)
    assert isinstance(event, EarnedRewardRejected)
    assert event.attributes.reason == "SOME_FUTURE_REASON"
    assert event.meta is not None
    assert event.meta.issuer_id == META["issuerId"]

    settled = copy.deepcopy(PAYLOADS["earnedRewardSettled"])
    settled["attributes"]["purchaseChannel"] = ["CRYPTO"]
    settled["attributes"]["assets"] = [{"type": "LOCATION_IMG_VIEW", "url": "https://x/y.png"}]
    settled["attributes"]["userReward"] = {"type": "TIERED", "value": 3}
    del settled["relationships"]
    body = compact({"data": settled})
    event = construct_event(body, sign(body, KEY), KEY)
    assert isinstance(event, EarnedRewardSettled)
    assert event.attributes.purchase_channel == ["CRYPTO"]
    assert event.attributes.assets[0].type == "LOCATION_IMG_VIEW"
    assert event.attributes.user_reward is not None
    assert event.attributes.user_reward.type == "TIERED"
    assert (event.meta, event.relationships, event.user_id) == (None, None, None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json at all", "malformed"),
        (b"", "truncated"),
        (b"[1, 2]", "Expected `object`, got `array`"),
        (b'{"meta": {}}', "missing required field `data`"),
        (b'{"data": 5}', "Expected `object`, got `int`"),
        (b'{"data": {"id": "x"}}', "missing required field `type` - at `$.data`"),
        (
            compact({"data": {"type": "auditUpdate", "id": "a", "attributes": {"status": "NEW"}}}),
            "missing required field `auditCode` - at `$.data.attributes`",
        ),
        (
            body_of("earnedRewardSettled", attributes={**EARNED, "commissionEarned": "72"}),
            "Expected `object`, got `str` - at `$.data.attributes.commissionEarned`",
        ),
    ],
)
def test_a_signed_body_that_is_not_a_notification(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookPayloadError) as caught:
        construct_event(body, sign(body, KEY), KEY)
    assert reason in caught.value.reason
    assert reason in str(caught.value)
    assert caught.value.body == body
    assert caught.value.__cause__ is None
    assert isinstance(caught.value, KardError)


def test_bad_input_is_an_invalid_parameter_error() -> None:
    body = body_of("auditUpdate")
    signature = sign(body, KEY)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: construct_event(body.decode(), signature, KEY), "invalid body='<str of"),  # type: ignore[arg-type]
        (lambda: verify_signature(None, signature, KEY), "invalid body=None"),  # type: ignore[arg-type]
        (lambda: construct_event(body, signature, ""), "invalid key='': must not be empty"),
        (lambda: construct_event(body, signature, b""), "invalid key='': must not be empty"),
        (lambda: sign(body, None), "invalid key='<NoneType>'"),  # type: ignore[arg-type]
        (lambda: verify_signature(body, signature.encode(), KEY), "invalid signature='<bytes>'"),  # type: ignore[arg-type]
        (lambda: aiohttp_handler(KEY, "print"), "invalid on_event='print'"),  # type: ignore[arg-type]
        (lambda: aiohttp_handler(KEY, print, max_body_size=0), "invalid max_body_size=0"),
        (lambda: aiohttp_handler("", print), "invalid key=''"),
    ]
    for call, message in cases:
        with pytest.raises(InvalidParameterError) as caught:
            call()
        assert str(caught.value).startswith(message), str(caught.value)
    with pytest.raises(InvalidParameterError) as caught:
        construct_event(body.decode(), signature, KEY)  # type: ignore[arg-type]
    assert "await request.read()" in str(caught.value)


# --------------------------------------------------------------------------- the aiohttp handler


Post = Callable[..., Awaitable[tuple[int, str]]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Post]]]:
    """Serve an aiohttp_handler on 127.0.0.1; returns ``post(body, signature=...)``."""
    runners: list[web.AppRunner] = []
    session = aiohttp.ClientSession()

    async def start(on_event: Any, **options: Any) -> Post:
        app = web.Application()
        app.router.add_post("/kard/webhooks", aiohttp_handler(KEY, on_event, **options))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/kard/webhooks"

        async def post(body: Any, signature: str | None = None, **kwargs: Any) -> tuple[int, str]:
            headers = {} if signature is None else {"Notify-Signature": signature}
            async with session.post(url, data=body, headers=headers, **kwargs) as response:
                return response.status, await response.text()

        return post

    yield start
    await session.close()
    for runner in runners:
        await runner.cleanup()


async def test_handler_answers_200_and_calls_a_sync_on_event(serve: Any) -> None:
    received: list[Notification] = []
    post = await serve(received.append)
    for kind in ("earnedRewardSettled", "auditUpdate"):
        body = body_of(kind)
        assert await post(body, sign(body, KEY)) == (200, "ok\n")
    pretty = json.dumps({"data": PAYLOADS["fileProcessingResult"]}, indent=2).encode()
    assert (await post(pretty, sign(compact({"data": PAYLOADS["fileProcessingResult"]}), KEY)))[
        0
    ] == 200
    assert [type(e) for e in received] == [EarnedRewardSettled, AuditUpdate, FileProcessingResult]
    assert received[0].id == "ntf-settled-1"


async def test_handler_awaits_an_async_on_event(serve: Any) -> None:
    done: list[str] = []

    async def on_event(event: Notification) -> None:
        await asyncio.sleep(0.01)
        done.append(event.id)

    post = await serve(on_event)
    body = body_of("payoutReconciliationFile")
    assert await post(body, sign(body, KEY)) == (200, "ok\n")
    assert done == ["ntf-payout-1"]  # awaited before the answer


async def test_handler_rejects_bad_signatures_and_bodies(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kard_async")
    received: list[Notification] = []
    post = await serve(received.append)
    body = body_of("earnedRewardSettled")
    assert await post(body) == (401, "invalid signature\n")
    assert await post(body, "") == (401, "invalid signature\n")
    assert await post(body, sign(body, "wrong-key")) == (401, "invalid signature\n")
    assert await post(body, sign(body, KEY).lower()) == (401, "invalid signature\n")
    garbage = b'{"data": {"type": "auditUpdate"}}'
    assert await post(garbage, sign(garbage, KEY)) == (400, "not a Kard notification\n")
    assert await post(b"oops", sign(b"oops", KEY)) == (400, "not a Kard notification\n")
    assert received == []
    messages = [r.getMessage() for r in caplog.records]
    assert sum("rejected (401)" in m for m in messages) == 4
    assert sum("rejected (400)" in m for m in messages) == 2
    assert all("127.0.0.1" in m for m in messages)


async def test_handler_limits_the_body_size(serve: Any) -> None:
    received: list[Notification] = []
    post = await serve(received.append, max_body_size=2_000)
    body = body_of("earnedRewardSettled")  # ~1 KB: fits
    assert (await post(body, sign(body, KEY)))[0] == 200
    big = compact({"data": {**PAYLOADS["earnedRewardSettled"], "pad": "x" * 5_000}})
    assert await post(big, sign(big, KEY)) == (413, "body too large\n")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked encoding
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    assert await post(chunks(), sign(big, KEY)) == (413, "body too large\n")
    assert len(received) == 1


async def test_on_event_errors_answer_500_without_leaking(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kard_async")

    def on_event(event: Notification) -> None:
        raise RuntimeError("database password hunter2 rejected")

    post = await serve(on_event)
    body = body_of("earnedRewardApproved")
    status, text = await post(body, sign(body, KEY))
    assert (status, text) == (500, "internal error\n")
    assert "hunter2" not in text
    failure = next(r for r in caplog.records if "on_event failed" in r.getMessage())
    assert "'ntf-approved-1'" in failure.getMessage()
    assert failure.exc_info is not None  # the traceback goes to the app's log, not the sender


async def test_async_on_event_errors_answer_500(serve: Any) -> None:
    async def on_event(event: Notification) -> None:
        raise ValueError("boom")

    post = await serve(on_event)
    body = body_of("earnedRewardApproved")
    assert await post(body, sign(body, KEY)) == (500, "internal error\n")


async def test_the_key_and_expected_digest_never_leak(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = body_of("earnedRewardSettled")
    digest = hmac.new(KEY.encode(), body, hashlib.sha256).digest()
    secrets = [KEY, base64.b64encode(digest).decode(), digest.hex(), digest.hex()[:16]]
    shown: list[str] = []

    def record(error: BaseException) -> None:
        while error is not None:
            shown.extend([str(error), repr(error), repr(error.args)])
            error = error.__cause__ or error.__context__  # type: ignore[assignment]

    for attempt in (
        lambda: construct_event(body, None, KEY),
        lambda: construct_event(body, sign(body, "other"), KEY),
        lambda: construct_event(body, base64.b64encode(digest[:-1] + b"x").decode(), KEY),
        lambda: construct_event(b"{not json", sign(b"{not json", KEY), KEY),
        lambda: construct_event(body.decode(), "x", KEY),  # type: ignore[arg-type]
        lambda: construct_event(body, "x", 42),  # type: ignore[arg-type]
    ):
        with pytest.raises(KardError) as caught:
            attempt()
        record(caught.value)
    post = await serve(lambda event: None)
    for signature in (None, "", sign(body, "other"), digest.hex()[:-2] + "00"):
        assert (await post(body, signature))[0] == 401
    assert (await post(b"[]", sign(b"[]", KEY)))[0] == 400
    assert (await post(body, sign(body, KEY)))[0] == 200
    assert caplog.records  # the rejections were logged ...
    shown += [caplog.text, *(r.getMessage() for r in caplog.records)]
    for text in shown:
        for secret in secrets:
            assert secret not in text  # ... without the key or the expected digest


# --------------------------------------------------------------------------- the command line


def _env(key: str | None = KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    if key is not None:
        env["KARD_WEBHOOK_KEY"] = key
    return env


class Listener:
    """``kard-async webhooks listen --port 0`` in a subprocess; stderr read by a thread."""

    def __init__(self, *args: str, key: str | None = KEY, stdout: Any = subprocess.PIPE) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kard_async", "webhooks", "listen", "--port", "0", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={**_env(key), "COLUMNS": "200"},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._read_stderr, daemon=True)
        self._pump.start()
        self.stderr = ""
        deadline = time.monotonic() + 20
        while True:
            line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the listener exited before listening"
            self.stderr += line
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if found:
                self.url = found.group(0)
                return

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def stop(self) -> str:
        """Terminate (as Ctrl-C would); return what it printed on stdout (when piped)."""
        self.process.terminate()
        stdout = self.process.stdout.read() if self.process.stdout is not None else ""
        self.process.wait(timeout=20)
        self._pump.join(timeout=20)
        while (line := self._lines.get_nowait()) is not None:
            self.stderr += line
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return stdout


def _post(url: str, body: bytes, signature: str | None) -> int:
    headers = {"notify-signature": signature} if signature is not None else {}
    request = urllib.request.Request(url + "kard", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def test_cli_listen_prints_verified_notifications_and_reports_bad_signatures() -> None:
    listener = Listener()
    try:
        settled = body_of("earnedRewardSettled")
        unknown = compact({"data": {"type": "new", "id": "n"}})
        assert _post(listener.url, settled, sign(settled, KEY)) == 200
        assert _post(listener.url, settled, sign(settled, "wrong")) == 401
        assert _post(listener.url, settled, None) == 401
        assert _post(listener.url, unknown, sign(unknown, KEY)) == 200
        assert _post(listener.url, b"[]", sign(b"[]", KEY)) == 400
    finally:
        stdout = listener.stop()
    assert listener.process.returncode == 0
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert [line["data"]["id"] for line in lines] == ["ntf-settled-1", "n"]
    assert lines[0]["data"]["type"] == "earnedRewardSettled"
    assert lines[0]["data"]["attributes"]["commissionEarned"] == {"value": 72, "type": "cents"}
    assert lines[0]["meta"] == META
    stderr = listener.stderr
    assert stderr.count("rejected (401)") == 2
    assert "does not match the body" in stderr
    assert "missing or empty" in stderr
    assert "rejected (400)" in stderr
    assert KEY not in stdout + stderr


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kard_async", *args],
        capture_output=True,
        text=True,
        env=_env(None),
        timeout=30,
        check=False,
    )


def test_cli_listen_requires_a_key_and_has_help() -> None:
    done = _run_cli("webhooks", "listen", "--port", "0")
    assert done.returncode == 2
    assert "missing --key (or KARD_WEBHOOK_KEY)" in done.stderr
    for command in (["webhooks"], ["webhooks", "listen"]):
        done = _run_cli(*command, "--help")
        assert done.returncode == 0
        assert "usage: kard-async webhooks" in done.stdout
        assert "example" in done.stdout
    assert "webhooks listen --port 8000" in _run_cli("--help").stdout
    assert _run_cli("webhooks").returncode == 2  # no subcommand: usage


def test_cli_listen_shows_a_table_on_a_terminal() -> None:
    pty = pytest.importorskip("pty")
    pytest.importorskip("rich")
    leader, follower = pty.openpty()
    try:
        listener = Listener(stdout=follower)
    finally:
        os.close(follower)
    shown = b""
    try:
        for kind in ("earnedRewardSettled", "auditUpdate"):
            body = body_of(kind)
            assert _post(listener.url, body, sign(body, KEY)) == 200
        deadline = time.monotonic() + 20
        while b"ntf-audit-1" not in shown and time.monotonic() < deadline:
            shown += os.read(leader, 65536)
    finally:
        listener.stop()
        os.close(leader)
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode())  # without rich's styles
    lines = text.splitlines()
    assert re.search(r"received +type +id +user +details", lines[0])
    settled = next(line for line in lines if "ntf-settled-1" in line)
    assert re.search(r"earnedRewardSettled +ntf-settled-1 +user-1234 +72 cents earned: ", settled)
    audit = next(line for line in lines if "ntf-audit-1" in line)
    assert "CLOSED, audit 3006 at McDonald's, resolution 5007" in audit
    assert "{" not in text  # a table, not JSON lines
    assert text.count("received") == 1  # the header once


@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_cli_details_summarise_every_type(kind: str) -> None:
    from kard_async.cli._webhooks import details

    body = body_of(kind)
    text = details(construct_event(body, sign(body, KEY), KEY))
    expected = {
        "earnedRewardApproved": "You have earned a 72 cent reward",
        "earnedRewardSettled": "72 cents earned",
        "earnedRewardRejected": "USER_NOT_ENROLLED: This transaction is not eligible",
        "auditUpdate": "CLOSED, audit 3006",
        "fileProcessingResult": "transaction_12345.result.jsonl",
        "pushNotificationPlacementFile": "push placement 'Weekly push'",
        "emailNotificationPlacementFile": "email placement 'Monthly email'",
        "payoutReconciliationFile": "payout_2024_09.csv (2024-09-01T00:00:00Z to",
    }[kind]
    assert expected in text


def test_cli_listen_takes_the_key_from_the_command_line() -> None:
    listener = Listener("--key", "cli-key", "--json", key=None)
    try:
        body = body_of("auditUpdate")
        assert _post(listener.url, body, sign(body, KEY)) == 401
        hex_digest = hmac.new(b"cli-key", body, hashlib.sha256).hexdigest()
        assert _post(listener.url, body, hex_digest) == 200
    finally:
        stdout = listener.stop()
    assert json.loads(stdout)["data"]["id"] == "ntf-audit-1"


# --------------------------------------------------------------------------- benchmark worker


@pytest.mark.parametrize("variant", webhook_benchmark.VARIANTS)
def test_webhook_benchmark_variants_run(variant: str) -> None:
    from benchmarks._common import Skip, WorkerArgs

    args = WorkerArgs(
        measure="webhook", base_url="", cpu=None, json=True, concurrency=1, duration=0.0,
        min_requests=50, max_time=5.0, events=0, users=0, body=None, variant=variant, mode=None,
    )  # fmt: skip
    try:
        import kard  # noqa: F401
    except ImportError:
        if variant != "ours":
            with pytest.raises(Skip):
                webhook_benchmark.run(args)
            return
    result = webhook_benchmark.run(args)
    assert result["variant"] == variant
    assert result["events"] >= 50
    assert result["events_per_s"] > 0
    assert result["body_bytes"] > 1_000


def test_webhook_benchmark_body_is_a_valid_settled_notification() -> None:
    body = webhook_benchmark.settled_body()
    event = construct_event(body, sign(body, webhook_benchmark.KEY), webhook_benchmark.KEY)
    check_settled(event)
    assert event.id == webhook_benchmark.NOTIFICATION_ID
