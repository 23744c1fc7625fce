"""The event-loop thread behind the generated blocking facade (``kard_async._sync``).

One event loop thread per process, run by an anyio :class:`~anyio.from_thread.BlockingPortal`
(asyncio backend), is shared by every ``Kard`` client through reference-counted leases: the
first client starts it, the last ``close()`` stops and joins it. Each client's ``AsyncKard``
(and so its aiohttp session) is built inside that loop and only ever used there.

A blocking call creates the coroutine in the calling thread, hands it to the loop with one
``call_soon_threadsafe`` and sleeps on a lock until the task is done. (``BlockingPortal.call``
does the same job with an extra round trip to spawn the task in the portal's task group:
about three times the cost of this hop, so the portal provides the loop and its lifecycle,
and calls go to its loop directly.) If the sleep is interrupted (``KeyboardInterrupt``), the
task is cancelled and given a moment to unwind before the exception propagates.

Safety nets, none of which touches an event loop from ``__del__``:

* ``weakref.finalize`` closes a client that was dropped without ``close()``.
* At interpreter exit, an ``atexit`` hook closes every client's connections but leaves the
  clients usable: ``atexit`` runs the handlers registered before the first client after
  this hook, and they may still call (each such call closes the connections again when
  done). So a program that forgets ``close()`` exits promptly and without "Unclosed client
  session" noise, and its ``atexit`` handlers still work.
* ``os.register_at_fork``: the child forgets the parent's loop thread and disarms the
  inherited aiohttp objects (they share sockets and the epoll instance with the parent and
  must never be closed or used by the child); each client rebuilds a fresh ``AsyncKard`` on
  a fresh loop, from its constructor arguments, on first use in the child.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import sys
import threading
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from .._errors import InvalidParameterError

if TYPE_CHECKING:
    from .._client import AsyncKard

T = TypeVar("T")

_CANCEL_GRACE = 2.0
"""Seconds an interrupted call waits for its cancelled task to unwind."""

_get_running_loop = asyncio.events._get_running_loop


class SyncInAsyncWarning(UserWarning):
    """The blocking ``Kard`` was used inside a running event loop.

    It works (its calls run on a separate loop thread), but each call blocks the calling
    loop until the request is done: in async code, use ``AsyncKard`` instead.
    """


# --- warnings ------------------------------------------------------------------------------


def _check_in_loop() -> None:
    """Warn once per process when called from a thread running an event loop."""
    if _get_running_loop() is None:
        return
    with _process.lock:
        if _process.warned_in_loop:
            return
        _process.warned_in_loop = True
    warnings.warn(
        "the blocking Kard client is used inside a running event loop: each call blocks "
        "that loop until it is done; use AsyncKard (await kard.users...) in async code",
        SyncInAsyncWarning,
        stacklevel=_caller_stacklevel(),
    )


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside kard_async (the user's call)."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


# --- the loop thread -----------------------------------------------------------------------


class _Pending(Generic[T]):
    """One call crossing into the loop: the task, its outcome, and a lock to sleep on."""

    __slots__ = ("error", "lock", "report", "task", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.task: asyncio.Task[None] | None = None
        self.value: T | None = None
        self.error: BaseException | None = None
        self.report: object = None  # what a cancelled bulk upload accounted for

    # The next three run on the loop thread.

    def start(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> None:
        try:
            self.task = loop.create_task(self.drive(coro))
        except BaseException as error:  # pragma: no cover - the loop is shutting down
            coro.close()
            self.error = error
            self.lock.release()

    async def drive(self, coro: Coroutine[Any, Any, T]) -> None:
        # Settling inside the task, not in a done callback, saves a loop iteration per call.
        try:
            self.value = await coro
        except asyncio.CancelledError as cancelled:
            self.error = RuntimeError("the call was cancelled: its Kard client was closed")
            self.report = getattr(cancelled, "kard_bulk_report", None)
            raise
        except BaseException as error:
            self.error = error
        finally:
            self.lock.release()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


class LoopThread:
    """An asyncio loop in a daemon thread, run by ``anyio.run`` around a ``BlockingPortal``."""

    def __init__(self) -> None:
        ready: Future[tuple[BlockingPortal, asyncio.AbstractEventLoop]] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                ready.set_result((portal, asyncio.get_running_loop()))
                await portal.sleep_until_stopped()

        def run() -> None:
            _prime_allocator()
            try:
                anyio.run(serve, backend="asyncio")
            except BaseException as error:  # pragma: no cover - reported to the starter
                if not ready.done():
                    ready.set_exception(error)

        # A daemon thread: a program that never closes its clients must still exit.
        self.thread = threading.Thread(target=run, name="kard-portal", daemon=True)
        self.thread.start()
        self.portal, self.loop = ready.result()
        self.thread_id = self.thread.ident
        self.generation = _process.generation

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (the hot path: keep it lean)."""
        if threading.get_ident() == self.thread_id:
            coro.close()
            raise RuntimeError(
                "a blocking Kard call from its own event loop thread (e.g. inside on_response "
                "or another callback) would deadlock; use AsyncKard there"
            )
        if not _process.warned_in_loop:
            _check_in_loop()
        pending: _Pending[T] = _Pending()
        try:
            self.loop.call_soon_threadsafe(pending.start, self.loop, coro)
            pending.lock.acquire()
        except BaseException as interrupt:
            # Interrupted while waiting (KeyboardInterrupt, or an exception raised by another
            # signal handler): cancel the request and let it unwind briefly, then propagate,
            # with the report of a bulk upload, as the async client's cancellation has it.
            self.loop.call_soon_threadsafe(pending.cancel)
            if pending.lock.acquire(timeout=_CANCEL_GRACE) and pending.report is not None:
                interrupt.kard_bulk_report = pending.report  # type: ignore[attr-defined]
            raise
        error = pending.error
        if error is not None:
            pending.error = None
            try:
                raise error
            finally:
                del error
        return pending.value  # type: ignore[return-value]

    def call(self, func: Callable[[], T]) -> T:
        """Run a plain function on the loop thread and return its result."""

        async def invoke() -> T:
            return func()

        return self.run(invoke())

    def stop(self) -> None:
        if self.generation != _process.generation:  # inherited through fork(): not ours to stop
            return
        if threading.get_ident() == self.thread_id:
            # Dropped by a finalizer running on the loop itself: stop without joining.
            self.loop.create_task(self.portal.stop(cancel_remaining=True))
            return
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop, True)
        self.thread.join()


