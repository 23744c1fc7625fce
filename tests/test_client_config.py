"""Client configuration and lifecycle: env vars, environments, with_options, sessions, close."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

import kard_async
from kard_async import (
    APITimeoutError,
    AsyncKard,
    InternalServerError,
    PermissionDeniedError,
)
from kard_async._pool import READ_BUFSIZE, Pool
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

USER = "user-1"
ENV_NAMES = (
    "KARD_CLIENT_ID",
    "KARD_CLIENT_SECRET",
    "KARD_ORGANIZATION_ID",
    "KARD_ENVIRONMENT",
    "KARD_BASE_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def test_env_vars_are_read_when_the_client_is_built(
    clean_env: pytest.MonkeyPatch, kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    # kard_async is long imported; the variables are set only now.
    clean_env.setenv("KARD_CLIENT_ID", TEST_CLIENT_ID)
    clean_env.setenv("KARD_CLIENT_SECRET", TEST_CLIENT_SECRET)
    clean_env.setenv("KARD_ORGANIZATION_ID", TEST_ORGANIZATION_ID)
    clean_env.setenv("KARD_BASE_URL", kard_server.base_url + "/")
    async with AsyncKard() as kard:
        assert kard.base_url == kard_server.base_url
        assert kard.organization_id == TEST_ORGANIZATION_ID
        page = await kard.users.rewards.offers(USER, page_size=1)
    assert page.data
    assert kard_emulator.requests[-1].path.startswith(f"/v2/issuers/{TEST_ORGANIZATION_ID}/")
    assert [t.succeeded for t in kard_emulator.token_requests] == [True]


async def test_explicit_arguments_beat_env_vars(
    clean_env: pytest.MonkeyPatch, kard_server: EmulatorServer
) -> None:
    clean_env.setenv("KARD_ORGANIZATION_ID", "env-org")
    clean_env.setenv("KARD_BASE_URL", "http://192.0.2.1:9")
    async with AsyncKard(
        "id", "secret", organization_id="arg-org", base_url=kard_server.base_url
    ) as kard:
        assert kard.organization_id == "arg-org"
        assert kard.base_url == kard_server.base_url


async def test_environment_selects_the_base_url(clean_env: pytest.MonkeyPatch) -> None:
    async with AsyncKard("id", "secret", environment="sandbox") as kard:
        assert kard.base_url == "https://test-rewards-api.getkard.com"
    async with AsyncKard("id", "secret") as kard:
        assert kard.base_url == "https://rewards-api.getkard.com"
    clean_env.setenv("KARD_ENVIRONMENT", "sandbox")
    async with AsyncKard("id", "secret") as kard:
        assert kard.base_url == "https://test-rewards-api.getkard.com"
    async with AsyncKard("id", "secret", base_url="http://127.0.0.1:1/prefix/") as kard:
        assert kard.base_url == "http://127.0.0.1:1/prefix"


async def test_per_call_organization_override_reaches_the_path(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        await kard.users.rewards.offers(USER, organization_id="other org")
    assert kard_emulator.requests[-1].path == "/v2/issuers/other%20org/users/user-1/offers"
    assert caught.value.status == 403
    # The client default still applies to the next call.
    await kard.users.rewards.offers(USER, page_size=1)
    assert (
        kard_emulator.requests[-1].path == f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/user-1/offers"
    )


async def test_with_options_shares_pool_and_token(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.rewards.offers(USER, page_size=1)
    tuned = kard.with_options(timeout=5, max_retries=0, headers={"X-Trace-Id": "abc"})
    await tuned.users.rewards.offers(USER, page_size=1)
    tuned_request = kard_emulator.requests[-1]
    await kard.users.rewards.offers(USER, page_size=1)
    plain_request = kard_emulator.requests[-1]
    assert tuned_request.headers["X-Trace-Id"] == "abc"
    assert "X-Trace-Id" not in plain_request.headers
    assert tuned_request.headers["Authorization"] == plain_request.headers["Authorization"]
    assert len(kard_emulator.token_requests) == 1
    assert tuned._transport is kard._transport  # one connection pool
    assert tuned.organization_id == kard.organization_id
    other = kard.with_options(organization_id="org-x")
    assert other.organization_id == "org-x"
    assert kard.organization_id == TEST_ORGANIZATION_ID


async def test_with_options_max_retries_and_timeout_apply(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.rewards.offers(USER, page_size=1)  # fetch the token first
    kard_emulator.inject(Fault(kind="status", status=503, path="/offers$", times=1))
    with pytest.raises(InternalServerError):
        await kard.with_options(max_retries=0).users.rewards.offers(USER)
    kard_emulator.inject(Fault(kind="status", status=503, path="/offers$", times=1))
    assert (await kard.users.rewards.offers(USER, page_size=1)).data  # retried by the original

    kard_emulator.inject(Fault(kind="latency", delay=0.5, path="/offers$", times=1))
    with pytest.raises(APITimeoutError):
        await kard.with_options(timeout=0.1, max_retries=0).users.rewards.offers(USER)


async def test_client_headers_and_user_agent(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(headers={"X-Partner": "acme"})
    await kard.users.rewards.offers(USER, page_size=1)
    token_request, api_request = kard_emulator.requests
    assert token_request.path == "/v2/auth/token"
    for request in (token_request, api_request):
        assert request.headers["User-Agent"] == f"kard-async/{kard_async.__version__}"
    assert api_request.headers["X-Partner"] == "acme"
    assert api_request.headers["Accept"] == "application/json"
    assert kard_async.__version__
    assert kard_async.__version__[0].isdigit()


async def test_user_session_is_used_and_not_closed(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    async with aiohttp.ClientSession(headers={"X-My-Session": "yes"}) as session:
        kard = make_kard(session=session)
        await kard.users.rewards.offers(USER, page_size=1)
        assert kard_emulator.requests[-1].headers["X-My-Session"] == "yes"
        await kard.aclose()
        assert not session.closed
        async with session.get(f"{kard.base_url}/v2/auth/token") as response:
            assert response.status == 405  # the session still works
    assert session.closed


async def _pool_in_use(kard: AsyncKard) -> Pool:
    """The client's connections, opened by a first call."""
    await kard.users.rewards.offers(USER, page_size=1)
    pool = kard._transport._pool
    assert pool is not None
    return pool


