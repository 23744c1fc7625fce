"""The blocking ``Kard`` against the emulator: results, errors, iterators, threads, lifecycle,
event loops, interrupts, fork and interpreter exit."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import pytest

from kard_async import (
    AsyncKard,
    InvalidParameterError,
    Kard,
    NotFoundError,
    Paginator,
    ResponseInfo,
    RetryPolicy,
    SyncInAsyncWarning,
)
from kard_async._blocking import portal as _portal
from kard_async._sync.rewards import Rewards
from kard_async.bulk import BulkProgress
from kard_async.models import Job, Location, LocationsPage, OfferActivation, OfferAttribution
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
)

USER = "user-1"
LAT, LON = 39.9419429, -75.1446869  # Philadelphia, the API docs' example
WHEN = datetime(2025, 1, 1, tzinfo=timezone.utc)
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


def make(server: EmulatorServer, **overrides: Any) -> Kard:
    settings: dict[str, Any] = {"organization_id": TEST_ORGANIZATION_ID}
    settings.update(base_url=server.base_url, retry_policy=FAST)
    settings.update(overrides)
    return Kard(TEST_CLIENT_ID, TEST_CLIENT_SECRET, **settings)


@pytest.fixture
def make_kard(kard_server: EmulatorServer) -> Iterator[Callable[..., Kard]]:
    clients: list[Kard] = []

    def build(**overrides: Any) -> Kard:
        client = make(kard_server, **overrides)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def kard(make_kard: Callable[..., Kard]) -> Kard:
    return make_kard()


def location_requests(emulator: KardEmulator) -> list[str]:
    return [r.query_string for r in emulator.requests if r.path.endswith("/locations")]


def pending_tasks(kard: Kard) -> list[str]:
    """Tasks alive on the portal loop, other than anyio's portal task and this probe."""

    async def probe() -> list[str]:
        me = asyncio.current_task()
        return [
            repr(task.get_coro())
            for task in asyncio.all_tasks()
            if task is not me and "BlockingPortal" not in repr(task.get_coro())
            and "serve" not in repr(task.get_coro())
        ]  # fmt: skip

    return kard._handle.run(probe())


def event(n: int) -> OfferAttribution:
    return OfferAttribution(
        entity_id=f"offer-{n}", event_code="IMPRESSION", medium="BROWSE", event_date=WHEN
    )


# --- results and errors ------------------------------------------------------------------------


def test_calls_return_plain_results(kard: Kard, kard_emulator: KardEmulator) -> None:
    page = kard.users.rewards.locations(USER, latitude=LAT, longitude=LON, radius=5)
    assert isinstance(page, Paginator)
    assert isinstance(page.page, LocationsPage)
    assert page.included == page.page.included  # other page attributes, read through
    assert page.data
    assert all(isinstance(loc, Location) for loc in page.data)
    job = kard.users.attributions.create(USER, [event(1), event(2)])
    assert isinstance(job, Job)
    offer = kard.users.rewards.offers(USER, page_size=1).data[0]
    activation = kard.users.attributions.activate(USER, offer.id)
    assert isinstance(activation, OfferActivation)
    received = kard_emulator.attribution_events
    assert [e.attributes["entityId"] for e in received[:2]] == ["offer-1", "offer-2"]
    assert kard.base_url.startswith("http://127.0.0.1")
    assert kard.organization_id == TEST_ORGANIZATION_ID
    assert repr(kard).startswith("Kard(base_url='http://127.0.0.1:")
    assert isinstance(kard.users.rewards, Rewards)


def test_errors_are_the_async_exception_classes(kard: Kard, kard_emulator: KardEmulator) -> None:
    with pytest.raises(InvalidParameterError) as invalid:
        kard.users.rewards.locations(USER, latitude=10.0)
    assert invalid.value.parameter == "longitude"
    with pytest.raises(InvalidParameterError):  # checked before any request
        kard.users.rewards.locations(USER, page_size=0)
    kard_emulator.inject(Fault(kind="status", status=404, path="offers"))
    with pytest.raises(NotFoundError) as missing:
        kard.users.rewards.offers(USER)
    assert missing.value.status == 404
    assert missing.value.__traceback__ is not None


