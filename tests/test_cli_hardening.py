"""The command line under attack and at first contact (issues 10 and 15): real subprocesses
against the emulator, or against a small aiohttp.web server made here."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import pty
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from test_cli import ROOT, cli_env, event, recorded_entities, run_cli, summary

from kard_async.cli import main
from kard_async.cli._eventfiles import CsvReader, Malformed, sniff_format
from kard_async.cli._outfiles import check_target
from kard_async.cli._output import printable
from kard_async.cli._settings import UsageError
from kard_async.cli._stream import ThreadedReader
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
)

HEADER = "userId,type,entityId,eventCode,medium,eventDate"
# A child whose Ctrl-C works even when the test runner ignores SIGINT (a background job).
CHILD = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('kard_async', run_name='__main__', alter_sys=True)"
)


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in events))
    return path


def entities(path: Path) -> list[str]:
    return [json.loads(line)["entityId"] for line in path.read_text().splitlines()]


# --------------------------------------------------------------------------- 10.1 --failed-out


def _targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Paths that --failed-out must refuse, and the reason it must give."""
    elsewhere = tmp_path / "precious.jsonl"
    elsewhere.write_text("keep me\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(elsewhere)
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "nowhere.jsonl")
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    directory = tmp_path / "dir.jsonl"
    directory.mkdir()
    read_only = tmp_path / "read-only.jsonl"
    read_only.write_text("old\n")
    read_only.chmod(0o444)
    return {
        "symlink": (link, "is a symbolic link"),
        "dangling symlink": (dangling, "is a symbolic link"),
        "fifo": (fifo, "is a FIFO (named pipe)"),
        "directory": (directory, "is a directory"),
        "read-only": (read_only, "is read-only"),
        "no directory": (tmp_path / "missing" / "out.jsonl", "is not a directory"),
    }