async def test_own_connections_buffer_a_whole_page_a_callers_keep_their_setting(
    make_kard: Callable[..., AsyncKard],
) -> None:
    # aiohttp pauses a socket once twice its read buffer waits unread: at 64 KiB (older
    # aiohttp's default) a list page of a few hundred KB paused it on every request.
    pool = await _pool_in_use(make_kard())
    assert [s._read_bufsize for s in pool.sessions] == [READ_BUFSIZE, READ_BUFSIZE]
    assert READ_BUFSIZE >= 256 * 1024
    async with aiohttp.ClientSession(read_bufsize=2**16) as session:
        borrowed = make_kard(session=session)
        await borrowed.users.rewards.offers(USER, page_size=1)
        assert session._read_bufsize == 2**16  # a caller's session: as given
        await borrowed.aclose()


async def test_aclose_is_idempotent_and_calls_after_close_fail_clearly(
    make_kard: Callable[..., AsyncKard],
) -> None:
    kard = make_kard()
    pool = await _pool_in_use(kard)
    await kard.aclose()
    await kard.aclose()
    assert all(session.closed for session in pool.sessions)
    with pytest.raises(RuntimeError, match="closed"):
        await kard.users.rewards.offers(USER)
    # with_options copies share the closed pool.
    with pytest.raises(RuntimeError, match="closed"):
        await kard.with_options(max_retries=0).users.rewards.offers(USER)


async def test_closed_before_first_call(make_kard: Callable[..., AsyncKard]) -> None:
    kard = make_kard()
    await kard.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await kard.users.attributions.boost(USER, "offer")


async def test_async_with(kard_server: EmulatorServer, kard_emulator: KardEmulator) -> None:
    async with AsyncKard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        assert isinstance(kard, AsyncKard)
        assert (await kard.users.rewards.locations(USER, page_size=2)).data
        pool = kard._transport._pool
    assert pool is not None
    assert all(session.closed for session in pool.sessions)
    with pytest.raises(RuntimeError, match="closed"):
        await kard.users.rewards.locations(USER)