def test_bulk_create_with_a_progress_callback(kard: Kard, kard_emulator: KardEmulator) -> None:
    progress: list[BulkProgress] = []
    report = kard.users.attributions.bulk_create(
        [(f"user-{n % 3}", event(n)) for n in range(250)], on_progress=progress.append
    )
    assert report.ok
    assert report.accepted == 250
    assert kard_emulator.attribution_event_count == 250
    assert progress
    assert progress[-1].done == 250


# --- iterators ---------------------------------------------------------------------------------


def test_iterators_fetch_one_page_per_request(kard: Kard, kard_emulator: KardEmulator) -> None:
    first = kard.users.rewards.locations(USER, page_size=40)
    assert isinstance(first, Paginator)
    assert len(location_requests(kard_emulator)) == 1  # the call fetched the first page
    locations = list(first)
    pages = len(location_requests(kard_emulator))
    assert pages == math.ceil(len(locations) / 40) or pages == len(locations) // 40 + 1
    assert len({loc.id for loc in locations}) == len(locations) > 80
    assert [loc.id for loc in first.data] == [loc.id for loc in locations[:40]]
    assert first.page.data == first.data
    second = first.next_page()
    assert second is not None
    assert [loc.id for loc in second.data] == [loc.id for loc in locations[40:80]]
    assert len([p for p in first.iter_pages()]) == pages


def test_breaking_out_early_stops_cleanly(kard: Kard, kard_emulator: KardEmulator) -> None:
    taken = []
    for location in kard.users.rewards.locations(USER, page_size=10):
        taken.append(location)
        if len(taken) == 3:
            break
    assert len(location_requests(kard_emulator)) == 1
    time.sleep(0.1)
    assert len(location_requests(kard_emulator)) == 1
    assert pending_tasks(kard) == []


# --- sharing, closing, threads -------------------------------------------------------------------


def test_with_options_shares_the_portal_and_the_pool(
    kard: Kard, kard_emulator: KardEmulator
) -> None:
    copy = kard.with_options(headers={"X-Sync-Test": "yes"}, organization_id="org-999")
    assert isinstance(copy, Kard)
    assert copy.organization_id == "org-999"
    assert copy._handle._conn is kard._handle._conn
    assert copy._handle.client()._transport is kard._handle.client()._transport
    copy.users.rewards.offers(USER, organization_id=TEST_ORGANIZATION_ID, page_size=1)
    assert kard_emulator.requests[-1].headers.get("X-Sync-Test") == "yes"
    kard.users.rewards.offers(USER, page_size=1)
    assert "X-Sync-Test" not in kard_emulator.requests[-1].headers
    copy.close()  # closes the shared pool, like AsyncKard.with_options
    with pytest.raises(RuntimeError, match="closed"):
        kard.users.rewards.offers(USER)


def test_close_is_idempotent_and_leaves_no_thread(kard_server: EmulatorServer) -> None:
    gc.collect()
    before = {thread.ident for thread in threading.enumerate()}
    kard = make(kard_server)
    first_page = kard.users.rewards.offers(USER, page_size=1)
    with kard.with_options(timeout=5) as copy:
        copy.users.rewards.offers(USER, page_size=1)
        assert _portal.portal_thread() in threading.enumerate()
    kard.close()
    kard.close()
    assert {thread.ident for thread in threading.enumerate()} == before
    assert _portal.portal_thread() is None
    with pytest.raises(RuntimeError, match="closed"):
        kard.users.rewards.offers(USER)
    with pytest.raises(RuntimeError, match="closed"):
        list(first_page)  # its next pages cannot be fetched any more
    assert kard.base_url.startswith("http://")  # configuration stays readable


