"""README.md stays true: its Python examples run against the emulator, as a reader pastes them.

Each ```python block runs in its own interpreter, with the settings `kard-async serve`
prints in its environment (``KARD_BASE_URL`` pointing at the ``kard_server`` emulator, fresh
for each block). A block whose first line starts with ``# fragment`` is not run; the one
starting with ``# A server`` (the webhook receiver) is started, subscribed, sent the reward
notifications of a purchase by the emulator, and stopped with Ctrl-C. The tables are checked
against the code: every operation in the endpoint table, every SDK operation in the
migration guide.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import msgspec
import pytest

from kard_async import AsyncKard
from kard_async.models import Merchant, SubscriptionRequest, Transaction
from kard_async.testing import EmulatorServer, KardEmulator

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
FRAGMENT = "# fragment"
SERVER = "# A server"
REPOSITORY = "https://github.com/kard-async/kard-async"
TIMEOUT = 120.0  # seconds per block: generous, the machine may be loaded


@dataclass(frozen=True)
class Block:
    line: int  # of the block's first line of code in README.md
    code: str

    @property
    def kind(self) -> str:
        first = self.code.split("\n", 1)[0]
        if first.startswith(FRAGMENT):
            return "fragment"
        return "server" if first.startswith(SERVER) else "script"


def python_blocks() -> list[Block]:
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```$", TEXT, re.MULTILINE | re.DOTALL):
        blocks.append(Block(TEXT.count("\n", 0, match.start(1)) + 1, match.group(1)))
    return blocks


BLOCKS = python_blocks()
SCRIPTS = [block for block in BLOCKS if block.kind == "script"]


def environment(server: EmulatorServer, **extra: str) -> dict[str, str]:
    """This process's environment without its KARD_* settings, plus the emulator's."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KARD_")}
    emulator = server.emulator
    env.update(
        KARD_BASE_URL=server.base_url,
        KARD_CLIENT_ID=emulator.client_id,
        KARD_CLIENT_SECRET=emulator.client_secret,
        KARD_ORGANIZATION_ID=emulator.organization_id,
        KARD_WEBHOOK_KEY=emulator.webhook_key,
        **extra,
    )
    return env


def command(block: Block, directory: Path) -> list[str]:
    script = directory / f"readme_line_{block.line}.py"
    script.write_text(block.code, encoding="utf-8")
    return [sys.executable, "-W", "error", str(script)]


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


@pytest.mark.parametrize("block", SCRIPTS, ids=[f"line{block.line}" for block in SCRIPTS])
def test_example_runs(block: Block, kard_server: EmulatorServer, tmp_path: Path) -> None:
    try:
        done = subprocess.run(
            command(block, tmp_path),
            cwd=tmp_path,
            env=environment(kard_server),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"README.md line {block.line}: still running after {TIMEOUT:.0f} s")
    assert done.returncode == 0, (
        f"{where(block, done.stderr)}: exit status {done.returncode}\n" + tail(done.stderr)
    )