def _prime_allocator() -> None:
    """Let glibc's malloc serve response-sized buffers from its heap, not from mmap.

    glibc starts by mmap()ing every block over 128 KiB and raises that threshold only when it
    frees a bigger mmap()ed block. The loop reads sockets with 256 KiB ``recv`` buffers, which
    are shrunk to what arrived before being freed: when data arrives in smaller pieces (a
    loop thread that waits for it reads it early), the threshold never moves, and every
    response costs an mmap/munmap pair and ~50 page faults (a third of the throughput on a
    240 KB page). Freeing one 1 MiB block once raises the threshold as glibc would anyway.
    """
    block = bytearray(1 << 20)
    del block


class _Portals:
    """The process-wide loop thread, started by the first lease and stopped by the last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: LoopThread | None = None
        self.leases = 0

    def acquire(self) -> LoopThread:
        with self.lock:
            if self.current is None:
                self.current = LoopThread()
            self.leases += 1
            return self.current

    def release(self, loop_thread: LoopThread) -> None:
        with self.lock:
            if loop_thread is not self.current:
                return  # a lease taken before fork(): that loop is not in this process
            self.leases -= 1
            if self.leases:
                return
            self.current = None
        loop_thread.stop()


class _Process:
    """Per-process state; replaced in the child after fork()."""

    def __init__(self, generation: int, warned_in_loop: bool) -> None:
        self.generation = generation
        """Incremented in the child after every fork(): older generations are stale."""
        self.portals = _Portals()
        self.lock = threading.Lock()
        self.warned_in_loop = warned_in_loop
        self.exiting = False
        """Set by the atexit hook: calls made after it close their connections when done."""


_process = _Process(0, warned_in_loop=False)


def portal_thread() -> threading.Thread | None:
    """The running loop thread of this process, if any (for tests and diagnostics)."""
    current = _process.portals.current
    return current.thread if current is not None else None


# --- clients -------------------------------------------------------------------------------


class _Connection:
    """What a ``Kard`` and its ``with_options`` copies share: the lease and the AsyncKard.

    Closed once, by ``close()``, by the finalizer of the last ``Kard`` sharing it, or at
    exit. The lease is given back when it is closed and no call is in flight.
    """

    def __init__(self, factory: Callable[[], AsyncKard]) -> None:
        self.lock = threading.Lock()
        self.factory = factory
        self.closed = False
        self.inflight = 0
        self.loop_thread: LoopThread | None = None
        self.client: AsyncKard | None = None
        self.generation = _process.generation
        self.finalizer: weakref.finalize[[], _Anchor] | None = None
        self._open()

    def _open(self) -> None:
        loop_thread = _process.portals.acquire()
        try:
            client = loop_thread.call(self.factory)
            if not _owns_session(client):
                # Refused here, where it is known: the session must belong to the loop thread,
                # which the caller cannot reach before the client exists.
                raise InvalidParameterError(
                    "session",
                    client._transport._session,
                    "the blocking Kard makes its own aiohttp session on its loop thread",
                    hint="leave session= out and pass proxy=, ssl=, trust_env=, "
                    "max_connections= or headers= instead, or use AsyncKard with your session",
                )
        except BaseException:
            _process.portals.release(loop_thread)
            raise
        self.loop_thread, self.client, self.generation = loop_thread, client, _process.generation

    def current(self) -> AsyncKard:
        """The AsyncKard of this process (rebuilt on first use after a fork)."""
        if self.generation != _process.generation:
            with self.lock:
                if self.generation != _process.generation and not self.closed:
                    self._open()
        assert self.client is not None
        return self.client

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self.lock:
            loop_thread = self.loop_thread
            if self.closed or loop_thread is None:
                coro.close()
                raise RuntimeError("this Kard client is closed")
            if self.generation != _process.generation:
                coro.close()
                raise RuntimeError("this call was prepared before fork(); call again")
            self.inflight += 1
        try:
            return loop_thread.run(coro)
        finally:
            self._leave(loop_thread)
            if _process.exiting:
                self.park()

    def park(self) -> None:
        """Close the connections, leaving the client usable (it reconnects when next used).

        Done at interpreter exit, for atexit handlers that still call after the hook."""
        with self.lock:
            loop_thread, client = self.loop_thread, self.client
            if self.closed or self.inflight or loop_thread is None or client is None:
                return
            if self.generation != _process.generation:
                return
            self.inflight += 1
        try:
            with contextlib.suppress(Exception):
                loop_thread.run(client._transport.close_pool())
        finally:
            self._leave(loop_thread)

    def _leave(self, loop_thread: LoopThread) -> None:
        """A call (or the close) is done: the last one out after close() releases the lease."""
        with self.lock:
            self.inflight -= 1
            release = self.closed and not self.inflight and self.loop_thread is not None
            if release:
                self.loop_thread = None
        if release:
            _process.portals.release(loop_thread)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if self.finalizer is not None:
                self.finalizer.detach()
            loop_thread, client = self.loop_thread, self.client
            if self.generation != _process.generation or loop_thread is None or client is None:
                self.loop_thread = None  # inherited through fork(): nothing of ours to close
                return
            if threading.get_ident() == loop_thread.thread_id:
                # Dropped (or closed) by code running on the loop: finish there, later.
                self.loop_thread = None
                loop_thread.loop.create_task(_close_on_loop(client, loop_thread))
                return
            # Counted as a call in flight, in the same locked step that marks the client
            # closed: a call finishing meanwhile cannot release the loop under the close.
            self.inflight += 1
        try:
            loop_thread.run(client.aclose())
        finally:
            self._leave(loop_thread)

    def close_quietly(self) -> None:
        """The finalizer: close, but never raise (it may run at interpreter exit)."""
        with contextlib.suppress(Exception):
            self.close()

    def after_fork_in_child(self) -> None:
        self.lock = threading.Lock()
        self.inflight = 0
        if self.client is not None:
            _disarm(self.client)
        if self.closed:
            self.loop_thread = None


async def _close_on_loop(client: AsyncKard, loop_thread: LoopThread) -> None:
    try:
        await client.aclose()
    finally:
        _process.portals.release(loop_thread)


class _Anchor:
    """Held by every ``ClientHandle`` sharing one connection; its death closes it."""

    __slots__ = ("__weakref__",)


class ClientHandle:
    """A ``Kard``'s view of its connection: the AsyncKard it calls (the root client, or a
    ``with_options`` copy of it, re-derived after a fork)."""

    __slots__ = ("_anchor", "_client", "_conn", "_derivations", "_generation")

    def __init__(
        self,
        conn: _Connection,
        anchor: _Anchor,
        derivations: tuple[Callable[[AsyncKard], AsyncKard], ...],
        client: AsyncKard,
    ) -> None:
        self._conn = conn
        self._anchor = anchor
        self._derivations = derivations
        self._client = client
        self._generation = _process.generation

    def client(self) -> AsyncKard:
        """The AsyncKard to call; cheap, and fork-aware."""
        if self._generation != _process.generation:
            self._refresh()
        return self._client

    def _refresh(self) -> None:
        client = self._conn.current()
        for derive in self._derivations:
            client = derive(client)
        self._client, self._generation = client, _process.generation

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of this client's AsyncKard on the loop; return its result."""
        return self._conn.run(coro)

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        """A blocking iterator over an async iterator (one hop per item)."""
        return _SyncIterator(self, iterator)

    def derive(self, derive: Callable[[AsyncKard], AsyncKard]) -> ClientHandle:
        """A handle on ``derive(client)`` sharing this connection (``with_options``)."""
        return ClientHandle(
            self._conn, self._anchor, (*self._derivations, derive), derive(self.client())
        )

    def close(self) -> None:
        self._conn.close()