def test_a_constructor_error_leaves_nothing_behind(kard_server: EmulatorServer) -> None:
    gc.collect()
    before = {thread.ident for thread in threading.enumerate()}
    with pytest.raises(InvalidParameterError) as error:
        Kard(TEST_CLIENT_ID, TEST_CLIENT_SECRET, base_url="ftp://example.com")
    assert error.value.parameter == "base_url"
    assert {thread.ident for thread in threading.enumerate()} == before


def test_clients_share_one_loop_thread(make_kard: Callable[..., Kard]) -> None:
    first, second = make_kard(), make_kard()
    assert first._handle._conn.loop_thread is second._handle._conn.loop_thread
    first.close()
    second.users.rewards.offers(USER, page_size=1)  # the lease of the other keeps it alive


def test_a_dropped_client_is_closed_by_its_finalizer(kard_server: EmulatorServer) -> None:
    gc.collect()
    before = {thread.ident for thread in threading.enumerate()}
    kard = make(kard_server)
    kard.users.rewards.offers(USER, page_size=1)
    transport = kard._handle.client()._transport
    pager = iter(kard.users.rewards.offers(USER, page_size=1))
    next(pager)
    del kard
    gc.collect()
    assert not transport.closed  # the pager still holds the client
    del pager
    gc.collect()
    assert transport.closed
    assert {thread.ident for thread in threading.enumerate()} == before


def test_sixteen_threads_share_one_client(kard: Kard) -> None:
    expected = {size: kard.users.rewards.offers(USER, page_size=size) for size in range(1, 9)}
    locations = [
        loc.id for loc in kard.users.rewards.locations(USER, latitude=LAT, longitude=LON, radius=3)
    ]
    barrier = threading.Barrier(16)

    def work(worker: int) -> int:
        barrier.wait()
        calls = 0
        for round_ in range(6):
            size = (worker + round_) % 8 + 1
            page = kard.users.rewards.offers(USER, page_size=size)
            assert [o.id for o in page.data] == [o.id for o in expected[size].data]
            calls += 1
        found = [
            loc.id
            for loc in kard.users.rewards.locations(USER, latitude=LAT, longitude=LON, radius=3)
        ]
        assert found == locations
        job = kard.users.attributions.create(f"user-t{worker}", [event(worker)])
        assert job.id
        return calls + 2

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(work, range(16)))
    assert results == [8] * 16


def test_a_call_from_the_loop_thread_raises_instead_of_deadlocking(
    make_kard: Callable[..., Kard],
) -> None:
    holder: list[Kard] = []

    def on_response(info: ResponseInfo) -> None:
        holder[0].users.rewards.offers(USER)

    kard = make_kard(on_response=on_response)
    holder.append(kard)
    with pytest.raises(RuntimeError, match="deadlock"):
        kard.users.rewards.offers(USER, page_size=1)


# --- inside a running event loop ---------------------------------------------------------


@pytest.fixture
def warn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_portal._process, "warned_in_loop", False)


@pytest.mark.usefixtures("warn_again")
async def test_inside_a_running_loop_it_works_and_warns_once(
    kard_server: EmulatorServer,
) -> None:
    with pytest.warns(SyncInAsyncWarning, match="AsyncKard") as caught:
        kard = make(kard_server)
    assert caught[0].filename == __file__  # points at the caller
    try:
        page = kard.users.rewards.offers(USER, page_size=2)  # no second warning (it'd raise)
        assert len(page.data) == 2
        assert sum(1 for _ in kard.users.rewards.offers(USER, page_size=50)) > 2
        # The running loop is not the client's: async work still runs around the calls.
        assert await asyncio.sleep(0, "still alive") == "still alive"
    finally:
        kard.close()
    assert issubclass(SyncInAsyncWarning, UserWarning)


