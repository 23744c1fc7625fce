"""``kard.ping()`` (§11) and ``kard.auth.token()`` (§1.2) against the emulator."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from kard_async import (
    AsyncKard,
    AuthenticationError,
    Kard,
    NetworkBlockedError,
    PermissionDeniedError,
)
from kard_async.models import Ping
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

ACCESS_LOG_TIME = re.compile(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000")


def pings(emulator: KardEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path == "/v2/ping"]


async def test_ping_answers_with_message_status_and_timestamp(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    answer = await kard.ping()
    assert isinstance(answer, Ping)
    assert (answer.message, answer.status) == ("Ping successful", "OK")
    assert ACCESS_LOG_TIME.fullmatch(answer.timestamp), answer.timestamp
    (request,) = pings(kard_emulator)
    assert request.method == "GET"
    assert request.headers["Authorization"].startswith("Bearer ")  # sent, as the SDK does


async def test_a_blocked_network_is_a_clear_error(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.network_blocked = "Your IP address is not on the allowlist"
    with pytest.raises(NetworkBlockedError) as caught:
        await kard.ping()
    error = caught.value
    assert isinstance(error, PermissionDeniedError)
    assert error.status == 403
    assert error.message == "Your IP address is not on the allowlist"
    assert str(error).startswith(
        "GET /v2/ping: the network is blocked (HTTP 403): Your IP address is not on the allowlist"
    )
    assert error.request_id is not None
    assert error.request_id in str(error)
    assert error.__cause__ is None
    assert len(pings(kard_emulator)) == 1  # a 403 is not retried


async def test_a_blocked_network_without_a_json_body_keeps_the_body_excerpt(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="status", status=403, path="^/v2/ping$"))
    with pytest.raises(NetworkBlockedError) as caught:
        await kard.ping()
    assert "Injected fault: HTTP 403" in caught.value.message


async def test_ping_is_retried_like_any_read(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    kard_emulator.inject(Fault(kind="status", status=503, path="^/v2/ping$"))
    assert (await kard.ping()).status == "OK"
    assert len(pings(kard_emulator)) == 2


def test_the_blocking_client_pings(kard_server: EmulatorServer) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        assert kard.ping().message == "Ping successful"
        token = kard.auth.token()
        assert token == kard.auth.token()
    assert len(kard_server.emulator.token_requests) == 1


# --------------------------------------------------------------------------- auth.token()


async def test_token_is_the_one_the_client_sends(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    token = await kard.auth.token()
    assert token
    await kard.ping()
    (request,) = pings(kard_emulator)
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert await kard.auth.token() == token  # cached
    assert len(kard_emulator.token_requests) == 1


async def test_concurrent_callers_share_one_token_request(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    tokens = await asyncio.gather(*(kard.auth.token() for _ in range(25)))
    assert len(set(tokens)) == 1
    assert len(kard_emulator.token_requests) == 1


async def test_token_is_refreshed_when_due(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    kard_emulator.token_ttl = 1  # refreshed 0.1 s before its end (10% of its lifetime)
    first = await kard.auth.token()
    await asyncio.sleep(1.0)
    second = await kard.auth.token()
    assert second != first
    assert len(kard_emulator.token_requests) == 2
    await kard.ping()  # the new token works
    assert pings(kard_emulator)[-1].headers["Authorization"] == f"Bearer {second}"


async def test_token_follows_with_options_copies(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    copy = kard.with_options(timeout=5)
    assert await copy.auth.token() == await kard.auth.token()
    assert len(kard_emulator.token_requests) == 1


async def test_refused_credentials_raise(make_kard: Any, kard_emulator: KardEmulator) -> None:
    kard = make_kard(client_secret="wrong-secret", max_retries=0)
    with pytest.raises(AuthenticationError, match="401") as caught:
        await kard.auth.token()
    assert "wrong-secret" not in str(caught.value)
    assert [r.succeeded for r in kard_emulator.token_requests] == [False]


async def test_a_supplied_token_is_returned_as_is(
    make_kard: Any, kard_emulator: KardEmulator
) -> None:
    static = make_kard(client_id=None, client_secret=None, token="my-own-token")
    assert await static.auth.token() == "my-own-token"
    asked: list[int] = []

    async def fresh() -> str:
        asked.append(1)
        return f"token-{len(asked)}"

    dynamic = make_kard(client_id=None, client_secret=None, token=fresh)
    assert await dynamic.auth.token() == "token-1"
    assert await dynamic.auth.token() == "token-2"  # the callable is asked each time
    assert kard_emulator.token_requests == []