def connect(factory: Callable[[], AsyncKard]) -> ClientHandle:
    """Lease the loop thread and build ``factory()`` (the AsyncKard) on it."""
    if not _process.warned_in_loop:
        _check_in_loop()
    conn = _Connection(factory)
    anchor = _Anchor()
    conn.finalizer = weakref.finalize(anchor, conn.close_quietly)
    conn.finalizer.atexit = False  # _park_at_exit instead: atexit handlers may still call
    _live.add(conn)
    _register_exit_hook()
    assert conn.client is not None
    return ClientHandle(conn, anchor, (), conn.client)


_exit_hook = threading.Lock()
_exit_hook_registered = False  # inherited by a forked child, like the registration itself


def _register_exit_hook() -> None:
    global _exit_hook_registered  # noqa: PLW0603 - once per process tree
    with _exit_hook:
        if not _exit_hook_registered:
            atexit.register(_park_at_exit)
            _exit_hook_registered = True


def _park_at_exit() -> None:
    _process.exiting = True
    for conn in list(_live):
        conn.park()


def current_generation() -> int:
    """Changes in a child process after fork(): objects bound to an older one are stale."""
    return _process.generation


def mirror_repr(obj: object, async_name: str, sync_name: str) -> str:
    text = repr(obj)
    return sync_name + text[len(async_name) :] if text.startswith(async_name) else text


_live: weakref.WeakSet[_Connection] = weakref.WeakSet()


def _owns_session(client: AsyncKard) -> bool:
    return client._transport.owns_session


def _disarm(client: AsyncKard) -> None:
    """Make the parent's AsyncKard inert in a forked child, without closing anything; keep
    its objects alive for the child's lifetime so no destructor touches them."""
    _orphans.extend((client, *client._transport.abandon()))


_orphans: list[object] = []


def _after_fork_in_child() -> None:
    global _process  # noqa: PLW0603 - the child starts from fresh process state
    _process = _Process(_process.generation + 1, _process.warned_in_loop)
    for conn in list(_live):
        conn.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _SyncIterator(Iterator[T]):
    def __init__(self, handle: ClientHandle, iterator: AsyncIterator[T]) -> None:
        self._handle = handle
        self._iterator = iterator

    def __next__(self) -> T:
        try:
            return self._handle.run(_anext(self._iterator))
        except StopAsyncIteration:
            raise StopIteration from None


async def _anext(iterator: AsyncIterator[T]) -> T:
    return await iterator.__anext__()
