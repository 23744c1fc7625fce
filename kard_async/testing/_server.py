"""Run an emulator on a real socket in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from aiohttp import web

from ._app import build_app, cancel_in_flight
from ._emulator import KardEmulator
from ._routing import Layer

_START_TIMEOUT = 30.0


async def start_runner(
    emulator: KardEmulator,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = 1.0,
    layer: Layer | None = None,
) -> tuple[web.AppRunner, int]:
    """Start serving ``emulator`` on host:port; return the runner and the bound port."""
    app = build_app(emulator, layer=layer)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    return runner, int(bound)


class EmulatorServer:
    """A ``KardEmulator`` listening on ``host:port`` (``port=0`` picks a free port).

    The server runs in a daemon thread, so both async tests (any event loop) and blocking
    code can talk to it. Use as a context manager or call ``start()``/``stop()``.
    """

    def __init__(
        self, emulator: KardEmulator | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.emulator = emulator if emulator is not None else KardEmulator()
        self.host = host
        self.port = port
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            raise RuntimeError("EmulatorServer.start() called twice")
        self._thread = threading.Thread(target=self._run, name="kard-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError("the Kard emulator did not start in time")
        if self._error is not None:
            self._thread.join()
            raise RuntimeError(f"the Kard emulator failed to start: {self._error}") from (
                self._error
            )
        return self

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = self._loop = self._stop = None

    def quiesce(self, timeout: float = 5.0) -> None:
        """Close every client connection and cancel every request still being handled.

        Call it between tests that share one server (the ``kard_server`` fixture does), so
        that a request left behind by one test cannot be recorded in the next one's state.
        Once is enough: a request that aiohttp had already read from a connection closed
        here, but whose handler starts only afterwards, is ignored by the dispatcher. (A
        client the previous test left running can still open a new connection: close
        clients at the end of each test.)
        """
        loop = self._loop
        if loop is None or self._thread is None or not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._quiesce(timeout), loop).result(timeout + 1.0)

    async def _quiesce(self, timeout: float) -> None:
        runner = self._runner
        if runner is None or runner.server is None:
            return
        for connection in list(runner.server.connections):
            connection.force_close()
        await cancel_in_flight(runner.app, timeout)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die noisily
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner, self.port = await start_runner(self.emulator, self.host, self.port)
        self._runner = runner
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            self._runner = None
            await runner.cleanup()


@contextmanager
def serve(**kwargs: Any) -> Iterator[EmulatorServer]:
    """Run an emulator for the duration of a ``with`` block.

    ``host`` and ``port`` go to the server; every other keyword goes to ``KardEmulator``.
    """
    host = kwargs.pop("host", "127.0.0.1")
    port = kwargs.pop("port", 0)
    with EmulatorServer(KardEmulator(**kwargs), host=host, port=port) as server:
        yield server
