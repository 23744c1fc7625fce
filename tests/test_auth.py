"""Authentication: both token styles, caching, refresh, single flight, 401 handling, static
tokens, and secrets never leaking into reprs, errors or logs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from kard_async import APIError, AsyncKard, AuthenticationError, KardError
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

USER = "user-1"


def bearer(emulator: KardEmulator, index: int = -1) -> str:
    return emulator.requests[index].headers["Authorization"]


async def test_default_json_token_style(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await kard.users.rewards.offers(USER, page_size=1)
    token_request = kard_emulator.requests[0]
    assert (token_request.method, token_request.path) == ("POST", "/v2/auth/token")
    assert token_request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in token_request.headers
    assert "X-Kard-Target-Issuer" not in token_request.headers
    assert json.loads(token_request.body) == {
        "client_id": TEST_CLIENT_ID,
        "client_secret": TEST_CLIENT_SECRET,
    }
    (record,) = kard_emulator.token_requests
    assert (record.style, record.target_issuer, record.succeeded) == ("json", None, True)
    assert bearer(kard_emulator).startswith("Bearer ")


async def test_basic_token_style_on_another_host_with_target_issuer(
    make_kard: Callable[..., AsyncKard], kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    token_url = f"http://localhost:{kard_server.port}/v2/auth/token"
    kard = make_kard(token_style="basic", token_url=token_url, target_issuer="org-777")
    assert kard.base_url.startswith("http://127.0.0.1:")
    # The token is scoped to org-777, so call that organization.
    page = await kard.users.rewards.offers(USER, organization_id="org-777", page_size=1)
    assert page.data
    token_request, api_request = kard_emulator.requests
    assert token_request.path == "/v2/auth/token"
    assert token_request.headers["Host"] == f"localhost:{kard_server.port}"
    assert api_request.headers["Host"] == f"127.0.0.1:{kard_server.port}"
    expected = base64.b64encode(f"{TEST_CLIENT_ID}:{TEST_CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token_request.headers["X-Kard-Target-Issuer"] == "org-777"
    assert token_request.body == b"grant_type=client_credentials"
    assert TEST_CLIENT_SECRET.encode() not in token_request.body
    (record,) = kard_emulator.token_requests
    assert (record.style, record.target_issuer, record.succeeded) == ("basic", "org-777", True)
    assert api_request.path == "/v2/issuers/org-777/users/user-1/offers"


async def test_json_style_sends_target_issuer(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(target_issuer=TEST_ORGANIZATION_ID)
    await kard.users.rewards.offers(USER, page_size=1)
    (record,) = kard_emulator.token_requests
    assert (record.style, record.target_issuer) == ("json", TEST_ORGANIZATION_ID)


async def test_token_is_cached_across_calls(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    for _ in range(5):
        await kard.users.rewards.offers(USER, page_size=1)
    await kard.users.rewards.locations(USER, page_size=1)
    assert len(kard_emulator.token_requests) == 1
    assert len({r.headers["Authorization"] for r in kard_emulator.requests[1:]}) == 1


async def test_token_refreshed_shortly_before_expiry(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.token_ttl = 1
    await kard.users.rewards.offers(USER, page_size=1)
    first = bearer(kard_emulator)
    await asyncio.sleep(0.5)
    await kard.users.rewards.offers(USER, page_size=1)
    assert bearer(kard_emulator) == first
    assert len(kard_emulator.token_requests) == 1
    await asyncio.sleep(0.45)  # past 90% of the 1 s lifetime, before it ends
    await kard.users.rewards.offers(USER, page_size=1)
    assert len(kard_emulator.token_requests) == 2
    assert bearer(kard_emulator) != first
    # No request was refused and resent: the refresh happened before expiry.
    assert len([r for r in kard_emulator.requests if r.path.endswith("/offers")]) == 3
    assert all(t.succeeded for t in kard_emulator.token_requests)


async def test_single_flight_token_fetch(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=0.1, path="/auth/token", times=1))
    pages = await asyncio.gather(*(kard.users.rewards.offers(USER, page_size=1) for _ in range(50)))
    assert all(page.data for page in pages)
    assert len(kard_emulator.token_requests) == 1
    assert len([r for r in kard_emulator.requests if r.path == "/v2/auth/token"]) == 1
    api = [r for r in kard_emulator.requests if r.path.endswith("/offers")]
    assert len(api) == 50
    assert len({r.headers["Authorization"] for r in api}) == 1


async def test_revoked_token_is_refreshed_once(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.rewards.offers(USER, page_size=1)
    first = bearer(kard_emulator)
    kard_emulator.revoke_tokens()
    page = await kard.users.rewards.offers(USER, page_size=1)
    assert page.data
    assert len(kard_emulator.token_requests) == 2
    paths = [r.path.rsplit("/", 1)[-1] for r in kard_emulator.requests]
    assert paths == ["token", "offers", "offers", "token", "offers"]
    assert kard_emulator.requests[2].headers["Authorization"] == first
    assert bearer(kard_emulator) != first


async def test_concurrent_401s_refresh_once(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await kard.users.rewards.offers(USER, page_size=1)
    kard_emulator.revoke_tokens()
    pages = await asyncio.gather(*(kard.users.rewards.offers(USER, page_size=1) for _ in range(10)))
    assert all(page.data for page in pages)
    assert len(kard_emulator.token_requests) == 2


async def test_persistent_401_raises_after_one_refresh(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="status", status=401, path="/offers$", times=None))
    with pytest.raises(AuthenticationError) as caught:
        await kard.users.rewards.offers(USER)
    assert caught.value.status == 401
    assert len(kard_emulator.token_requests) == 2  # the first token, and one refresh
    assert len([r for r in kard_emulator.requests if r.path.endswith("/offers")]) == 2


@pytest.mark.parametrize("kind", ["string", "sync", "async"])
async def test_static_token(
    kard_server: EmulatorServer, kard_emulator: KardEmulator, kind: str
) -> None:
    async with AsyncKard(
        TEST_CLIENT_ID, TEST_CLIENT_SECRET, base_url=kard_server.base_url
    ) as issuer:
        # Get a real token from the emulator with a separate client.
        await issuer.users.rewards.offers(USER, organization_id=TEST_ORGANIZATION_ID, page_size=1)
    real = bearer(kard_emulator).removeprefix("Bearer ")
    tokens_before = len(kard_emulator.token_requests)
    requests_before = len(kard_emulator.requests)

    calls = 0

    def sync_token() -> str:
        nonlocal calls
        calls += 1
        return real

    async def async_token() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return real

    token: Any = {"string": real, "sync": sync_token, "async": async_token}[kind]
    async with AsyncKard(
        token=token, organization_id=TEST_ORGANIZATION_ID, base_url=kard_server.base_url
    ) as kard:
        await kard.users.rewards.offers(USER, page_size=1)
        await kard.users.rewards.locations(USER, page_size=1)
    assert len(kard_emulator.token_requests) == tokens_before
    sent = kard_emulator.requests[requests_before:]
    assert [r.headers["Authorization"] for r in sent] == [f"Bearer {real}"] * 2
    assert calls == (0 if kind == "string" else 2)
    assert real not in repr(kard)


async def test_static_string_token_401_is_not_retried(
    kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    async with AsyncKard(
        token="not-a-real-token",
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        with pytest.raises(AuthenticationError) as caught:
            await kard.users.rewards.offers(USER)
    assert len(kard_emulator.requests) == 1
    assert "not-a-real-token" not in str(caught.value)
    assert "not-a-real-token" not in repr(caught.value)


async def test_bad_credentials(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    secret = "wrong-secret-value-123"
    kard = make_kard(client_secret=secret)
    with pytest.raises(AuthenticationError) as caught:
        await kard.users.rewards.offers(USER)
    error = caught.value
    assert error.status == 401
    assert error.path == "/v2/auth/token"
    assert error.errors
    assert error.errors[0].detail == "invalid client credentials"
    assert [t.succeeded for t in kard_emulator.token_requests] == [False]
    assert not any(r.path.endswith("/offers") for r in kard_emulator.requests)
    for text in (str(error), repr(error), repr(kard), str(error.body), str(error.headers)):
        assert secret not in text


async def test_secrets_never_leak(
    make_kard: Callable[..., AsyncKard],
    kard_emulator: KardEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = make_kard(token_style="basic")
    kard = make_kard()
    assert TEST_CLIENT_SECRET not in repr(kard)
    assert TEST_CLIENT_SECRET not in repr(basic)
    assert TEST_CLIENT_SECRET not in repr(kard._transport.auth)

    kard_emulator.inject(Fault(kind="status", status=503, path="/offers$", times=2))
    kard_emulator.inject(Fault(kind="drop_before", path="/locations$", times=1))
    await kard.users.rewards.offers(USER, page_size=1)
    await kard.users.rewards.locations(USER, page_size=1)
    await basic.users.rewards.offers(USER, page_size=1)
    kard_emulator.inject(Fault(kind="status", status=500, path="/offers$", times=None))
    errors: list[BaseException] = []
    with pytest.raises(APIError) as caught:
        await kard.users.rewards.offers(USER)
    errors.append(caught.value)
    kard_emulator.clear_faults()
    kard_emulator.revoke_tokens()
    kard_emulator.inject(Fault(kind="status", status=401, path="/locations$", times=None))
    with pytest.raises(AuthenticationError) as caught_auth:
        await kard.users.rewards.locations(USER)
    errors.append(caught_auth.value)

    tokens = {
        r.headers["Authorization"].split(" ", 1)[1]
        for r in kard_emulator.requests
        if r.headers.get("Authorization", "").startswith("Bearer ")
    }
    assert len(tokens) >= 3
    basic_header = next(
        r.headers["Authorization"]
        for r in kard_emulator.requests
        if r.path == "/v2/auth/token" and r.headers.get("Authorization", "").startswith("Basic ")
    )
    secrets = [TEST_CLIENT_SECRET, basic_header.split(" ", 1)[1], *tokens]
    texts = [repr(kard), repr(basic), *(str(e) for e in errors), *(repr(e) for e in errors)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    assert any(r.name == "kard_async" for r in caplog.records)  # the retries were logged
    for secret in secrets:
        for text in texts:
            assert secret not in text
    for error in errors:
        assert isinstance(error, KardError)
        if hasattr(error, "headers"):
            assert not any(secret in str(error.headers) for secret in secrets)
