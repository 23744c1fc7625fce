"""Users (§4, §16), WebView tokens (§6) and audits (§7.3) against the emulator: every call,
207 mixes, 409s, validation before sending, bulk accounting under faults, strict users."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from conftest import Inbox

from kard_async import (
    AsyncKard,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidParameterError,
    Kard,
    MultiStatusError,
    NotFoundError,
)
from kard_async.bulk import BulkProgress, BulkReport
from kard_async.models import (
    Audit,
    AuditsCreated,
    AuditUpdate,
    EnrolledUser,
    PhoneNumber,
    PostalCode,
    ResourceIdentifier,
    User,
    UsersCreated,
    WebViewToken,
)
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

ORG = TEST_ORGANIZATION_ID
HASH = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3e2d8a5b76e45a1d4c4e2e3a1"


def user(user_id: str, **attributes: Any) -> User:
    return User(id=user_id, enrolled_rewards=["CARDLINKED"], **attributes)


def wire(user_id: str, **attributes: Any) -> dict[str, Any]:
    return {"id": user_id, "enrolledRewards": ["CARDLINKED"], **attributes}


def audit(transaction_id: str, code: int = 3006) -> Audit:
    return Audit(
        audit_code=code,
        merchant_name="Caribbean Goodness",
        audit_description="cashback missing",
        transaction_id=transaction_id,
    )


def bodies(emulator: KardEmulator, method: str, suffix: str) -> list[Any]:
    return [
        json.loads(r.body)
        for r in emulator.requests
        if r.method == method and r.path.endswith(suffix)
    ]


# --------------------------------------------------------------------------- create


async def test_create_sends_the_wire_format_and_enrolls(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    full = User(
        id="u-1",
        enrolled_rewards=["CARDLINKED"],
        zip_code="11238",
        email="user@example.com",
        hashed_email=HASH,
        phone_number="+14155552671",
        birth_year="1990",
        historical_transactions_sent=False,
        phone_numbers=[
            PhoneNumber(number="+14155552671", type="MOBILE"),
            {"number": "+12125550188"},
        ],
        postal_codes=[PostalCode(code="11238", type="PHYSICAL")],
    )
    nested = {"type": "user", "id": "u-2", "attributes": {"enrolledRewards": []}}
    result = await kard.users.create([full, nested, wire("u-3", email="three@example.com")])

    assert isinstance(result, UsersCreated)
    assert result.ok
    assert result.errors == []
    assert result.failed_ids == []
    result.raise_for_errors()  # nothing failed: no exception
    assert [u.id for u in result.data] == ["u-1", "u-2", "u-3"]
    first = result.data[0].attributes
    assert first.phone_numbers == [
        PhoneNumber(number="+14155552671", type="MOBILE"),
        PhoneNumber(number="+12125550188"),
    ]
    assert first.historical_transactions_sent is False

    (body,) = bodies(kard_emulator, "POST", "/users")
    assert body["data"][0] == {
        "type": "user",
        "id": "u-1",
        "attributes": {
            "enrolledRewards": ["CARDLINKED"],
            "zipCode": "11238",
            "email": "user@example.com",
            "hashedEmail": HASH,
            "phoneNumber": "+14155552671",
            "birthYear": "1990",
            "historicalTransactionsSent": False,
            "phoneNumbers": [
                {"number": "+14155552671", "type": "MOBILE"},
                {"number": "+12125550188"},
            ],
            "postalCodes": [{"code": "11238", "type": "PHYSICAL"}],
        },
    }
    assert body["data"][1] == {"type": "user", "id": "u-2", "attributes": {"enrolledRewards": []}}
    assert kard_emulator.users[ORG, "u-3"] == {
        "enrolledRewards": ["CARDLINKED"],
        "email": "three@example.com",
    }
    assert set(kard_emulator.users) == {(ORG, "u-1"), (ORG, "u-2"), (ORG, "u-3")}


async def test_a_partial_success_is_never_silent(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.enroll_user("old")
    # Enum values are open: the client sends a program it has never heard of, the server
    # refuses it, and the refusal comes back with the item's id.
    result = await kard.users.create(
        [user("new-1"), user("old"), User(id="new-2", enrolled_rewards=["LOYALTY"]), user("new-3")]
    )
    assert [u.id for u in result.data] == ["new-1", "new-3"]
    assert not result.ok
    assert result.failed_ids == ["old", "new-2"]
    conflict, invalid = result.errors
    assert (conflict.status, conflict.detail) == ("409", "User 'old' already exists")
    assert invalid.status == "400"
    assert invalid.source is not None
    assert invalid.source.pointer == "/data/2/attributes/enrolledRewards"
    assert "LOYALTY" in (invalid.detail or "")
    with pytest.raises(MultiStatusError) as raised:
        result.raise_for_errors()
    assert raised.value.succeeded == 2
    assert [e.id for e in raised.value.errors] == ["old", "new-2"]
    assert "old: User 'old' already exists" in str(raised.value)
    assert set(kard_emulator.users) == {(ORG, "old"), (ORG, "new-1"), (ORG, "new-3")}


async def test_users_that_all_exist_raise_a_conflict_once(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.create([user("a"), user("b")])
    with pytest.raises(ConflictError) as raised:
        await kard.users.create([user("a"), user("b")])
    assert raised.value.status == 409
    assert [e.id for e in raised.value.errors] == ["a", "b"]
    assert not raised.value.outcome_unknown
    assert len(bodies(kard_emulator, "POST", "/users")) == 2  # a 409 is never retried


async def test_users_that_are_all_invalid_raise_bad_request_with_pointers(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(BadRequestError) as raised:
        await kard.users.create([User(id="z", enrolled_rewards=["NOPE"])])
    (error,) = raised.value.errors
    assert error.id == "z"
    assert error.source is not None
    assert error.source.pointer == "/data/0/attributes/enrolledRewards"
    assert kard_emulator.users == {}


@pytest.mark.parametrize(
    ("users", "parameter", "words"),
    [
        ([], "users", "1 to 100"),
        ([user(f"u{i}") for i in range(101)], "users", "1 to 100"),
        ([user("same"), user("other"), user("same")], "users[2].id", "duplicates users[0].id"),
        ("u1", "users", "list"),
        ([{"id": "u1"}], "users[0].enrolledRewards", "required"),
        ([{"enrolledRewards": []}], "users[0].id", "required"),
        ([wire("u1", email=5)], "users[0].email", "str"),
        (
            [wire("u1", phoneNumbers=[{"number": "+14155552671"}] * 11)],
            "users[0].phone_numbers",
            "10",
        ),
        ([wire("u1", postalCodes=[{"code": "11238"}] * 11)], "users[0].postal_codes", "10"),
        ([wire("u1", phoneNumber="415-555-2671")], "users[0].phone_number", "E.164"),
        (
            [wire("u1", phoneNumbers=[{"number": "4155552671"}])],
            "users[0].phone_numbers[0].number",
            "E.164",
        ),
        ([wire("u1", postalCodes=[{"code": "1123"}])], "users[0].postal_codes[0].code", "5-digit"),
        ([wire("u1", hashedEmail="not-a-hash")], "users[0].hashed_email", "SHA-256"),
        ([wire("u1", birthYear=1990)], "users[0].birthYear", "str"),
        ([{"type": "offerAttribution", "id": "u1"}], "users[0].type", "'user'"),
        ([42], "users[0]", "User"),
    ],
)
async def test_bad_users_are_refused_before_sending(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    users: Any,
    parameter: str,
    words: str,
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        await kard.users.create(users)
    assert raised.value.parameter == parameter
    assert words in raised.value.allowed
    assert kard_emulator.requests == []


@pytest.mark.parametrize(
    ("attributes", "parameter"),
    [
        ({"enrolled_rewards": "CARDLINKED"}, "enrolled_rewards"),
        ({"enrolled_rewards": [""]}, "enrolled_rewards"),
        ({"enrolled_rewards": [], "birth_year": "90"}, "birth_year"),
        (
            {"enrolled_rewards": [], "historical_transactions_sent": "yes"},
            "historical_transactions_sent",
        ),
        ({"enrolled_rewards": [], "email": " "}, "email"),
        (
            {"enrolled_rewards": [], "phone_numbers": [PhoneNumber(number="+1")] * 2},
            "phone_numbers[0].number",
        ),
        (
            {
                "enrolled_rewards": [],
                "phone_numbers": [PhoneNumber(number="+14155552671", type="")],
            },
            "phone_numbers[0].type",
        ),
        ({"enrolled_rewards": [], "postal_codes": PostalCode(code="11238")}, "postal_codes"),
    ],
)
def test_a_user_is_checked_when_built(attributes: dict[str, Any], parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        User(id="u1", **attributes)
    assert raised.value.parameter == parameter


def test_users_are_immutable_and_keep_unknown_enum_values() -> None:
    built = User(
        id="u1",
        enrolled_rewards=["CARDLINKED", "SOMETHING_NEW"],
        phone_numbers=[{"number": "+14155552671", "type": "SATELLITE"}],
        postal_codes=[{"code": "11238", "type": "SEASONAL"}],
    )
    assert built.enrolled_rewards == ("CARDLINKED", "SOMETHING_NEW")
    assert built.phone_numbers == (PhoneNumber(number="+14155552671", type="SATELLITE"),)
    assert built.postal_codes == (PostalCode(code="11238", type="SEASONAL"),)
    with pytest.raises(AttributeError):
        built.email = "x@example.com"  # type: ignore[misc]
    assert hash(built) == hash(msgspec.structs.replace(built))


# --------------------------------------------------------------------------- get / update / delete


async def test_get_update_delete(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await kard.users.create([user("u1", email="old@example.com", zip_code="11238")])

    got = await kard.users.get("u1")
    assert isinstance(got, EnrolledUser)
    assert (got.type, got.id, got.attributes.email) == ("user", "u1", "old@example.com")

    # An update takes a mapping without the id (it is the call's), or a User.
    updated = await kard.users.update(
        "u1", {"enrolledRewards": ["CARDLINKED"], "email": "new@x.io"}
    )
    assert updated.attributes.email == "new@x.io"
    assert updated.attributes.zip_code == "11238"  # attributes not sent are kept
    (body,) = bodies(kard_emulator, "PUT", "/users/u1")
    assert body == {
        "data": {
            "type": "user",
            "id": "u1",
            "attributes": {"enrolledRewards": ["CARDLINKED"], "email": "new@x.io"},
        }
    }
    # Read, change one field, write back.
    changed = msgspec.structs.replace(
        got.to_user(), phone_numbers=(PhoneNumber(number="+14155552671"),)
    )
    after = await kard.users.update("u1", changed)
    assert after.attributes.phone_numbers == [PhoneNumber(number="+14155552671")]
    assert (await kard.users.get("u1")).attributes.phone_numbers == [
        PhoneNumber(number="+14155552671")
    ]

    deleted = await kard.users.delete("u1")
    assert deleted == ResourceIdentifier(type="user", id="u1")
    assert kard_emulator.users == {}
    for call in (
        kard.users.get("u1"),
        kard.users.delete("u1"),
        kard.users.update("u1", user("u1")),
    ):
        with pytest.raises(NotFoundError):
            await call
    # A deleted id can be enrolled again.
    again = await kard.users.create([user("u1")])
    assert again.ok


async def test_update_refuses_another_users_id_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        await kard.users.update("u1", user("u2"))
    assert raised.value.parameter == "user.id"
    with pytest.raises(InvalidParameterError) as raised:
        await kard.users.update("u1", {"email": "x@example.com"})
    assert raised.value.parameter == "user.enrolledRewards"
    with pytest.raises(InvalidParameterError):
        await kard.users.get("")
    assert kard_emulator.requests == []


async def test_historical_transactions_sent_is_one_way(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.create([user("u1", historical_transactions_sent=True)])
    with pytest.raises(BadRequestError) as raised:
        await kard.users.update("u1", user("u1", historical_transactions_sent=False))
    (error,) = raised.value.errors
    assert error.source is not None
    assert error.source.pointer == "/data/attributes/historicalTransactionsSent"
    assert kard_emulator.users[ORG, "u1"]["historicalTransactionsSent"] is True


# --------------------------------------------------------------------------- WebView token


async def test_web_view_token(
    kard: AsyncKard, kard_emulator: KardEmulator, make_kard: Callable[..., AsyncKard]
) -> None:
    token = await kard.users.web_view_token("user/with slash")
    assert isinstance(token, WebViewToken)
    assert (token.expires_in, token.token_type) == (3600, "Bearer")
    assert kard_emulator.web_view_token_owner(token.access_token) == (ORG, "user/with slash")
    assert token.access_token not in repr(token)
    assert "<redacted>" in repr(token)
    request = kard_emulator.requests[-1]
    assert (request.method, request.path) == (
        "POST",
        f"/v2/auth/issuers/{ORG}/users/user%2Fwith%20slash/token",
    )
    # It is the user's token, not the issuer's: the API refuses it for issuer calls.
    user_scoped = make_kard(client_id=None, client_secret=None, token=token.access_token)
    with pytest.raises(AuthenticationError):
        await user_scoped.users.get("user/with slash")


# --------------------------------------------------------------------------- audits


async def test_audits_create_with_a_partial_success(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    first = await kard.users.audits.create(
        "u1",
        [
            audit("t1"),
            {
                "type": "audit",
                "attributes": {
                    "auditCode": 3005,
                    "merchantName": "Corner Cafe",
                    "auditDescription": "wrong amount",
                    "transactionId": "t2",
                },
            },
        ],
    )
    assert isinstance(first, AuditsCreated)
    assert first.ok
    assert [a.transaction_id for a in first.data] == ["t1", "t2"]
    assert all(a.type == "audit" and a.id for a in first.data)
    (body,) = bodies(kard_emulator, "POST", "/audits")
    assert body["data"][0] == {
        "type": "audit",
        "attributes": {
            "auditCode": 3006,
            "merchantName": "Caribbean Goodness",
            "auditDescription": "cashback missing",
            "transactionId": "t1",
        },
    }
    recorded = kard_emulator.audits
    assert [(a.user_id, a.id, a.status) for a in recorded] == [
        ("u1", first.data[0].id, "NEW"),
        ("u1", first.data[1].id, "NEW"),
    ]
    assert recorded[1].attributes["merchantName"] == "Corner Cafe"
    assert recorded[0].received_at.tzinfo is not None

    # t1 is already being audited: 207, the error carries the transaction id.
    second = await kard.users.audits.create("u1", [audit("t1"), audit("t3")])
    assert [a.transaction_id for a in second.data] == ["t3"]
    assert second.failed_ids == ["t1"]
    assert second.errors[0].status == "409"
    with pytest.raises(MultiStatusError):
        second.raise_for_errors()

    # An audit code this version does not know goes to the server, which decides.
    with pytest.raises(BadRequestError) as raised:
        await kard.users.audits.create("u1", [audit("t9", code=1234)])
    (error,) = raised.value.errors
    assert error.id == "t9"
    assert error.source is not None
    assert error.source.pointer == "/data/0/attributes/auditCode"
    assert len(kard_emulator.audits) == 3


async def test_an_opened_audit_is_notified_to_subscribers(
    kard: AsyncKard, kard_emulator: KardEmulator, webhook_inbox: Inbox
) -> None:
    await webhook_inbox.subscribe(kard, "auditUpdate")
    created = await kard.users.audits.create("u1", [audit("t1"), audit("t2", code=3005)])
    first, second = await webhook_inbox.next(), await webhook_inbox.next()
    # t1 is refused (its audit is already open): only t3 is notified.
    await kard.users.audits.create("u1", [audit("t1"), audit("t3")])
    third = await webhook_inbox.next()

    updates = [u for u in (first, second, third) if isinstance(u, AuditUpdate)]
    by_transaction = {u.attributes.transaction_id: u for u in updates}
    assert len(updates) == 3
    assert set(by_transaction) == {"t1", "t2", "t3"}
    update = by_transaction["t2"]
    assert update.attributes.status == "NEW"
    assert update.attributes.audit_code == 3005
    assert update.attributes.merchant_name == "Caribbean Goodness"
    assert update.attributes.audit_description == "cashback missing"
    assert update.attributes.resolution_code is None
    assert update.relationships is not None
    assert update.relationships.user is not None
    assert update.relationships.user.ids == ["u1"]
    assert update.relationships.audit is not None
    assert update.relationships.audit.ids == [created.data[1].id]
    assert update.meta is not None
    assert update.meta.issuer_id == ORG
    attempts = await kard_emulator.wait_for_deliveries()
    assert [(a.event_name, a.status) for a in attempts] == [("auditUpdate", 200)] * 3
    assert webhook_inbox.events.empty()


@pytest.mark.parametrize(
    ("audits", "parameter"),
    [
        ([], "audits"),
        ([audit("t1"), audit("t1")], "audits[1].transaction_id"),
        (
            [
                {
                    "auditCode": "3006",
                    "merchantName": "m",
                    "auditDescription": "d",
                    "transactionId": "t",
                }
            ],
            "audits[0].auditCode",
        ),
        (
            [{"auditCode": 3006, "merchantName": "m", "auditDescription": "d"}],
            "audits[0].transactionId",
        ),
        (
            [
                {
                    "auditCode": True,
                    "merchantName": "m",
                    "auditDescription": "d",
                    "transactionId": "t",
                }
            ],
            "audits[0].auditCode",
        ),
        ([{"type": "user", "attributes": {}}], "audits[0].type"),
        ({"auditCode": 3006}, "audits"),
    ],
)
async def test_bad_audits_are_refused_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator, audits: Any, parameter: str
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        await kard.users.audits.create("u1", audits)
    assert raised.value.parameter == parameter
    assert kard_emulator.requests == []


def test_an_audit_is_checked_when_built() -> None:
    with pytest.raises(InvalidParameterError) as raised:
        Audit(audit_code=3006, merchant_name="", audit_description="d", transaction_id="t")
    assert raised.value.parameter == "merchant_name"
    assert Audit(audit_code=9001, merchant_name="m", audit_description="d", transaction_id="t")


# --------------------------------------------------------------------------- strict users


async def test_strict_users_404_for_rewards_and_audits_of_unknown_users(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    # Lenient by default: any user id works.
    assert (await kard.users.rewards.offers("stranger", page_size=1)).data
    kard_emulator.strict_users = True
    for call in (
        kard.users.rewards.offers("stranger"),
        kard.users.rewards.locations("stranger", latitude=39.95, longitude=-75.16),
        kard.users.rewards.placement_content("stranger", "placement-batch-1"),
        kard.users.audits.create("stranger", [audit("t1")]),
    ):
        with pytest.raises(NotFoundError):
            await call
    await kard.users.create([user("member")])
    assert (await kard.users.rewards.offers("member", page_size=1)).data
    assert (await kard.users.audits.create("member", [audit("t1")])).ok
    kard_emulator.reset()
    assert kard_emulator.strict_users is False


def test_serve_strict_users() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kard_async", "serve", "--port", "0", "--strict-users"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)  # no line: end the read, fail, never hang
    watchdog.start()
    try:
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:  # it prints "export KARD_BASE_URL=..." once listening
            if line.startswith("export KARD_BASE_URL="):
                base_url = line.strip().partition("=")[2]
                break
        assert base_url
        with Kard(
            TEST_CLIENT_ID, TEST_CLIENT_SECRET, organization_id=ORG, base_url=base_url
        ) as kard:
            with pytest.raises(NotFoundError):
                kard.users.rewards.offers("stranger")
            kard.users.create([user("member")])
            assert kard.users.rewards.offers("member", page_size=1).data
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0


# --------------------------------------------------------------------------- bulk


def generated(count: int, prefix: str = "b") -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield wire(f"{prefix}{n}")


async def test_bulk_create_batches_per_organization(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    progress: list[BulkProgress] = []
    report = await kard.users.bulk_create(generated(250), on_progress=progress.append)
    assert isinstance(report, BulkReport)
    assert report.ok
    assert report.accepted == 250
    assert sorted(job.count for job in report.jobs) == [50, 100, 100]
    assert {job.key for job in report.jobs} == {ORG}
    assert all(job.job_id is None for job in report.jobs)
    assert sorted(len(b["data"]) for b in bodies(kard_emulator, "POST", "/users")) == [50, 100, 100]
    assert len(kard_emulator.users) == 250
    assert progress[-1].accepted == 250


def check_exactly_once(
    report: BulkReport, given: list[Any], emulator: KardEmulator, before: set[str]
) -> dict[str, set[str]]:
    """Every input user is in exactly one of accepted / failed / invalid, and the server's
    state agrees: accepted users are enrolled, surely-failed ones are not."""
    ids = [user_id_of(item) for item in given]
    invalid_indexes = [item.index for item in report.invalid]
    assert len(set(invalid_indexes)) == len(invalid_indexes)
    failed = Counter(u.id for batch in report.failed for u in batch.items)
    unknown = {u.id for batch in report.failed if batch.outcome_unknown for u in batch.items}
    assert report.accepted + failed.total() + len(invalid_indexes) == len(given)
    invalid = Counter(ids[i] for i in invalid_indexes)
    accepted = Counter(ids) - invalid - failed
    assert accepted.total() == report.accepted
    enrolled = {user_id for (_, user_id) in emulator.users} - before
    assert set(accepted) <= enrolled
    assert enrolled - set(accepted) <= unknown  # only an unknown outcome may be recorded
    return {
        "accepted": set(accepted),
        "failed": set(failed),
        "unknown": unknown,
        "invalid": set(invalid),
    }


def user_id_of(item: Any) -> str:
    return item.id if isinstance(item, User) else str(item.get("id"))


async def test_bulk_create_files_207_items_and_409s_as_invalid(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    for n in (3, 150):
        kard_emulator.enroll_user(f"b{n}")
    given: list[Any] = list(generated(230))
    given[10] = User(id="b10", enrolled_rewards=["MYSTERY"])  # refused by the server only
    given[20] = {"id": "b20"}  # refused here: no enrolledRewards
    given.append(wire("b5"))  # the same id twice in one upload: enrolled once
    report = await kard.users.bulk_create(given, concurrency=2)

    outcome = check_exactly_once(report, given, kard_emulator, {"b3", "b150"})
    reasons = {user_id_of(given[item.index]): item.reason for item in report.invalid}
    assert set(reasons) == {"b3", "b150", "b10", "b20", "b5"}
    assert max(item.index for item in report.invalid if user_id_of(item.item) == "b5") == 230
    assert "already exists" in reasons["b3"]
    assert reasons["b3"].startswith("server: ")
    assert "already exists" in reasons["b150"]
    assert "MYSTERY" in reasons["b10"]
    assert "enrolledRewards" in reasons["b20"]
    assert not reasons["b20"].startswith("server")
    assert report.failed == []
    assert report.accepted == 226
    assert "b5" in outcome["accepted"]  # its first occurrence
    # A 207 is never retried: each user went out in exactly one request (b5 twice: it was
    # given twice), and the one refused here was never sent.
    sent = Counter(
        item["id"] for body in bodies(kard_emulator, "POST", "/users") for item in body["data"]
    )
    assert sent["b5"] == 2
    assert "b20" not in sent
    assert set(sent.values()) == {1, 2}
    assert sent.total() == len(given) - 1


async def test_bulk_create_of_users_that_all_exist_is_not_retried(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    for n in range(5):
        kard_emulator.enroll_user(f"b{n}")
    report = await kard.users.bulk_create(list(generated(5)))
    assert report.accepted == 0
    assert sorted(item.index for item in report.invalid) == [0, 1, 2, 3, 4]
    assert all("already exists" in item.reason for item in report.invalid)
    assert len(bodies(kard_emulator, "POST", "/users")) == 1


async def test_bulk_create_faults_retry_only_what_was_surely_not_processed(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault("status", status=503, method="POST", path=r"/users$", times=2))
    kard_emulator.inject(Fault("drop_after", method="POST", path=r"/users$", skip=1, times=1))
    given = list(generated(300))
    report = await kard.users.bulk_create(given, concurrency=1)
    outcome = check_exactly_once(report, given, kard_emulator, set())
    # The 503s were retried; the dropped answer is an unknown outcome, not retried...
    (lost,) = report.failed
    assert lost.outcome_unknown
    assert len(lost.items) == 100
    assert report.accepted == 200
    # ...and indeed the server had enrolled those users.
    assert outcome["unknown"] <= {user_id for (_, user_id) in kard_emulator.users}
    assert report.failed_items(include_unknown=False) == []
    assert [u.id for u in report.failed_items()] == [u.id for u in lost.items]


@pytest.mark.parametrize("seed", [1, 2])
async def test_bulk_create_accounts_for_every_user_exactly_once_under_random_faults(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator, seed: int
) -> None:
    kard = make_kard(max_retries=1)
    for kind, status, probability in (
        ("status", 503, 0.3),
        ("status", 500, 0.15),
        ("drop_after", 503, 0.1),
        ("drop_before", 503, 0.1),
    ):
        kard_emulator.inject(
            Fault(
                kind,  # type: ignore[arg-type]
                status=status,
                method="POST",
                path=r"/users$",
                times=None,
                probability=probability,
                seed=seed,
            )
        )
    kard_emulator.enroll_user("b7")
    given: list[Any] = list(generated(1_500))
    given[42] = User(id="b42", enrolled_rewards=["MYSTERY"])
    report = await kard.users.bulk_create(iter(given), concurrency=4, max_retries=1)
    outcome = check_exactly_once(report, given, kard_emulator, {"b7"})
    assert report.failed, "the faults should have failed some requests"
    assert {"b7", "b42"} <= outcome["invalid"] | outcome["failed"]
    # Failed requests that surely were not processed left no user behind.
    surely_not = outcome["failed"] - outcome["unknown"]
    assert not surely_not & {user_id for (_, user_id) in kard_emulator.users}


async def test_bulk_create_refuses_bad_arguments(kard: AsyncKard) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        await kard.users.bulk_create([], max_buffered_users=0)
    assert raised.value.parameter == "max_buffered_users"


# --------------------------------------------------------------------------- blocking mirror


def test_blocking_kard_mirrors_users(kard_server: EmulatorServer) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=ORG,
        base_url=kard_server.base_url,
    ) as kard:
        created = kard.users.create([user("sync-1")])
        assert isinstance(created, UsersCreated)
        assert created.ok
        assert kard.users.get("sync-1").id == "sync-1"
        assert kard.users.audits.create("sync-1", [audit("t1")]).ok
        report = kard.users.bulk_create(generated(120, "s"))
        assert report.accepted == 120
    assert (ORG, "s119") in kard_server.emulator.users


# --------------------------------------------------------------------------- a server like Kard's


async def test_a_207_is_matched_to_users_by_id_alone() -> None:
    """Kard's 207 errors always carry the item's id but not necessarily a pointer: the bulk
    helper and ``create`` match by id, and accept the rest."""
    bodies_seen: list[Any] = []

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        bodies_seen.append(body)
        ids = [item["id"] for item in body["data"]]
        refused = [user_id for user_id in ids if user_id.endswith("7")]
        return web.json_response(
            {
                "data": [
                    {"type": "user", "id": i, "attributes": {}} for i in ids if i not in refused
                ],
                "errors": [
                    {"status": "409", "title": "Conflict", "detail": "exists", "id": user_id}
                    for user_id in reversed(refused)
                ],
            },
            status=207,
        )

    app = web.Application()
    app.router.add_post("/v2/issuers/org-1/users", create)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with AsyncKard(
            token="t", organization_id="org-1", base_url=f"http://127.0.0.1:{port}"
        ) as kard:
            result = await kard.users.create([user("a7"), user("b1")])
            assert [u.id for u in result.data] == ["b1"]
            assert result.failed_ids == ["a7"]
            report = await kard.users.bulk_create(generated(250))
    finally:
        await runner.cleanup()
    assert report.accepted == 250 - 25
    assert len(report.jobs) == 3
    refused = sorted(f"b{n}" for n in range(250) if n % 10 == 7)
    assert sorted(user_id_of(item.item) for item in report.invalid) == refused
    assert sorted(item.index for item in report.invalid) == [n for n in range(250) if n % 10 == 7]
    assert all(item.reason == "server: exists" for item in report.invalid)
    assert len(bodies_seen) == 4  # one create, three bulk requests: nothing sent twice