@pytest.mark.usefixtures("warn_again")
def test_a_client_built_outside_warns_at_its_first_call_inside(kard: Kard) -> None:
    async def main() -> int:
        with pytest.warns(SyncInAsyncWarning):
            first = kard.users.rewards.offers(USER, page_size=1)
        second = kard.users.rewards.offers(USER, page_size=1)
        return len(first.data) + len(second.data)

    assert asyncio.run(main()) == 2


# --- subprocesses: interrupt, fork, exit ------------------------------------------------


def run_script(
    script: str, server: EmulatorServer, *args: str, timeout: float = 30
) -> subprocess.Popen[str]:
    env = {**os.environ, "KARD_BASE_URL": server.base_url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, *args, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


PRELUDE = """
import asyncio, gc, json, os, signal, sys, time
# A background job starts with SIGINT ignored, and Python then keeps ignoring it: restore it.
signal.signal(signal.SIGINT, signal.default_int_handler)
from kard_async import Kard
from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID
def make(**options):
    return Kard(TEST_CLIENT_ID, TEST_CLIENT_SECRET, organization_id=TEST_ORGANIZATION_ID,
                base_url=os.environ["KARD_BASE_URL"], **options)
"""

INTERRUPT = (
    PRELUDE
    + """
kard = make(max_retries=3)
kard.users.rewards.offers("user-1", page_size=1)
print("calling", flush=True)
started = time.monotonic()
try:
    kard.users.rewards.locations("user-1", page_size=5)
except KeyboardInterrupt:
    elapsed = time.monotonic() - started
    async def probe():
        me = asyncio.current_task()
        return [repr(t.get_coro()) for t in asyncio.all_tasks()
                if t is not me and "serve" not in repr(t.get_coro())]
    print(json.dumps({"elapsed": elapsed, "pending": kard._handle.run(probe())}), flush=True)
    kard.close()
    raise
print("not interrupted", flush=True)
"""
)


def test_keyboard_interrupt_cancels_the_request(
    kard_server: EmulatorServer, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=5.0, path="locations"))
    process = run_script(INTERRUPT, kard_server)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "calling"
        deadline = time.monotonic() + 10
        while not location_requests(kard_emulator) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert location_requests(kard_emulator), "the request never reached the emulator"
        time.sleep(0.1)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        process.kill()
        kard_server.quiesce()  # end the delayed handler left behind on the server
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["pending"] == []  # the request task was cancelled, not left running
    assert took < 3.0
    assert report["elapsed"] < 3.0
    assert process.returncode == -signal.SIGINT  # died of the KeyboardInterrupt
    assert "KeyboardInterrupt" in stderr
    assert "Unclosed" not in stderr
    assert "Task was destroyed" not in stderr
    assert len(location_requests(kard_emulator)) == 1  # and it was not retried