def where(block: Block, stderr: str) -> str:
    """The README line the traceback points at, else the block's first line."""
    lines = re.findall(rf'readme_line_{block.line}\.py", line (\d+)', stderr)
    if lines:
        return f"README.md line {block.line + int(lines[-1]) - 1}"
    return f"README.md line {block.line}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_for_port(process: asyncio.subprocess.Process, port: int, line: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            pytest.fail(f"README.md line {line}: exited with status {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
        else:
            writer.close()
            await writer.wait_closed()
            return
    pytest.fail(f"README.md line {line}: not listening on port {port} after {TIMEOUT:.0f} s")


async def test_webhook_receiver_example(
    kard_server: EmulatorServer,
    kard_emulator: KardEmulator,
    make_kard: Callable[..., AsyncKard],
    tmp_path: Path,
) -> None:
    [block] = [block for block in BLOCKS if block.kind == "server"]
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *command(block, tmp_path),
        cwd=tmp_path,
        env=environment(kard_server, PORT=str(port)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_for_port(process, port, block.line)
        kard = make_kard()
        url = f"http://127.0.0.1:{port}/kard/webhooks"
        await kard.notifications.subscriptions.create(
            [
                SubscriptionRequest(event_name=name, webhook_url=url)
                for name in ("earnedRewardApproved", "earnedRewardSettled")
            ]
        )
        # As the README says: a purchase at a merchant with an offer, approved then settled.
        now = datetime.now(timezone.utc)
        purchase = Transaction(
            id="evt-1",
            transaction_id="txn-1",
            user_id="user-1",
            status="APPROVED",
            amount=3000,
            currency="USD",
            description="HARBOR BURGER",
            direction="DEBIT",
            card_bin="411111",
            card_last_four="1234",
            authorization_date=now,
            merchant=Merchant(name="Harbor Burger"),
        )
        settled = msgspec.structs.replace(purchase, id="evt-2", status="SETTLED", settled_date=now)
        await kard.transactions.create([purchase, settled])
        attempts = await kard_emulator.wait_for_deliveries(timeout=TIMEOUT)
        assert [attempt.status for attempt in attempts] == [200, 200], attempts
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
        except asyncio.TimeoutError:
            process.kill()
            out, err = await process.communicate()
    stdout, stderr = out.decode(), err.decode()
    printed = f"README.md line {block.line}:\n{tail(stdout)}\n{tail(stderr)}"
    assert re.search(r"^user user-1 earned \d+ cents at Harbor Burger$", stdout, re.M), printed
    assert re.search(r"^earnedRewardApproved \S+$", stdout, re.M), printed
    assert process.returncode == 0, f"README.md line {block.line}: {tail(stderr)}"


def test_every_python_block_is_run_or_marked() -> None:
    assert len(BLOCKS) == TEXT.count("```python"), "a ```python fence is indented or unclosed"
    kinds = [block.kind for block in BLOCKS]
    assert kinds.count("server") == 1
    assert kinds.count("script") >= 15
    for block in BLOCKS:
        if block.kind == "fragment":
            # A fragment says why it does not run: "# fragment: needs ..."
            assert re.match(r"# fragment: \S", block.code), f"README.md line {block.line}"


def test_quick_start_test_command_is_what_ci_runs() -> None:
    command = 'python -m pip install -e ".[test]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines()
    quick_start = section("Quick start")
    assert "python3 -m venv .venv && . .venv/bin/activate" in quick_start
    assert command in quick_start.splitlines()
    assert 'python -m pip install -e ".[cli]" && python -m kard_async demo' in quick_start


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", TEXT, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r} in README.md"
    return match.group(1)


def heading_anchors() -> set[str]:
    """GitHub's anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"^```.*?^```", "", TEXT, flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_links_work_on_pypi() -> None:
    """PyPI shows README.md without the repository (and without heading anchors): links are
    absolute, those to a section point at a heading of the README on GitHub."""
    anchors = heading_anchors()
    targets = re.findall(r"\]\(([^)]+)\)", TEXT)
    assert len(targets) > 20
    for target in targets:
        assert target.startswith("https://"), f"relative link {target}"
        if target.startswith(f"{REPOSITORY}#"):
            assert target.split("#", 1)[1] in anchors, f"no heading for the link {target}"
        elif target.startswith(REPOSITORY):
            path = target.removeprefix(f"{REPOSITORY}/blob/main/")
            assert (ROOT / path).is_file(), f"no file for the link {target}"


def operations(node: object, prefix: str = "") -> list[str]:
    """The public methods of the resource tree: ``users.rewards.offers``, ``ping``..."""
    found = []
    for name in sorted(dir(type(node))):
        attribute = getattr(type(node), name)
        if name.startswith("_") or name == "with_raw_response":
            continue
        if isinstance(attribute, cached_property):
            found += operations(getattr(node, name), f"{prefix}{name}.")
        elif callable(attribute) and prefix:  # the client's own methods: only API calls
            found.append(prefix + name)
    return found


def test_endpoint_table_lists_every_operation() -> None:
    kard = AsyncKard(token="unused", organization_id="org-1", base_url="http://127.0.0.1:9")
    table = section("Endpoints")
    listed = [*operations(kard), "ping"]
    assert len(listed) >= 35
    missing = [name for name in listed if f"| `{name}(" not in table]
    assert not missing, f"operations missing from the README's endpoint table: {missing}"


def test_migration_guide_has_every_sdk_operation() -> None:
    counterparts: dict[str, str] = json.loads(
        (ROOT / "tests" / "data" / "sdk_counterparts.json").read_text(encoding="utf-8")
    )
    rows = [line for line in section("Migrating from kard-financial-sdk").splitlines()]
    rows = [row for row in rows if row.startswith("| `client.")]
    assert len(rows) == len(counterparts) == 39
    kard = AsyncKard(token="unused", organization_id="org-1", base_url="http://127.0.0.1:9")
    for sdk, ours in counterparts.items():
        matching = [row for row in rows if row.startswith(f"| `client.{sdk}(")]
        assert len(matching) == 1, f"{sdk}: {len(matching)} rows in the migration guide"
        cell = matching[0].split(" | ")[1]
        assert f"kard.{ours}(" in cell, f"{sdk} -> {ours}: {matching[0]}"
        # A counterpart not built yet says so; one that exists does not.
        built = callable(resolve(kard, ours))
        assert built != cell.endswith("*coming* |"), f"{sdk} -> {ours}: built={built}"


def resolve(node: object, path: str) -> object:
    for name in path.split("."):
        node = getattr(node, name, None)
    return node
