"""Issue 10, transport/auth/runtime items: one regression test (or a few) per item, named by
its number. Each fails on the code before the fix.

Where the emulator cannot misbehave in the way needed, a small aiohttp.web app, a raw
asyncio server, a CONNECT proxy or a latency proxy is made here, on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import math
import os
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

import kard_async
from kard_async import (
    APIConnectionError,
    APIError,
    AsyncKard,
    BadRequestError,
    InternalServerError,
    InvalidParameterError,
    Kard,
    ResponseTooLargeError,
    ResponseValidationError,
)
from kard_async._pool import WRITE_REUSE_IDLE
from kard_async.models import OfferAttribution
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

ROOT = Path(__file__).resolve().parent.parent
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
JOB = {"data": {"type": "job", "id": "job-1", "attributes": {"status": "queued"}}}
EMPTY_PAGE = {"data": [], "links": {"self": "/x", "next": None}}
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a request that got out would fail to connect


def event(n: int | str) -> OfferAttribution:
    return OfferAttribution(entity_id=f"e{n}", event_code="VIEW", medium="SEARCH", event_date=WHEN)


# --------------------------------------------------------------------------- servers


@pytest.fixture
async def serve_app() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Serve an aiohttp.web app on 127.0.0.1; returns its base URL (https with ``ssl``)."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> str:
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def serve_raw() -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """Serve a raw asyncio connection handler on 127.0.0.1; returns its port. Every
    connection, and any the handler opens with ``connect``, is closed at teardown."""
    servers: list[asyncio.Server] = []
    handlers: set[asyncio.Task[Any]] = set()

    async def start(handler: Callable[..., Awaitable[None]]) -> int:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await handler(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    for server in servers:
        await server.wait_closed()
    await asyncio.sleep(0.01)  # let the closed transports release their sockets


async def tunnel(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, delay: float = 0.0
) -> None:
    """Relay a connection to 127.0.0.1:``port`` both ways, ``delay`` seconds late each way."""
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await asyncio.gather(pipe(reader, up_writer, delay), pipe(up_reader, writer, delay))
    finally:
        up_writer.close()


async def pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float = 0.0
) -> None:
    """Copy bytes, then the EOF, from reader to writer, each ``delay`` seconds late."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            due = loop.time() + delay
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
    except (ConnectionError, OSError, RuntimeError):
        pass


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 request: its head and its body (Content-Length only)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def exception_chain(error: BaseException) -> list[BaseException]:
    """The error and everything reachable through __cause__ and __context__."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        current = todo.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


def run_script(script: str, server: EmulatorServer) -> subprocess.CompletedProcess[str]:
    prelude = textwrap.dedent(
        """
        import json, os, signal, sys, threading, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even as a background job
        from kard_async import Kard
        from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID
        def make(**options):
            return Kard(TEST_CLIENT_ID, TEST_CLIENT_SECRET, organization_id=TEST_ORGANIZATION_ID,
                        base_url=os.environ["KARD_BASE_URL"], **options)
        """
    )
    env = {**os.environ, "KARD_BASE_URL": server.base_url, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- item 7


async def test_item07_token_call_uses_client_timeout(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.json_response({"access_token": "t", "expires_in": 3600})

    app = web.Application()
    app.router.add_post("/v2/auth/token", hang)
    base = await serve_app(app)
    async with AsyncKard(
        "client", "secret", organization_id="org", base_url=base, timeout=0.5, max_retries=0
    ) as kard:
        started = time.monotonic()
        with pytest.raises(APIConnectionError, match="timed out"):
            # Before the fix the token call had its own 30 s timeout.
            await asyncio.wait_for(kard.users.rewards.offers("u"), timeout=5)
    assert time.monotonic() - started < 2


async def test_item07_one_token_failure_is_shared_by_every_waiting_call(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    token_requests: list[float] = []

    async def failing_token(request: web.Request) -> web.Response:
        token_requests.append(time.monotonic())
        await asyncio.sleep(1.0)
        return web.json_response({"errors": [{"detail": "token service down"}]}, status=500)

    app = web.Application()
    app.router.add_post("/v2/auth/token", failing_token)
    base = await serve_app(app)
    async with AsyncKard(
        "client", "secret", organization_id="org", base_url=base, max_retries=0
    ) as kard:
        started = time.monotonic()
        results = await asyncio.wait_for(
            asyncio.gather(
                *(kard.users.rewards.offers(f"u{n}") for n in range(10)), return_exceptions=True
            ),
            timeout=8,
        )
        took = time.monotonic() - started
    assert all(isinstance(r, InternalServerError) for r in results), results
    assert len(token_requests) == 1  # before: 10, one after another
    assert took < 2.5  # before: 10 s (1, 2, ... 10)


# --------------------------------------------------------------------------- item 8


async def test_item08_oversized_body_raises_and_its_connection_is_not_reused(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    peers: list[object] = []

    async def offers(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        if request.query.get("filter[search]") == "big":
            return web.Response(body=b"[" + b" " * (2 * 1024 * 1024) + b"]")
        return web.json_response(EMPTY_PAGE)

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)
    async with AsyncKard(
        token="t", organization_id="org", base_url=base, max_response_size=1024 * 1024
    ) as kard:
        await kard.users.rewards.offers("u")
        with pytest.raises(ResponseTooLargeError) as caught:
            await kard.users.rewards.offers("u", search="big")
        await kard.users.rewards.offers("u")
    error = caught.value
    assert isinstance(error, ResponseValidationError)  # a bad body, for code that catches those
    assert (error.status, error.limit, error.path) == (
        200,
        1024 * 1024,
        "/v2/issuers/org/users/u/offers",
    )
    assert "max_response_size=1048576" in str(error)
    assert peers[0] == peers[1] != peers[2]  # the connection with the rest of the body was dropped
    assert kard_async.ResponseTooLargeError is ResponseTooLargeError
    signature = inspect.signature(AsyncKard)
    assert signature.parameters["max_response_size"].default == 64 * 1024 * 1024
    assert "max_response_size" in (AsyncKard.__doc__ or "")
    with pytest.raises(InvalidParameterError):
        AsyncKard(token="t", max_response_size=0)


async def test_item08_endless_chunked_body_is_cut_at_the_limit(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b" " * 65536
        while True:  # until the client goes away
            await response.write(chunk)
            sent += len(chunk)

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/offers", endless)
    base = await serve_app(app)
    async with AsyncKard(
        token="t", organization_id="org", base_url=base, max_response_size=1024 * 1024
    ) as kard:
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError):
            await asyncio.wait_for(kard.users.rewards.offers("u"), timeout=10)
    assert time.monotonic() - started < 3  # cut at the limit, not by the 30 s timeout
    assert sent < 16 * 1024 * 1024  # reading stopped: the server could not push much more


async def test_item08_declared_oversized_body_is_refused_before_reading(
    serve_raw: Callable[..., Awaitable[int]],
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: 10000000000\r\n\r\n[")  # 10 GB promised, never sent
        await writer.drain()
        await asyncio.sleep(5)

    port = await serve_raw(handle)
    async with AsyncKard(
        token="t", organization_id="org", base_url=f"http://127.0.0.1:{port}", timeout=10
    ) as kard:
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError):
            await kard.users.rewards.offers("u")
    assert time.monotonic() - started < 2


# --------------------------------------------------------------------------- item 9


@dataclass
class KeepAliveServer:
    """HTTP/1.1 server for attribution writes: answers 201 and records the entity ids.

    ``close_after_response``: closes after every response, without ``Connection: close``.
    Otherwise keeps connections alive and closes them after ``idle`` seconds without a request.
    """

    close_after_response: bool = False
    idle: float = 1.0
    seen: list[str] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        body = json.dumps(JOB).encode()
        while True:
            try:
                _, request = await asyncio.wait_for(read_request(reader), self.idle)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            self.seen.append(json.loads(request)["data"][0]["attributes"]["entityId"])
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
            if self.close_after_response:
                return


async def count_outcomes(
    server: KeepAliveServer, calls: list[Awaitable[object]], expected: set[str]
) -> dict[str, int]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    await asyncio.sleep(0.1)  # anything still on its way reaches the server
    unknown = [r for r in results if isinstance(r, APIError) and r.outcome_unknown]
    seen = [s for s in server.seen if s in expected]
    return {
        "ok": sum(1 for r in results if not isinstance(r, BaseException)),
        "unknown": len(unknown),
        "false_unknown": len(expected - set(seen)),  # never reached the server
        "duplicates": len(seen) - len(set(seen)),
    }


async def test_item09_server_closing_after_every_response_gives_no_false_unknown(
    serve_raw: Callable[..., Awaitable[int]],
) -> None:
    server = KeepAliveServer(close_after_response=True)
    port = await serve_raw(server.handle)
    async with AsyncKard(
        token="t", organization_id="org", base_url=f"http://127.0.0.1:{port}"
    ) as kard:

        async def sequential() -> list[object]:
            return [await kard.users.attributions.create("u", [event(n)]) for n in range(100)]

        outcome = await count_outcomes(server, [sequential()], {f"e{n}" for n in range(100)})
    # Before: about half the writes failed with outcome_unknown, none had reached the server.
    assert outcome == {"ok": 1, "unknown": 0, "false_unknown": 0, "duplicates": 0}
    assert server.seen == [f"e{n}" for n in range(100)]


async def test_item09_a_callers_session_is_guarded_too(
    serve_raw: Callable[..., Awaitable[int]],
) -> None:
    # session=: not our write pool, so no connection check of ours; the loop runs first.
    server = KeepAliveServer(close_after_response=True)
    port = await serve_raw(server.handle)
    async with aiohttp.ClientSession() as session:
        kard = AsyncKard(
            token="t", organization_id="org", base_url=f"http://127.0.0.1:{port}", session=session
        )

        async def sequential() -> list[object]:
            return [await kard.users.attributions.create("u", [event(n)]) for n in range(50)]

        outcome = await count_outcomes(server, [sequential()], {f"e{n}" for n in range(50)})
        await kard.aclose()
    assert outcome == {"ok": 1, "unknown": 0, "false_unknown": 0, "duplicates": 0}


async def test_item09_idle_timeout_race_gives_no_false_unknown(
    serve_raw: Callable[..., Awaitable[int]],
) -> None:
    """Server idle timeout 1 s behind a 20 ms link: writes sent as the server closes."""
    server = KeepAliveServer(idle=1.0)
    server_port = await serve_raw(server.handle)

    async def link(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await tunnel(reader, writer, server_port, delay=0.02)

    port = await serve_raw(link)
    lanes = 40
    async with AsyncKard(
        token="t", organization_id="org", base_url=f"http://127.0.0.1:{port}", max_connections=50
    ) as kard:
        # Open `lanes` connections, then write on each after 0.90 ... 1.10 s of quiet.
        await asyncio.gather(
            *(kard.users.attributions.create("u", [event("w")]) for _ in range(lanes))
        )

        async def lane(n: int) -> object:
            await asyncio.sleep(0.9 + 0.2 * n / lanes)
            return await kard.users.attributions.create("u", [event(n)])

        outcome = await count_outcomes(
            server, [lane(n) for n in range(lanes)], {f"e{n}" for n in range(lanes)}
        )
    # Before: ~10 of 40 failed with outcome_unknown although the server never saw them.
    assert outcome == {"ok": lanes, "unknown": 0, "false_unknown": 0, "duplicates": 0}


async def test_item09_busy_connections_are_still_reused_for_writes(
    serve_raw: Callable[..., Awaitable[int]],
) -> None:
    server = KeepAliveServer(idle=5.0)
    port = await serve_raw(server.handle)
    async with AsyncKard(
        token="t", organization_id="org", base_url=f"http://127.0.0.1:{port}"
    ) as kard:
        for n in range(20):
            await kard.users.attributions.create("u", [event(n)])
        await asyncio.sleep(WRITE_REUSE_IDLE + 0.2)
        await kard.users.attributions.create("u", [event("after a pause")])
    assert server.connections == 2  # one for the burst, a fresh one after the pause


async def test_item09_tls_writes_reuse_their_connection(
    serve_app: Callable[..., Awaitable[str]], ca: trustme.CA
) -> None:
    """The stale-connection check must not take a live TLS connection for a closed one
    (a TLS 1.3 server sends session tickets after the handshake)."""
    peers: list[object] = []

    async def attributions(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response(JOB, status=201)

    app = web.Application()
    app.router.add_post("/v2/issuers/org/users/u/attributions", attributions)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    base_url = await serve_app(app, server_context)
    async with AsyncKard(
        token="t", organization_id="org", base_url=base_url, ssl=trusting(ca)
    ) as kard:
        for n in range(30):
            await kard.users.attributions.create("u", [event(n)])
    assert len(peers) == 30
    assert len(set(peers)) == 1


# --------------------------------------------------------------------------- item 10


async def test_item10_dot_ids_are_refused_before_anything_is_sent() -> None:
    async with AsyncKard(token="t", organization_id="org", base_url=NOWHERE) as kard:
        attributions = kard.users.attributions
        with pytest.raises(InvalidParameterError, match=r"user_id='\.\.'"):
            await attributions.activate("..", "offer-1")
        with pytest.raises(InvalidParameterError, match=r"offer_id='\.'"):
            await attributions.activate("u", ".")
        with pytest.raises(InvalidParameterError, match=r"'\.\.'"):
            await attributions.boost("u", "o", organization_id="..")
        with pytest.raises(InvalidParameterError, match=r"slot_id='\.\.'"):
            await attributions.activate_placement_slot("u", "p", "..")
        with pytest.raises(InvalidParameterError, match=r"'\.'"):
            await kard.users.rewards.offers("u", organization_id=".")
        report = await attributions.bulk_create([("..", event(1))], max_retries=0)
    assert [i.reason for i in report.invalid] == [
        "invalid user_id='..': '.' and '..' are not ids: they would change the URL's path"
    ]
    with pytest.raises(InvalidParameterError, match="organization_id"):
        AsyncKard(token="t", organization_id="..")
    # Dots inside an id are fine (and encoded as such).
    assert kard_async._query.path("v2", "a.b", "...") == "/v2/a.b/..."


# --------------------------------------------------------------------------- item 11


@pytest.mark.parametrize("style", ["basic", "bearer"])
async def test_item11_no_credential_in_the_exception_chain(
    serve_raw: Callable[..., Awaitable[int]], style: str
) -> None:
    async def malformed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 abc OK\r\n\r\n")
        await writer.drain()

    port = await serve_raw(malformed)
    base = f"http://127.0.0.1:{port}"
    secret, token = "CLIENT-SECRET-42", "BEARER-TOKEN-42"
    if style == "basic":
        kard = AsyncKard(
            "client-id",
            secret,
            organization_id="org",
            base_url=base,
            token_style="basic",
            token_url=f"{base}/v2/auth/token?audience=x",
            max_retries=0,
        )
    else:
        kard = AsyncKard(token=token, organization_id="org", base_url=base, max_retries=0)
    async with kard:
        with pytest.raises(APIConnectionError) as caught:
            await kard.users.rewards.offers("u", search="jane.doe@example.com")
    forbidden = [
        secret,
        token,
        base64.b64encode(f"client-id:{secret}".encode()).decode(),
        "jane.doe",
        "audience",
        "Authorization",
    ]
    for error in exception_chain(caught.value):
        for text in (repr(error), str(error), repr(error.args)):
            for needle in forbidden:
                assert needle not in text, f"{needle!r} leaks through {type(error).__name__}"
    error = caught.value
    path = "/v2/auth/token" if style == "basic" else "/v2/issuers/org/users/u/offers"
    assert error.path == path
    assert str(error).startswith(f"POST {path}" if style == "basic" else f"GET {path}")
    assert "Bad status line" in str(error)  # what went wrong is still said


# --------------------------------------------------------------------------- item 12


@dataclass
class ConnectProxy:
    """A minimal HTTP CONNECT proxy; ``tunnels`` lists the targets it was asked for."""

    tunnels: list[str] = field(default_factory=list)
    required_auth: str | None = None  # a Proxy-Authorization value to insist on
    seen_auth: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode().split("\r\n")
        method, target, _ = request_line.split(" ")
        auth = [
            line.split(":", 1)[1].strip()
            for line in header_lines
            if line.lower().startswith("proxy-authorization:")
        ]
        self.seen_auth.extend(auth)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.required_auth is not None and self.required_auth not in auth:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            return
        self.tunnels.append(target)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await tunnel(reader, writer, int(target.rsplit(":", 1)[1]))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_api(serve_app: Callable[..., Awaitable[str]], ca: trustme.CA) -> str:
    """An HTTPS API (certificate for 127.0.0.1 from the test CA) with one offers endpoint."""

    async def offers(request: web.Request) -> web.Response:
        return web.json_response(EMPTY_PAGE)

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    return await serve_app(app, server_context)


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_item12_custom_ca_verified_by_default_and_off_only_when_asked(
    tls_api: str, ca: trustme.CA
) -> None:
    async with AsyncKard(token="t", organization_id="org", base_url=tls_api) as kard:
        with pytest.raises(APIConnectionError, match="TLS error") as caught:
            await kard.users.rewards.offers("u")
        assert not caught.value.transient
    for setting in (trusting(ca), False):
        async with AsyncKard(
            token="t", organization_id="org", base_url=tls_api, ssl=setting
        ) as kard:
            assert (await kard.users.rewards.offers("u")).data == []
    for bad in ("no", None, 0):
        with pytest.raises(InvalidParameterError, match="ssl"):
            AsyncKard(token="t", ssl=bad)  # type: ignore[arg-type]


async def test_item12_requests_go_through_a_connect_proxy(
    tls_api: str, ca: trustme.CA, serve_raw: Callable[..., Awaitable[int]]
) -> None:
    proxy = ConnectProxy()
    proxy_url = f"http://127.0.0.1:{await serve_raw(proxy.handle)}"
    async with AsyncKard(
        token="t", organization_id="org", base_url=tls_api, ssl=trusting(ca), proxy=proxy_url
    ) as kard:
        assert (await kard.users.rewards.offers("u")).data == []
    assert proxy.tunnels == [tls_api.removeprefix("https://")]
    with pytest.raises(InvalidParameterError, match="proxy"):
        AsyncKard(token="t", proxy="socks5://127.0.0.1:1080")


async def test_item12_proxy_credentials_are_sent_and_never_shown(
    tls_api: str, ca: trustme.CA, serve_raw: Callable[..., Awaitable[int]]
) -> None:
    expected = "Basic " + base64.b64encode(b"proxy-user:PROXY-PASS").decode()
    proxy = ConnectProxy(required_auth=expected)
    port = await serve_raw(proxy.handle)
    for password in ("PROXY-PASS", "WRONG-PASS"):
        async with AsyncKard(
            token="t",
            organization_id="org",
            base_url=tls_api,
            ssl=trusting(ca),
            proxy=f"http://proxy-user:{password}@127.0.0.1:{port}",
            max_retries=0,
        ) as kard:
            if password == "PROXY-PASS":
                assert (await kard.users.rewards.offers("u")).data == []
                continue
            with pytest.raises(APIConnectionError, match="the proxy refused: HTTP 407") as caught:
                await kard.users.rewards.offers("u")
    assert proxy.seen_auth[0] == expected
    for error in exception_chain(caught.value):
        for text in (repr(error), str(error), repr(error.args)):
            assert "WRONG-PASS" not in text
            assert base64.b64encode(b"proxy-user:WRONG-PASS").decode() not in text


async def test_item12_trust_env_reads_https_proxy(
    tls_api: str,
    ca: trustme.CA,
    serve_raw: Callable[..., Awaitable[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = ConnectProxy()
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{await serve_raw(proxy.handle)}")
    for trust_env in (False, True):
        async with AsyncKard(
            token="t",
            organization_id="org",
            base_url=tls_api,
            ssl=trusting(ca),
            trust_env=trust_env,
        ) as kard:
            await kard.users.rewards.offers("u")
        assert len(proxy.tunnels) == int(trust_env)  # the environment is ignored unless asked


def test_item12_blocking_kard_takes_the_options_and_refuses_a_session() -> None:
    parameters = inspect.signature(Kard).parameters
    assert {"proxy", "trust_env", "ssl", "max_response_size"} <= set(parameters)

    async def make_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(make_session())
    try:
        with pytest.raises(InvalidParameterError, match="makes its own aiohttp session"):
            Kard(token="t", session=session)
    finally:
        loop.run_until_complete(session.close())
        loop.close()


# --------------------------------------------------------------------------- item 13


def test_item13_crlf_and_bad_types_are_refused_at_construction() -> None:
    for headers in ({"X-Tenant": "a\r\nX-Evil: 1"}, {"X-Tenant": "a\nb"}, {"Bad Name": "x"}):
        with pytest.raises(InvalidParameterError, match="headers"):
            AsyncKard(token="t", headers=headers)
        with pytest.raises(InvalidParameterError, match="headers"):
            AsyncKard(token="t").with_options(headers=headers)
    with pytest.raises(InvalidParameterError) as caught:
        AsyncKard(token="t", headers={"X-Api-Key": "SECRET-KEY\n"})
    assert "SECRET-KEY" not in str(caught.value)  # header values are never shown
    with pytest.raises(InvalidParameterError, match="target_issuer"):
        AsyncKard("id", "secret", target_issuer="org\r\nX-Evil: 1")
    with pytest.raises(InvalidParameterError, match="token") as caught:
        AsyncKard(token="SECRET-TOKEN\r\n")
    assert "SECRET-TOKEN" not in str(caught.value)
    for timeout in (math.inf, math.nan, -1.0):
        with pytest.raises(InvalidParameterError, match="timeout"):
            AsyncKard(token="t", timeout=timeout)
        with pytest.raises(InvalidParameterError, match="timeout"):
            AsyncKard(token="t").with_options(timeout=timeout)
    with pytest.raises(InvalidParameterError, match="client_id"):
        AsyncKard(..., "secret")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="client_secret") as caught:
        AsyncKard("id", b"SECRET-BYTES")  # type: ignore[arg-type]
    assert "SECRET-BYTES" not in str(caught.value)
    with pytest.raises(InvalidParameterError, match="organization_id"):
        AsyncKard(token="t", organization_id=...)  # type: ignore[arg-type]


async def test_item13_a_token_callable_with_crlf_is_refused_before_sending(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    hits: list[str] = []

    async def offers(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response(EMPTY_PAGE)

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)
    for value in ("SECRET\r\nX-Evil: 1", "", None):
        async with AsyncKard(token=lambda v=value: v, organization_id="org", base_url=base) as kard:
            with pytest.raises(InvalidParameterError, match="token") as caught:
                await kard.users.rewards.offers("u")
        assert "SECRET" not in str(caught.value)
    assert hits == []


async def test_item13_non_string_query_values_are_refused_before_sending() -> None:
    async with AsyncKard(token="t", organization_id="org", base_url=NOWHERE) as kard:
        rewards = kard.users.rewards
        with pytest.raises(InvalidParameterError, match="sort"):
            rewards.offers("u", sort=True)  # type: ignore[arg-type]
        # Named as the caller wrote them (the argument), checked when the method is called.
        with pytest.raises(InvalidParameterError, match=r"name=b'x'"):
            rewards.locations("u", name=b"x")  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterError, match=r"search=nan"):
            rewards.offers("u", search=math.nan)  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterError, match="include"):
            rewards.offers("u", include=7)  # type: ignore[arg-type]


async def test_item13_deeply_nested_json_is_a_response_validation_error(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    deep = b'{"data": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    posts: list[str] = []

    async def offers(request: web.Request) -> web.Response:
        return web.Response(body=deep, content_type="application/json")

    async def attributions(request: web.Request) -> web.Response:
        posts.append(request.match_info["user"])
        return web.Response(body=deep, status=201, content_type="application/json")

    async def error(request: web.Request) -> web.Response:
        return web.Response(body=b'{"errors": ' + deep + b"}", status=400)

    app = web.Application()
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    app.router.add_get("/v2/issuers/org/users/u/locations", error)
    app.router.add_post("/v2/issuers/org/users/{user}/attributions", attributions)
    base = await serve_app(app)
    async with AsyncKard(token="t", organization_id="org", base_url=base) as kard:
        with pytest.raises(ResponseValidationError, match="nested too deeply"):
            await kard.users.rewards.offers("u")
        with pytest.raises(BadRequestError):
            await kard.users.rewards.locations("u")
        report = await kard.users.attributions.bulk_create(
            [(f"u{n % 3}", event(n)) for n in range(450)], max_retries=0
        )
    # Every request was accepted (2xx); only the answers were unreadable: nothing aborted.
    assert (report.accepted, report.failed_count, len(report.invalid)) == (450, 0, 0)
    assert len(posts) == 6


# --------------------------------------------------------------------------- item 14


async def test_item14_numeric_error_status_keeps_every_detail(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    async def attributions(request: web.Request) -> web.Response:
        events = (await request.json())["data"]
        bad = [i for i, e in enumerate(events) if e["attributes"]["entityId"] == "ebad"]
        if bad:
            return web.json_response(
                {
                    "errors": [
                        {
                            "status": 400,
                            "detail": "unknown offer",
                            "source": {"pointer": f"/data/{bad[0]}/attributes/entityId"},
                        }
                    ]
                },
                status=400,
            )
        return web.json_response(JOB, status=201)

    app = web.Application()
    app.router.add_post("/v2/issuers/org/users/u/attributions", attributions)
    base = await serve_app(app)
    async with AsyncKard(token="t", organization_id="org", base_url=base) as kard:
        with pytest.raises(BadRequestError) as caught:
            await kard.users.attributions.create("u", [event(1), event("bad")])
        report = await kard.users.attributions.bulk_create(
            [("u", event(1)), ("u", event("bad")), ("u", event(3))], max_retries=0
        )
    [detail] = caught.value.errors
    assert detail.status == "400"
    assert detail.detail == "unknown offer"
    assert detail.source is not None
    assert detail.source.pointer == "/data/1/attributes/entityId"
    assert "unknown offer" in str(caught.value)
    # The one bad event is invalid; the rest of the batch was sent again and accepted.
    assert [i.index for i in report.invalid] == [1]
    assert (report.accepted, report.failed_count) == (2, 0)


async def test_item14_an_empty_2xx_answer_to_a_write_says_it_was_accepted(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    async def attributions(request: web.Request) -> web.Response:
        return web.Response(status=201)

    async def offers(request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/v2/issuers/org/users/u/attributions", attributions)
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)
    async with AsyncKard(token="t", organization_id="org", base_url=base) as kard:
        with pytest.raises(ResponseValidationError) as caught:
            await kard.users.attributions.create("u", [event(1)])
        with pytest.raises(ResponseValidationError) as read:
            await kard.users.rewards.offers("u")
    error = caught.value
    assert error.accepted
    assert error.outcome_unknown  # never "safe to resend": it was processed
    assert "accepted the request: do not send it again" in str(error)
    assert read.value.accepted
    assert not read.value.outcome_unknown  # a read: nothing to repeat


# --------------------------------------------------------------------------- item 16


@pytest.mark.parametrize("expires_in", [0, -5, "nan", "soon"])
async def test_item16_unusable_expires_in_does_not_fetch_a_token_per_call(
    serve_app: Callable[..., Awaitable[str]], expires_in: object
) -> None:
    tokens: list[int] = []

    async def token(request: web.Request) -> web.Response:
        tokens.append(1)
        return web.json_response({"access_token": "tok", "expires_in": expires_in})

    async def offers(request: web.Request) -> web.Response:
        return web.json_response(EMPTY_PAGE)

    app = web.Application()
    app.router.add_post("/v2/auth/token", token)
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)
    async with AsyncKard("id", "secret", organization_id="org", base_url=base) as kard:
        for _ in range(5):
            await kard.users.rewards.offers("u")
        await asyncio.gather(*(kard.users.rewards.offers("u") for _ in range(5)))
    assert len(tokens) == 1


async def test_item16_an_empty_access_token_is_refused(
    serve_app: Callable[..., Awaitable[str]],
) -> None:
    authorizations: list[str] = []

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "", "expires_in": 3600})

    async def offers(request: web.Request) -> web.Response:
        authorizations.append(request.headers.get("Authorization", ""))
        return web.json_response(EMPTY_PAGE)

    app = web.Application()
    app.router.add_post("/v2/auth/token", token)
    app.router.add_get("/v2/issuers/org/users/u/offers", offers)
    base = await serve_app(app)
    async with AsyncKard("id", "secret", organization_id="org", base_url=base) as kard:
        with pytest.raises(ResponseValidationError, match="access_token") as caught:
            await kard.users.rewards.offers("u")
    assert caught.value.before_send
    assert authorizations == []  # never sent as "Bearer "


# --------------------------------------------------------------------------- item 19


def test_item19_atexit_handlers_registered_before_the_client_can_use_it(
    kard_server: EmulatorServer,
) -> None:
    result = run_script(
        """
        import atexit
        clients = []
        def late():
            page = clients[0].users.rewards.offers("user-1", page_size=2)
            print("atexit call ok", len(page.data), flush=True)
        atexit.register(late)
        kard = make()
        clients.append(kard)
        kard.users.rewards.offers("user-1", page_size=1)
        print("main done", flush=True)
        """,
        kard_server,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["main done", "atexit call ok 2"]
    assert result.stderr == ""  # no "client is closed", no "Unclosed client session"


# --------------------------------------------------------------------------- item 20


def test_item20_an_async_client_works_in_a_second_asyncio_run(
    kard_server: EmulatorServer,
) -> None:
    kard = AsyncKard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    )

    async def use() -> int:
        return len((await kard.users.rewards.offers("user-1", page_size=2)).data)

    assert asyncio.run(use()) == 2
    first = getattr(kard._transport, "_pool", None)
    assert asyncio.run(use()) == 2  # before: RuntimeError: Event loop is closed
    assert first is not None
    assert all(session.closed for session in first.sessions)  # closed as its loop ended
    assert kard._transport._pool is not first
    asyncio.run(kard.aclose())
    assert len(kard_server.emulator.token_requests) == 1  # the token outlived the first loop


def test_item20_a_callers_session_on_a_closed_loop_is_a_clear_error() -> None:
    async def first() -> AsyncKard:
        session = aiohttp.ClientSession()
        kard = AsyncKard(token="t", organization_id="org", base_url=NOWHERE, session=session)
        await session.close()
        return kard

    async def second() -> None:
        await kard.users.rewards.offers("u")

    kard = asyncio.run(first())
    with pytest.raises(InvalidParameterError, match="another event loop") as caught:
        asyncio.run(second())
    assert "leave session= out" in str(caught.value)


# --------------------------------------------------------------------------- item 21


def test_item21_keyboard_interrupt_test_passes_with_sigint_ignored() -> None:
    """Run the keyboard-interrupt test as a background job would: with SIGINT ignored."""
    test = "tests/test_sync_runtime.py::test_keyboard_interrupt_cancels_the_request"
    launcher = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "os.execv(sys.executable, [sys.executable, '-m', 'pytest', '-q', '-p', "
        f"'no:cacheprovider', {test!r}])"
    )
    result = subprocess.run(
        [sys.executable, "-c", launcher],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout


# --------------------------------------------------------------------------- item 5


def test_item05_ctrl_c_during_blocking_bulk_create_carries_the_report(
    kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=0.05, path="attributions$", times=None))
    result = run_script(
        """
        events = [
            (f"user-{n % 20}", {"type": "offerAttribution", "entityId": f"e{n}",
             "eventCode": "VIEW", "medium": "SEARCH", "eventDate": "2025-01-01T00:00:00Z"})
            for n in range(6_000)
        ]
        kard = make(max_retries=0)
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            kard.users.attributions.bulk_create(events, concurrency=4)
            print(json.dumps({"interrupted": False}))
        except KeyboardInterrupt as interrupt:
            report = getattr(interrupt, "kard_bulk_report", None)
            print(json.dumps({
                "interrupted": True,
                "has_report": report is not None,
                "accepted": report.accepted if report else 0,
                "failed": report.failed_count if report else 0,
                "unknown": sum(len(b.events) for b in report.failed if b.outcome_unknown)
                if report else 0,
            }), flush=True)
        kard.close()
        """,
        kard_server,
    )
    kard_server.quiesce()
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["interrupted"]
    assert outcome["has_report"]
    recorded = kard_emulator.attribution_event_count
    assert 0 < outcome["accepted"] < 6_000
    assert outcome["accepted"] <= recorded <= outcome["accepted"] + outcome["unknown"]


# --------------------------------------------------------------------------- helpers' checks


def test_exception_chain_walks_cause_and_context() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as outer:
        chain = exception_chain(outer)
    assert [type(e) for e in chain] == [ValueError, KeyError]