FORK = (
    PRELUDE
    + """
import threading
from kard_async._blocking import portal as _portal
kard = make(max_retries=0, timeout=3)
copy = kard.with_options(headers={"X-Copy": "1"})
kard.users.rewards.offers("user-1", page_size=1)  # a pooled keep-alive connection
parent_loop = kard._handle._conn.loop_thread
parent_transport = kard._handle.client()._transport
pid = os.fork()
if pid == 0:
    code = 1
    try:
        page = kard.users.rewards.offers("user-1", page_size=2)
        copied = copy.users.rewards.offers("user-1", page_size=3)
        conn = kard._handle._conn
        assert conn.loop_thread is not parent_loop and conn.loop_thread.thread.is_alive()
        assert kard._handle.client()._transport is not parent_transport
        assert copy._handle.client()._transport is kard._handle.client()._transport
        assert len(page.data) == 2 and len(copied.data) == 3
        print("child ok", os.getpid(), flush=True)
        if sys.argv[1] == "close":
            kard.close()
        del kard, copy, page, copied, conn
        gc.collect()
        code = 0
    finally:
        sys.stdout.flush()
    sys.exit(code)  # a normal exit: atexit hooks and finalizers run in the child
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
# The parent's pooled connection and loop are untouched by the child.
for _ in range(3):
    assert len(kard.users.rewards.offers("user-1", page_size=1).data) == 1
assert kard._handle._conn.loop_thread is parent_loop
print("parent ok", flush=True)
kard.close()
"""
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("child_closes", [True, False], ids=["child-closes", "child-forgets"])
def test_a_forked_child_gets_a_fresh_loop_and_client(
    kard_server: EmulatorServer, kard_emulator: KardEmulator, child_closes: bool
) -> None:
    script = FORK.replace("sys.argv[1]", repr("close" if child_closes else "keep"))
    process = run_script(script, kard_server, "-W", "ignore::DeprecationWarning")
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stdout + stderr
    lines = stdout.splitlines()
    assert lines[0].startswith("child ok")
    assert "child exit 0" in lines
    assert lines[-1] == "parent ok"
    assert stderr == ""
    copies = [r for r in kard_emulator.requests if r.headers.get("X-Copy") == "1"]
    assert len(copies) == 1  # the child's copy kept its options after the rebuild


FORGETFUL = (
    PRELUDE
    + """
kard = make()
copy = kard.with_options(timeout=10)
kard.users.rewards.offers("user-1", page_size=1)
pager = iter(copy.users.rewards.locations("user-1", page_size=5))
next(pager)
other = make()
other.users.rewards.locations("user-1", page_size=1)
print("done", flush=True)
"""
)


@pytest.mark.parametrize("flags", [(), ("-W", "always")], ids=["default", "all-warnings"])
def test_a_program_that_forgets_close_exits_promptly_and_quietly(
    kard_server: EmulatorServer, flags: tuple[str, ...]
) -> None:
    started = time.monotonic()
    process = run_script(FORGETFUL, kard_server, *flags)
    try:
        stdout, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stdout == "done\n"
    assert stderr == ""  # no "Unclosed client session", no "Event loop is closed"
    assert time.monotonic() - started < 10


def test_a_client_built_in_a_thread_outlives_it(kard_server: EmulatorServer) -> None:
    built: list[Kard] = []
    thread = threading.Thread(target=lambda: built.append(make(kard_server)))
    thread.start()
    thread.join()
    with built[0] as kard:
        assert len(kard.users.rewards.offers(USER, page_size=1).data) == 1


def test_the_async_client_lives_on_the_portal_loop(kard: Kard) -> None:
    async def where() -> tuple[int, bool]:
        client: AsyncKard = kard._handle.client()
        pool = await client._transport._open_pool()
        return threading.get_ident(), pool.reads._loop is asyncio.get_running_loop()

    thread_id, same_loop = kard._handle.run(where())
    assert same_loop
    loop_thread = kard._handle._conn.loop_thread
    assert loop_thread is not None
    assert thread_id == loop_thread.thread_id != threading.get_ident()


def test_close_while_other_threads_are_calling(kard_server: EmulatorServer) -> None:
    """close() racing with calls finishing on other threads never fails or leaks the loop."""
    before = {thread.ident for thread in threading.enumerate()}
    for _ in range(15):
        kard = make(kard_server)
        stop = threading.Event()
        failures: list[BaseException] = []

        def caller(
            client: Kard = kard,
            stop: threading.Event = stop,
            failures: list[BaseException] = failures,
        ) -> None:
            while not stop.is_set():
                try:
                    client.users.rewards.offers("race-user", page_size=1)
                except RuntimeError as error:  # closed under us: expected, and must say so
                    if "closed" not in str(error):
                        failures.append(error)
                    return
                except BaseException as error:
                    failures.append(error)
                    return

        threads = [threading.Thread(target=caller) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.01)
        kard.close()
        stop.set()
        for thread in threads:
            thread.join(5)
        assert not failures
        assert not any(t.is_alive() for t in threads)
    assert {thread.ident for thread in threading.enumerate()} == before, "a thread outlived"
