"""The connections of one event loop: one pool for reads (and the token), one for writes.

aiohttp sessions belong to the event loop they were made on. The transport opens a
:class:`Pool` on the loop it is used on, and a new one when it is later used on another
loop (a second ``asyncio.run()``). A pool closes itself when its loop shuts down: it starts
an async generator, and asyncio closes the open async generators of a loop when it shuts
down (``asyncio.run()`` and ``asyncio.Runner`` do), running its ``finally`` on that loop.
"""

from __future__ import annotations

import asyncio
import select
import weakref
from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import Any

import aiohttp

from ._errors import InvalidParameterError

WRITE_REUSE_IDLE = 0.5
"""Seconds: a write never reuses a connection that has been idle longer than this.

A server closes idle keep-alive connections after a timeout of its own. A request sent as
it does so (its FIN still on the way) is never read by the server, but all the client sees
is the connection dropping before any answer, just as if the server had failed while
processing it: a read can be sent again, but a write then has an unknown outcome. Writes
reuse only connections that were busy moments ago, so they stay clear of any server idle
timeout longer than this plus a round trip; after a pause, a write opens a new connection.
"""

_STALE_CHECKS = 16  # a bound, should a reused connection ever read as stale again and again


class _WriteConnector(aiohttp.TCPConnector):
    """Never hands a write a kept-alive connection that the server has already closed.

    The server's FIN can be waiting, unread, on a pooled connection: it arrived after the
    event loop last polled. aiohttp would reuse the connection, the server would never read
    the write, and all the client could say is "outcome unknown". An idle HTTP/1.1
    connection has nothing to read, so a reused one that has (EOF, or anything else) is
    closed and the next one taken. One poll(2) per write, on a poller made once per
    connection; a loop pass costs several times more. New connections are not checked (a
    TLS server may have sent a session ticket).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A connection's protocol -> its input check; a protocol not in here is new.
        self._checks: weakref.WeakKeyDictionary[object, Callable[[], bool]] = (
            weakref.WeakKeyDictionary()
        )

    async def connect(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        for _ in range(_STALE_CHECKS):
            connection = await super().connect(*args, **kwargs)
            has_input = self._checks.get(connection.protocol)
            if has_input is None:
                self._checks[connection.protocol] = _input_check(connection)
                return connection
            if not has_input():
                return connection
            connection.close()
        return await super().connect(*args, **kwargs)


def _input_check(connection: aiohttp.connector.Connection) -> Callable[[], bool]:
    """A call that tells whether the connection's socket has input waiting, unread."""
    transport = connection.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return _never
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        return partial(_polled, poller)
    return partial(_selected, sock.fileno())  # Windows


def _never() -> bool:
    return False


def _polled(poller: select.poll) -> bool:
    return bool(poller.poll(0))


def _selected(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


_READ_KEEPALIVE = 15.0  # aiohttp's default: a stale read connection is retried by aiohttp
_DNS_CACHE_SECONDS = 300
READ_BUFSIZE = 256 * 1024
"""Bytes of a response buffered before reading from its socket pauses.

aiohttp pauses a connection once twice this much waits unread, and resumes it when the
reader has taken it below this. Older aiohttp releases (3.9, the oldest we support) default
to 64 KiB: a list page of a few hundred kilobytes, read whole, then paused and resumed its
socket on every request (two ``epoll_ctl`` calls and extra event loop passes; 8 to 35 us of
CPU on a 212 KB page, measured). 256 KiB is asyncio's largest single read and newer
aiohttp's default: the same on every aiohttp we support. A download streamed to a file
buffers at most 512 KiB.
"""


class Pool:
    """The aiohttp sessions used on one event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        reads: aiohttp.ClientSession,
        writes: aiohttp.ClientSession,
        guard: AsyncGenerator[None, None] | None,
    ) -> None:
        self.loop = loop
        self.reads = reads
        self.writes = writes
        self._guard = guard
        self.closed = False
        # Our write pool never hands out a connection the server already closed; a caller's
        # session does not know to check (the transport then lets the loop run first).
        self.checks_stale_writes = isinstance(writes.connector, _WriteConnector)

    @classmethod
    async def open(cls, *, max_connections: int, trust_env: bool) -> Pool:
        """Make the sessions on the running loop; they are closed when it shuts down."""

        def session(keepalive_timeout: float, *, writes: bool) -> aiohttp.ClientSession:
            connector = (_WriteConnector if writes else aiohttp.TCPConnector)(
                limit=max_connections,
                ttl_dns_cache=_DNS_CACHE_SECONDS,
                keepalive_timeout=keepalive_timeout,
            )
            return aiohttp.ClientSession(
                connector=connector, trust_env=trust_env, read_bufsize=READ_BUFSIZE
            )

        loop = asyncio.get_running_loop()
        pool = cls(
            loop,
            session(_READ_KEEPALIVE, writes=False),
            session(WRITE_REUSE_IDLE, writes=True),
            None,
        )
        pool._guard = _close_at_shutdown(pool)
        await pool._guard.asend(None)  # runs to its yield, registering it with the loop
        return pool

    @classmethod
    def borrow(cls, session: aiohttp.ClientSession) -> Pool:
        """The caller's session, for reads and writes alike; never closed here."""
        loop = asyncio.get_running_loop()
        # aiohttp keeps a session's loop in ``_loop`` (its public ``loop`` is deprecated).
        if getattr(session, "_loop", loop) is not loop:
            raise InvalidParameterError(
                "session",
                session,
                "belongs to another event loop (closed, or running elsewhere)",
                hint="create the session inside the loop that uses it and pass it to a new "
                "AsyncKard there, or leave session= out: AsyncKard then makes its own "
                "connections on whichever loop it runs",
            )
        return cls(loop, session, session, None)

    @property
    def sessions(self) -> tuple[aiohttp.ClientSession, ...]:
        return (self.reads,) if self.writes is self.reads else (self.reads, self.writes)

    async def close(self) -> None:
        if self._guard is not None and not self.closed:
            await self._guard.aclose()
        self.closed = True

    async def _close_sessions(self) -> None:
        self.closed = True
        for session in self.sessions:
            await session.close()


async def _close_at_shutdown(pool: Pool) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await pool._close_sessions()