def test_failed_out_is_checked_before_anything_is_sent(
    kard_server: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "events.jsonl", [event("u1", "o1", medium="TELEPATHY")])
    connection = [
        *("--base-url", kard_server.base_url, "--client-id", TEST_CLIENT_ID),
        *("--client-secret", TEST_CLIENT_SECRET, "--organization-id", TEST_ORGANIZATION_ID),
    ]
    targets = _targets(tmp_path)
    targets["the input"] = (source, "is the input file")
    for name, (target, reason) in targets.items():
        before = os.lstat(target) if os.path.lexists(target) else None
        status = main(
            ["attributions", "upload", str(source), "--failed-out", str(target), *connection]
        )
        stderr = capsys.readouterr().err
        assert status == 2, (name, stderr)
        assert f"kard-async: error: cannot write --failed-out {target}" in stderr or (
            f"kard-async: error: --failed-out {target} " in stderr
        ), (name, stderr)
        assert reason in stderr, (name, stderr)
        after = os.lstat(target) if os.path.lexists(target) else None
        assert (before and (before.st_mode, before.st_ino, before.st_size)) == (
            after and (after.st_mode, after.st_ino, after.st_size)
        ), name
    assert kard_server.emulator.requests == []  # refused before any request, token included
    assert (tmp_path / "precious.jsonl").read_text() == "keep me\n"
    # A device, checked directly: a regression must not get to replace /dev/null.
    with pytest.raises(UsageError, match="is a character device; give a regular file"):
        check_target(Path(os.devnull), "--failed-out")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_failed_out_replaces_a_regular_file_atomically_keeping_its_mode(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "events.jsonl",
        [event("u1", "ok"), event("u1", "bad", medium="TELEPATHY")],
    )
    target = tmp_path / "retry.jsonl"
    target.write_text("stale\n")
    target.chmod(0o640)
    result = run_cli(
        "attributions", "upload", str(source), "--failed-out", str(target), server=kard_server
    )
    assert result.returncode == 1, result.stderr
    assert entities(target) == ["bad"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --------------------------------------------------------------------------- 10.2 CSV quotes


def test_an_unclosed_quote_hides_no_rows(kard_server: EmulatorServer, tmp_path: Path) -> None:
    rows = [
        f"u{i % 50},offerAttribution,csv-{i},VIEW,SEARCH,2025-01-01T00:00:00Z" for i in range(5000)
    ]
    bad_line = 2 + 1234  # line 1 is the header
    rows.insert(bad_line - 2, 'u7,offerAttribution,"broken,VIEW,SEARCH,2025-01-01T00:00:00Z')
    source = tmp_path / "events.csv"
    source.write_text(HEADER + "\n" + "\n".join(rows) + "\n")

    result = run_cli("attributions", "upload", str(source), server=kard_server)

    assert result.returncode == 1, result.stderr
    counts = summary(result.stdout)
    accepted, invalid = int(counts["accepted"]), int(counts["invalid"])
    failed = int(counts["failed"].split()[0])
    assert accepted + invalid + failed == len(rows) == 5001
    assert (accepted, invalid, failed) == (5000, 1, 0)
    assert f"line {bad_line}: not valid CSV: unclosed quote" in result.stderr
    assert len(recorded_entities(kard_server)) == 5000
    failed_out = (tmp_path / "events.failed.csv").read_text().splitlines()
    assert failed_out == [HEADER, rows[bad_line - 2]]  # the line as it was, to fix


# --------------------------------------------------------------------------- 10.5 Ctrl-C


def test_ctrl_c_saves_unsent_and_unknown_apart_then_exits_130(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    # One user after another: batches fill as the file is read, so at the interrupt some
    # requests are in flight, some batches wait, some lines are read but not taken, and
    # the end of the file is not read yet.
    users, per_user = 60, 100
    given = [event(f"u{u}", f"int-{u}-{n}") for u in range(users) for n in range(per_user)]
    lines = [json.dumps(item) for item in given]
    lines.insert(7, "not json")  # invalid: saved as it is
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    emulator = kard_server.emulator
    emulator.inject(Fault(kind="latency", delay=0.3, path="attributions$", times=None))
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, "attributions", "upload", str(source), "--concurrency", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=cli_env(kard_server),
    )
    try:
        deadline = time.monotonic() + 30
        while emulator.attribution_event_count < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted: events sent so far may have been recorded" in stderr
    assert "line 8: not valid JSON" in stderr

    time.sleep(0.6)  # requests cut off mid-latency may still be recorded by the server
    recorded = recorded_entities(kard_server)
    failed_out = (tmp_path / "events.failed.jsonl").read_text().splitlines()
    assert failed_out[0] == "not json"
    unsent = [json.loads(line)["entityId"] for line in failed_out[1:]]
    unknown = entities(tmp_path / "events.unknown.jsonl")
    every = {item["entityId"] for item in given}
    assert unsent
    assert unknown
    assert not set(unsent) & set(recorded)  # safe to send again: nothing in it was recorded
    assert not set(unsent) & set(unknown)
    assert set(recorded) | set(unsent) | set(unknown) == every  # nothing lost
    accepted = set(recorded) - set(unknown)
    assert len(unsent) + len(unknown) + len(accepted) == len(every)  # each in one place
    counts = summary(stdout)
    assert int(counts["accepted"]) == len(accepted)
    not_sent = re.search(r"^not sent: ([\d,]+)", stdout, re.MULTILINE)
    assert not_sent is not None
    assert int(not_sent.group(1).replace(",", "")) > 0  # read, or unread, never handed over
    assert str(tmp_path / "events.unknown.jsonl") in stdout

    # Sending the failed-out file completes the upload without recording anything twice.
    emulator.clear_faults()
    again = run_cli(
        "attributions", "upload", str(tmp_path / "events.failed.jsonl"), server=kard_server
    )
    assert again.returncode == 1, again.stderr  # the broken line stays invalid
    recorded = recorded_entities(kard_server)
    assert max(recorded.values()) == 1
    assert set(recorded) | set(unknown) == every
    assert (tmp_path / "events.failed.jsonl").read_text() == "not json\n"


def test_threaded_reader_stop_hands_back_what_was_not_delivered() -> None:
    async def take(reader: ThreadedReader[int], count: int) -> list[int]:
        taken: list[int] = []
        async for item in reader:
            assert isinstance(item, int)
            taken.append(item)
            if len(taken) == count:
                break
        return taken

    source = iter(range(10_000))
    reader = ThreadedReader(source, chunk=100, depth=2)
    taken = asyncio.run(take(reader, 150))
    left, rest = reader.stop(timeout=5)
    assert rest is not None
    assert taken + left + list(rest) == list(range(10_000))
    assert not reader.finished


# --------------------------------------------------------------------------- 10.13 --timeout


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e309"])
def test_timeout_must_be_finite_and_positive(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["offers", "u1", f"--timeout={value}"])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert f"argument --timeout: must be a finite number > 0, got '{value}'" in stderr
    assert "Traceback" not in stderr


# --------------------------------------------------------------------------- 10.15 escapes

EVIL = "\x1b]0;pwned\x07\x1b[31mEvil\x1b[0m \x9b2J\rCorp\x07"


def test_printable_strips_escape_sequences_and_controls() -> None:
    assert printable(EVIL) == "Evil Corp"
    assert printable("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"
    assert printable("tab\tnew\nline é 日本") == "tab\tnew\nline é 日本"
    assert printable("\x00\x08\x0b\x7f\x85\x9c") == ""


@pytest.fixture
def evil_server(kard_server: EmulatorServer) -> Iterator[str]:
    """A Kard look-alike whose strings carry terminal escapes: real offer pages from the
    emulator with names rewritten, and a 400 whose error detail hides an OSC sequence."""
    token = json.dumps({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}).encode()
    request = urllib.request.Request(
        kard_server.base_url + "/v2/auth/token",
        data=json.dumps(
            {"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        real_token = json.loads(response.read())["access_token"]
    offers = urllib.request.Request(
        f"{kard_server.base_url}/v2/issuers/{TEST_ORGANIZATION_ID}/users/u1/offers?page[size]=2",
        headers={"Authorization": f"Bearer {real_token}"},
    )
    with urllib.request.urlopen(offers, timeout=10) as response:
        page = json.loads(response.read())
    for offer in page["data"]:
        offer["attributes"]["name"] = EVIL
    page["links"] = {}
    error = {"errors": [{"status": "400", "title": "Bad", "detail": f"no {EVIL} here"}]}
    bad_event = {
        "errors": [
            {"status": "400", "detail": f"rejected {EVIL}", "source": {"pointer": "/data/0"}}
        ]
    }

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if path.endswith("/auth/token"):
            return web.Response(body=token, content_type="application/json")
        if path.endswith("/attributions"):
            return web.json_response(bad_event, status=400)
        if "/users/bad/" in path:
            return web.json_response(error, status=400)
        return web.json_response(page)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    ready = threading.Event()
    stop: list[Any] = []
    port: list[int] = []

    def serve() -> None:
        async def main() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port.append(runner.addresses[0][1])
            done = asyncio.Event()
            stop.append((asyncio.get_running_loop(), done))
            ready.set()
            await done.wait()
            await runner.cleanup()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{port[0]}"
    loop, done = stop[0]
    loop.call_soon_threadsafe(done.set)
    thread.join(10)


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_server_text_cannot_drive_the_terminal(
    evil_server: str, tmp_path: Path, plain: bool
) -> None:
    env = cli_env(
        None,
        plain=plain,
        KARD_BASE_URL=evil_server,
        KARD_CLIENT_ID="id",
        KARD_CLIENT_SECRET="secret",
        KARD_ORGANIZATION_ID="org",
    )
    table = run_cli("offers", "u1", env=env)
    assert table.returncode == 0, table.stderr
    error = run_cli("offers", "bad", env=env)
    assert error.returncode == 1
    assert "kard-async: error:" in error.stderr
    source = write_jsonl(tmp_path / "events.jsonl", [event("u1", "o1")])
    upload = run_cli("attributions", "upload", str(source), env=env)
    assert upload.returncode == 1
    for result in (table, error, upload):
        output = result.stdout + result.stderr
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", output), output
    assert table.stdout.count("Evil Corp") == 2
    assert "no Evil Corp here" in error.stderr
    assert "line 1: server: rejected Evil Corp" in upload.stderr


# --------------------------------------------------------------------------- 15.7 stdin


def test_csv_on_stdin_is_told_from_its_first_line(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    text = (
        HEADER
        + "\n"
        + "".join(
            f"s{i % 4},offerAttribution,stdin-csv-{i},VIEW,SEARCH,2025-01-01T00:00:00Z\n"
            for i in range(121)
        )
    )
    text += "s1,offerAttribution,short\n"
    result = run_cli("attributions", "upload", "-", server=kard_server, stdin=text, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert summary(result.stdout)["accepted"] == "121"
    assert "line 123: expected 6 columns, got 3" in result.stderr
    assert "not valid JSON" not in result.stderr
    assert (tmp_path / "failed.csv").read_text().splitlines() == [
        HEADER,
        "s1,offerAttribution,short",
    ]
    assert not (tmp_path / "failed.jsonl").exists()

    result = run_cli(
        "attributions", "upload", "-", server=kard_server, stdin="hello\n", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "cannot tell the format of standard input" in result.stderr
    assert "--format jsonl or csv" in result.stderr


def test_sniff_format_keeps_every_line() -> None:
    lines = [b"\xef\xbb\xbf\n", b"  \n", b'{"userId": "u"}\n', b"more\n"]
    fmt, again = sniff_format(iter(lines))
    assert (fmt, list(again)) == ("jsonl", lines)
    fmt, again = sniff_format(iter([b"userId,type\n", b"x\n"]))
    assert fmt == "csv"  # a header naming userId; its columns are checked by CsvReader
    with pytest.raises(UsageError, match="neither a JSON object nor a CSV header"):
        sniff_format(iter([b"userId;type\n"]))
    fmt, again = sniff_format(iter([]))
    assert (fmt, list(again)) == ("jsonl", [])
    assert isinstance(next(iter(CsvReader(iter([HEADER.encode(), b"a,b"])))), Malformed)


# --------------------------------------------------------------------------- 15.8 serve


def _read_until(stream: Any, last: str, timeout: float = 30) -> list[str]:
    """Lines of ``stream`` up to the one starting with ``last`` (a reader thread: a child
    that hangs must fail the test, not block it)."""
    found: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            found.put(line.rstrip("\n"))
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while not lines or not lines[-1].startswith(last):
        line = found.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, lines
        lines.append(line)
    return lines


def test_serve_prints_one_block_of_exports_that_works() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kard_async", "serve", "--port", "0", "--token-ttl", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        lines = _read_until(process.stdout, "Press Ctrl-C to stop.")
        exports = [line for line in lines if line.startswith("export ")]
        start = lines.index(exports[0])
        assert lines[start : start + 4] == exports  # one block, four lines
        settings = dict(line.removeprefix("export ").split("=", 1) for line in exports)
        assert list(settings) == [
            "KARD_BASE_URL",
            "KARD_CLIENT_ID",
            "KARD_CLIENT_SECRET",
            "KARD_ORGANIZATION_ID",
        ]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", settings["KARD_BASE_URL"])
        assert settings["KARD_CLIENT_ID"] == TEST_CLIENT_ID
        assert settings["KARD_CLIENT_SECRET"] == TEST_CLIENT_SECRET
        assert settings["KARD_ORGANIZATION_ID"] == TEST_ORGANIZATION_ID
        # No stray bare settings line: every KARD_ line is an export.
        assert [line for line in lines if "KARD_" in line and not line.startswith("export ")] == []
        # Pasted into a shell, they point the other commands at the emulator.
        script = "\n".join([*exports, f"exec {sys.executable} -m kard_async offers u1 --limit 2"])
        shell = subprocess.run(
            ["sh", "-c", script],
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert shell.returncode == 0, shell.stderr
        assert len(shell.stdout.splitlines()) == 3  # header + 2 offers
    finally:
        process.terminate()  # SIGTERM ends it like Ctrl-C
        process.wait(timeout=20)
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0


def test_serve_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_cli("serve", "--port", port, env=cli_env())
    assert result.returncode == 2
    assert f"kard-async: error: cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- 15.9 messages


def test_messages_fit_what_happened(kard_server: EmulatorServer, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "events.jsonl", [event("u1", f"m-{i}") for i in range(10)])
    kard_server.emulator.inject(Fault(kind="status", status=503, path="attributions$", times=1))
    result = run_cli(
        "attributions", "upload", str(source), "--max-retries", "0", server=kard_server
    )
    assert result.returncode == 1, result.stderr
    assert "10 event(s) not accepted were written to" in result.stdout
    assert "fix the invalid ones" not in result.stdout  # nothing was invalid
    assert "unknown outcome" not in result.stdout


def test_exclude_unknown_keeps_outcome_unknown_events_apart(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    given = [event(f"u{i % 3}", f"x-{i}") for i in range(30)]  # one request per user
    source = write_jsonl(tmp_path / "events.jsonl", given)
    emulator = kard_server.emulator
    emulator.inject(Fault(kind="drop_after", path="attributions$", times=1))  # unknown
    emulator.inject(Fault(kind="status", status=503, path="attributions$", times=1))  # unsent
    result = run_cli(
        "attributions", "upload", str(source), "--max-retries", "0", "--exclude-unknown",
        server=kard_server,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    unsent = entities(tmp_path / "events.failed.jsonl")
    unknown = entities(tmp_path / "events.unknown.jsonl")
    assert (len(unsent), len(unknown)) == (10, 10)
    assert not set(unsent) & set(recorded_entities(kard_server))
    assert set(unknown) <= set(recorded_entities(kard_server))  # dropped after processing
    assert "10 event(s) failed with an unknown outcome" in result.stdout
    assert "added to " + str(tmp_path / "events.unknown.jsonl") in result.stdout

    # The unknown file collects: a second run adds to it, never replaces what is there.
    emulator.inject(Fault(kind="drop_after", path="attributions$", times=1))
    again = run_cli(
        "attributions", "upload", str(tmp_path / "events.failed.jsonl"), "--max-retries", "0",
        "--exclude-unknown", server=kard_server,
    )  # fmt: skip
    assert again.returncode == 1, again.stderr
    assert sorted(entities(tmp_path / "events.unknown.jsonl")) == sorted(unknown + unsent)
    # The file sent holds no stale events now: they all have their outcome elsewhere.
    assert (tmp_path / "events.failed.jsonl").read_text() == ""
    assert "events.failed.jsonl was emptied" in again.stdout


def test_csv_unknown_file_gets_one_header(kard_server: EmulatorServer, tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text(HEADER + "\n" + "u1,offerAttribution,c-1,VIEW,SEARCH,2025-01-01T00:00:00Z\n")
    for _ in range(2):
        kard_server.emulator.inject(Fault(kind="drop_after", path="attributions$", times=1))
        result = run_cli(
            "attributions", "upload", str(source), "--max-retries", "0", "--exclude-unknown",
            server=kard_server,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
    with (tmp_path / "events.unknown.csv").open(newline="") as stream:
        assert (
            list(csv.reader(stream))
            == [HEADER.split(",")]
            + [["u1", "offerAttribution", "c-1", "VIEW", "SEARCH", "2025-01-01T00:00:00Z"]] * 2
        )
    assert not (tmp_path / "events.failed.csv").exists()


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_an_empty_file_shows_no_progress(
    kard_server: EmulatorServer, tmp_path: Path, plain: bool
) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_text("")
    result = run_cli("attributions", "upload", str(source), env=cli_env(kard_server, plain=plain))
    assert result.returncode == 0, result.stderr
    assert "no events in" in result.stderr
    assert "uploading" not in result.stderr
    assert "0%" not in result.stderr + result.stdout


def test_plain_progress_prints_the_final_line_once(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    # Two requests one after the other, 1.2 s each: a line when the first is done, then the
    # final line when the second is (more than a second later), and not once more at the end.
    source = write_jsonl(
        tmp_path / "events.jsonl", [event(f"p{i % 2}", f"p-{i}") for i in range(200)]
    )
    kard_server.emulator.inject(Fault(kind="latency", delay=1.2, path="attributions$", times=None))
    result = run_cli(
        "attributions", "upload", str(source), "--concurrency", "1", "--plain", server=kard_server
    )
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("uploading: ")]
    assert [line.partition("  ")[0] for line in progress] == [
        "uploading: 100/200 (50%)",
        "uploading: 200/200 (100%)",
    ]


def _on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run the command with stderr on a pseudo-terminal: exit status, what the terminal
    got, and stdout."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "kard_async", *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env,
            cwd=ROOT,
        )
        os.close(follower)
        follower = -1
        terminal = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            terminal += chunk
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    return process.returncode, terminal, stdout


def test_rich_bar_on_a_terminal_and_none_for_an_empty_file(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    env = cli_env(kard_server, plain=False)
    source = write_jsonl(tmp_path / "events.jsonl", [event("t1", f"tty-{i}") for i in range(50)])
    status, terminal, stdout = _on_a_terminal("attributions", "upload", str(source), env=env)
    assert status == 0, terminal
    assert "━".encode() in terminal  # the rich bar
    assert b"50/50" in terminal
    assert b"accepted" in stdout

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    status, terminal, _ = _on_a_terminal("attributions", "upload", str(empty), env=env)
    assert status == 0, terminal
    assert b"no events in" in terminal
    assert "━".encode() not in terminal
    assert b"0%" not in terminal
