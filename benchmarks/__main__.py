"""``python -m benchmarks``: every measure, every variant, side by side, in one run.

The orchestrator starts the bundled emulator in its own process (pinned to the first CPU),
fetches the benchmark page once, then for each measure and repetition runs every variant
in a fresh worker process (pinned to the second CPU): ``python -m benchmarks.<variant>
--json ...``, which prints one JSON result line. Repetitions interleave the variants
(A B C A B C ...), so slow drifts of the machine hit every variant alike; the table shows
medians over repetitions and the ratios between variants, next to the targets.

``--quick`` is a smoke run (under a minute); the full run takes about five minutes on two
cores and writes ``benchmarks/RESULTS.md`` (``--write``/``--no-write`` override that).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._common import RESULT_PREFIX, median
from ._report import (
    Outcome,
    machine_description,
    outcomes_from_json,
    render_markdown,
    render_text,
    run_to_json,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass(frozen=True)
class Profile:
    """Sizes of one kind of run."""

    name: str
    reps: int
    decode_reps: int
    get_reps: int
    decode_duration: float
    get_duration: float
    get_min_requests: int
    official_get_duration: float
    official_max_time: float
    bulk_events: int
    bulk_users: int
    bulk_duration: float
    memory_events: int
    memory_users: int
    tx_events: int = 100_000
    tx_users: int = 1_000
    tx_memory_events: int = 1_000_000
    # client-bound bulk: short cells, noisy on a shared machine; judged by paired reps
    light_reps: int = 1
    # files (benchmarks/files.py)
    upload_mb: int = 1000
    gzip_events: int = 1_000_000
    shard_events: int = 200_000
    shard_users: int = 1_000


FULL = Profile(
    name="full",
    reps=3,
    decode_reps=5,
    get_reps=5,
    decode_duration=1.0,
    get_duration=1.5,
    get_min_requests=20,
    official_get_duration=3.0,
    official_max_time=10.0,
    bulk_events=20_000,
    bulk_users=200,
    bulk_duration=1.0,
    memory_events=1_000_000,
    memory_users=10_000,
    light_reps=9,
)
QUICK = Profile(
    name="quick",
    reps=1,
    decode_reps=1,
    get_reps=1,
    decode_duration=0.2,
    get_duration=0.5,
    get_min_requests=3,
    official_get_duration=0.5,
    official_max_time=2.0,
    bulk_events=2_000,
    bulk_users=20,
    bulk_duration=0.2,
    memory_events=100_000,
    memory_users=1_000,
    tx_events=10_000,
    tx_users=100,
    tx_memory_events=100_000,
    upload_mb=64,
    gzip_events=100_000,
    shard_events=20_000,
    shard_users=200,
)
TINY = Profile(
    name="tiny",
    reps=1,
    decode_reps=1,
    get_reps=1,
    decode_duration=0.02,
    get_duration=0.05,
    get_min_requests=1,
    official_get_duration=0.05,
    official_max_time=0.5,
    bulk_events=200,
    bulk_users=4,
    bulk_duration=0.0,
    memory_events=2_000,
    memory_users=20,
    tx_events=1_000,
    tx_users=10,
    tx_memory_events=2_000,
    upload_mb=2,
    gzip_events=2_000,
    shard_events=800,
    shard_users=20,
)

MEASURES = (
    "decode",
    "get",
    "bulk",
    "bulk-light",
    "memory",
    "webhook",
    "tx-decode",
    "tx-bulk",
    "tx-memory",
    "files",
)


@dataclass(frozen=True)
class Cell:
    """One (measure, variant) pair: what to run for each repetition."""

    measure: str  # decode, get-c1, get-c32, bulk-many, bulk-one, memory, tx-..., webhook
    variant: str
    module: str
    args: tuple[str, ...]
    reps: int
    timeout: float
    server_args: tuple[str, ...] = ()  # extra emulator options for the cell's group
    also: tuple[str, ...] = ()  # the other variants its process measures (``paired``)


@dataclass
class Run:
    """Everything the report needs."""

    profile: Profile
    command: str
    machine: dict[str, Any]
    page: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    pinning: str = ""
    elapsed: float = 0.0


def plan(
    profile: Profile, measures: Sequence[str], variants: Sequence[str] | None
) -> list[list[Cell]]:
    """Groups of cells; the cells of a group are interleaved repetition by repetition."""
    p = profile
    groups: list[list[Cell]] = []

    def add(cells: list[Cell]) -> None:
        kept = [c for c in cells if variants is None or {c.variant, *c.also} & set(variants)]
        if kept:
            groups.append(kept)

    def decode_cells(measure: str, module: str, *args: str) -> list[Cell]:
        """ours and the plain Structs share a process, in turns (benchmarks/paired.py), its
        result filed under both; the others run on their own."""
        timing = ("--duration", str(p.decode_duration), "--min-requests", "3")
        paired = ("--measure", measure, *timing)
        return [
            Cell(
                measure, "ours", "benchmarks.paired", paired, p.decode_reps, 120, also=("structs",)
            ),
            *(
                Cell(measure, v, module, (*args, "--variant", v, *timing), p.decode_reps, 120)
                for v in ("official", "json")
            ),
        ]

    if "decode" in measures:
        add(decode_cells("decode", "benchmarks.decode"))
    if "get" in measures:
        for c in (1, 32):
            m = f"get-c{c}"
            fast = (
                *("--measure", "get", "--concurrency", str(c)),
                *("--duration", str(p.get_duration), "--min-requests", str(p.get_min_requests)),
                *("--max-time", str(max(10.0, p.get_duration * 3))),
            )
            slow = (
                *("--measure", "get", "--concurrency", str(c)),
                *("--duration", str(p.official_get_duration)),
                *("--min-requests", str(p.get_min_requests)),
                *("--max-time", str(p.official_max_time)),
            )
            # ours and the minimal client share a process, in turns (benchmarks/paired.py).
            add(
                [
                    Cell(m, "ours", "benchmarks.paired", fast, p.get_reps, 120, also=("minimal",)),
                    Cell(m, "ours-sync", "benchmarks.ours_sync", fast, p.get_reps, 120),
                    Cell(m, "raw", "benchmarks.raw", fast, p.get_reps, 120),
                    Cell(
                        m,
                        "official-async",
                        "benchmarks.official",
                        (*slow, "--mode", "async"),
                        p.reps,
                        180,
                    ),
                    Cell(
                        m,
                        "official-sync",
                        "benchmarks.official",
                        (*slow, "--mode", "sync"),
                        p.reps,
                        180,
                    ),
                ]
            )
    if "bulk" in measures:
        for m, users in (("bulk-many", p.bulk_users), ("bulk-one", 1)):
            sizes = (
                *("--measure", "bulk", "--events", str(p.bulk_events), "--users", str(users)),
                *("--duration", str(p.bulk_duration)),
            )
            capped = (*sizes, "--max-time", str(p.official_max_time * 1.5))
            add(
                [
                    Cell(m, "ours", "benchmarks.ours", sizes, p.reps, 180),
                    Cell(m, "minimal", "benchmarks.minimal", sizes, p.reps, 180),
                    Cell(m, "raw", "benchmarks.raw", sizes, p.reps, 180),
                    Cell(m, "official-async", "benchmarks.official", capped, p.reps, 180),
                ]
            )
    if "bulk-light" in measures:
        # Client-bound: a server that answers at once (benchmarks/light_server.py), 32 requests
        # in flight; compare events per client CPU-second, not only events/s. Both uploaders
        # run in one process, round by round (benchmarks/bulk_light.py): its result is filed
        # under "ours" and "minimal".
        sizes = (
            *("--measure", "bulk", "--events", str(p.bulk_events), "--users", str(p.bulk_users)),
            *("--duration", str(p.bulk_duration), "--concurrency", "32"),
        )
        add(
            [
                Cell(
                    "bulk-light",
                    "ours",
                    "benchmarks.bulk_light",
                    sizes,
                    p.light_reps,
                    240,
                    also=("minimal",),
                )
            ]
        )
    if "memory" in measures:
        sizes = (
            *("--measure", "memory", "--events", str(p.memory_events)),
            *("--users", str(p.memory_users)),
        )
        add([Cell("memory", "ours", "benchmarks.ours", sizes, 1, 900)])
    if "webhook" in measures:
        timing = ("--duration", str(p.decode_duration), "--min-requests", "100")
        add(
            [
                Cell(
                    "webhook",
                    v,
                    "benchmarks.webhook",
                    ("--variant", v, *timing),
                    p.decode_reps,
                    120,
                )
                for v in ("ours", "official", "pydantic")
            ]
        )
    tx = "benchmarks.transactions"
    if "tx-decode" in measures:
        add(decode_cells("tx-decode", tx, "--measure", "decode"))
    if "tx-bulk" in measures:
        sizes = ("--measure", "bulk", "--events", str(p.tx_events), "--users", str(p.tx_users))
        capped = ("--max-time", str(p.official_max_time))
        # One upload per process, on a shared machine: more repetitions than the other bulk
        # measures (the official SDK's rate is steady: fewer, capped in time).
        reps = p.get_reps
        add(
            [
                Cell("tx-bulk", "ours", tx, (*sizes, "--variant", "ours"), reps, 300),
                Cell("tx-bulk", "minimal", tx, (*sizes, "--variant", "minimal"), reps, 300),
                Cell("tx-bulk", "raw", tx, (*sizes, "--variant", "raw"), reps, 300),
                Cell(
                    "tx-bulk",
                    "official-async",
                    tx,
                    (*sizes, "--variant", "official", *capped),
                    p.reps,
                    300,
                ),
            ]
        )
    if "tx-memory" in measures:
        sizes = ("--measure", "memory", "--events", str(p.tx_memory_events))
        add([Cell("tx-memory", "ours", tx, (*sizes, "--users", str(p.tx_users)), 1, 900)])
    if "files" in measures:
        skip = ("--skip-file-checks",)  # the emulator only counts bytes: the client is measured
        upload = ("--measure", "upload", "--megabytes", str(p.upload_mb))
        # ours and raw aiohttp share a process, in turns (files.py --variant paired).
        add(
            [
                Cell(
                    "upload",
                    "ours",
                    "benchmarks.files",
                    (*upload, "--variant", "paired"),
                    p.reps,
                    900,
                    skip,
                    also=("raw",),
                )
            ]
        )
        gzip = ("--measure", "gzip", "--events", str(p.gzip_events))
        add([Cell("gzip", "ours", "benchmarks.files", gzip, 1, 900, skip)])
        shards = (
            *("--measure", "sharded", "--events", str(p.shard_events)),
            *("--users", str(p.shard_users)),
        )
        add(
            [
                Cell("sharded", v, "benchmarks.files", (*shards, "--variant", v), p.reps, 600)
                for v in ("one", "four")
            ]
        )
    return groups


# --- processes ---


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def cpu_plan(no_pin: bool) -> tuple[int | None, int | None, str]:
    """(server CPU, client CPU, description)."""
    if no_pin:
        return None, None, "not pinned (--no-pin)"
    if not hasattr(os, "sched_setaffinity"):
        return None, None, "not pinned (os.sched_setaffinity is not available here)"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, f"not pinned (only CPU {cpus} available)"
    return cpus[0], cpus[1], f"emulator on CPU {cpus[0]}, each client process on CPU {cpus[1]}"


@contextlib.contextmanager
def emulator(
    python: str, cpu: int | None, extra: Sequence[str] = (), *, light: bool = False
) -> Iterator[str]:
    """The emulator in its own process (pinned to ``cpu``), with ``extra`` options; yields its
    base URL. ``light``: benchmarks/light_server.py instead, which answers every write at once."""
    # --cache-reads: the GET page is encoded once, so every variant meets the same server.
    command = [python, "-m", "kard_async.testing", "--port", "0", "--cache-reads"]
    command += ["--max-recorded-requests", "100", *extra]
    if light:
        command = [python, "-m", "benchmarks.light_server", "--port", "0"]
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            if cpu is not None:
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(proc.pid, {cpu})
            yield _base_url(proc, log)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _base_url(proc: subprocess.Popen[str], log: Any) -> str:
    """Read the emulator's output until it prints ``KARD_BASE_URL=...`` (60 s at most)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 60
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            log.seek(0)
            raise RuntimeError(f"the emulator did not start: {log.read()[-2000:]}")
        if line.startswith("KARD_BASE_URL="):
            return line.strip().split("=", 1)[1]


def fetch_page(base_url: str, path: Path) -> dict[str, Any]:
    """Fetch the benchmark page once (stdlib only), save it for the decode measure."""
    from urllib.parse import urlencode

    from kard_async.testing import (
        BENCHMARK_QUERY,
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        TEST_ORGANIZATION_ID,
    )

    from ._common import GET_USER_ID

    token_request = urllib.request.Request(
        f"{base_url}/v2/auth/token",
        data=json.dumps(
            {"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(token_request, timeout=30) as response:
        token = json.loads(response.read())["access_token"]
    query = urlencode(BENCHMARK_QUERY, safe="[],")
    request = urllib.request.Request(
        f"{base_url}/v2/issuers/{TEST_ORGANIZATION_ID}/users/{GET_USER_ID}/locations?{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    path.write_bytes(body)
    page = json.loads(body)
    included = page.get("included", [])
    return {
        "bytes": len(body),
        "locations": len(page["data"]),
        "offers": sum(1 for item in included if item.get("type") == "standardOffer"),
        "categories": sum(1 for item in included if item.get("type") == "category"),
        "query": query,
    }


def run_cell(
    cell: Cell, *, python: str, base_url: str, body: Path, cpu: int | None
) -> dict[str, Any]:
    """One repetition of one cell in a fresh process: its JSON result, or an error record."""
    command = [python, "-m", cell.module, "--json", "--base-url", base_url, *cell.args]
    if cell.measure == "decode":
        command += ["--body", str(body)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=cell.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {cell.timeout:.0f}s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return {"error": f"exit {done.returncode}: " + " | ".join(tail)}


def _by_variant(cell: Cell, result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The result filed per variant: one process may have measured several (``paired``)."""
    if "paired" not in result:
        return [(cell.variant, result)]
    shared = {k: v for k, v in result.items() if k not in ("paired", "cpu_ratio", "ratio")}
    return [(v, {**shared, "variant": v, **rates}) for v, rates in result["paired"].items()]


def _summary(measure: str, result: dict[str, Any]) -> str:
    if "skipped" in result:
        return "skipped: " + str(result["skipped"])
    if "error" in result:
        return "ERROR: " + str(result["error"])
    if "paired" in result:
        return " | ".join(f"{name} {_summary(measure, r)}" for name, r in result["paired"].items())
    if measure in ("decode", "tx-decode"):
        return f"{result['median_ms']:.3f} ms/page"
    if measure.startswith("get"):
        return f"{result['rps']:,.1f} req/s, p99 {result['p99_ms']:.1f} ms"
    if measure in ("memory", "tx-memory"):
        return f"{result['events_per_s']:,.0f} events/s, RSS +{result['rss_growth_mib']:.1f} MiB"
    if measure == "upload":
        return f"{result['mb_per_s']:,.0f} MB/s, RSS +{result['rss_growth_mib']:.1f} MiB"
    if measure == "gzip":
        return f"{result['events_per_s']:,.0f} events/s, stall {result['max_stall_ms']:.1f} ms"
    if measure == "bulk-light":
        return f"{result['events_per_cpu_s']:,.0f} events per CPU-s"
    return f"{result['events_per_s']:,.0f} events/s"


def execute(
    groups: list[list[Cell]],
    *,
    run: Run,
    python: str,
    server_cpu: int | None,
    client_cpu: int | None,
    workdir: Path,
    log: Any,
) -> None:
    """Each group gets a fresh emulator process (the emulator keeps every event it accepts,
    so bulk groups would otherwise grow it); its cells run interleaved, rep by rep."""
    body = workdir / "page.json"
    for group in groups:
        light = group[0].measure == "bulk-light"
        with emulator(python, server_cpu, group[0].server_args, light=light) as base_url:
            if not run.page and not light:
                run.page = fetch_page(base_url, body)
            reps = max(cell.reps for cell in group)
            for rep in range(reps):
                for cell in group:
                    key = (cell.measure, cell.variant)
                    outcome = run.outcomes.setdefault(key, Outcome(cell.measure, cell.variant))
                    if rep >= cell.reps or outcome.skipped or outcome.errors:
                        continue
                    result = run_cell(
                        cell, python=python, base_url=base_url, body=body, cpu=client_cpu
                    )
                    for variant, filed in _by_variant(cell, result):
                        key = (cell.measure, variant)
                        run.outcomes.setdefault(key, Outcome(cell.measure, variant)).add(filed)
                    print(
                        f"  [{cell.measure} {rep + 1}/{cell.reps}] {cell.variant:<15} "
                        f"{_summary(cell.measure, result)}",
                        file=log,
                        flush=True,
                    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark kard-async against the official SDK and hand-written clients.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run, under a minute")
    parser.add_argument(
        "--tiny", action="store_true", help="with --quick: tiny sizes (a few seconds, for tests)"
    )
    parser.add_argument("--reps", type=int, default=None, help="override the repetitions")
    parser.add_argument(
        "--only",
        default=",".join(MEASURES),
        help="comma-separated measures to run (default: %(default)s)",
    )
    parser.add_argument(
        "--variants", default=None, help="comma-separated variants to run (default: all)"
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write RESULTS.md even if partial")
    write.add_argument("--no-write", action="store_true", help="never write RESULTS.md")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument(
        "--json-out", type=Path, default=None, help="also save the whole run as JSON"
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="JSON",
        help="re-render a run saved with --json-out (prints it; with --write, RESULTS.md too)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--python", default=sys.executable, help="interpreter for workers")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(MEASURES)
    if unknown:
        parser.error(f"--only: unknown measures {sorted(unknown)}; choose from {MEASURES}")
    if args.tiny and not args.quick:
        parser.error("--tiny goes with --quick")
    return args


def load_run(path: Path) -> Run:
    saved = json.loads(path.read_text())
    profile = {p.name: p for p in (FULL, QUICK, TINY)}.get(saved["profile"], FULL)
    reps, decode_reps, get_reps = saved["reps"]
    return Run(
        profile=replace(profile, reps=reps, decode_reps=decode_reps, get_reps=get_reps),
        command=saved["command"],
        machine=saved["machine"],
        page=saved["page"],
        outcomes=outcomes_from_json(saved["outcomes"]),
        pinning=saved["pinning"],
        elapsed=saved["elapsed"],
    )


def _measuring(argv: Sequence[str]) -> list[str]:
    """The options that decide what is measured: where results are written does not."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--json-out", "--results"):
            skip = True
        elif not arg.startswith(("--json-out=", "--results=")):
            kept.append(arg)
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    if args.render is not None:
        saved = load_run(args.render)
        print(render_text(saved))
        if args.write:
            args.results.write_text(render_markdown(saved))
            print(f"wrote {args.results}", file=sys.stderr)
        return 0
    profile = TINY if args.tiny else QUICK if args.quick else FULL
    if args.reps is not None:
        profile = replace(
            profile,
            reps=args.reps,
            decode_reps=args.reps,
            get_reps=args.reps,
            light_reps=args.reps,
        )
    measures = tuple(m for m in MEASURES if m in args.only.split(","))
    variants = args.variants.split(",") if args.variants else None
    full = profile is FULL and measures == MEASURES and variants is None
    write = args.write or (full and not args.no_write)

    server_cpu, client_cpu, pinning = cpu_plan(args.no_pin)
    run = Run(
        profile=profile,
        command=" ".join(["python -m benchmarks", *_measuring(argv)]),
        machine=machine_description(),
        pinning=pinning,
    )
    groups = plan(profile, measures, variants)
    log = sys.stderr
    print(f"kard-async benchmarks: {profile.name} run, {pinning}", file=log, flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        execute(
            groups,
            run=run,
            python=args.python,
            server_cpu=server_cpu,
            client_cpu=client_cpu,
            workdir=Path(tmp),
            log=log,
        )
    run.elapsed = time.perf_counter() - started
    run.machine["load_after"] = _loadavg()

    print(render_text(run), flush=True)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(run_to_json(run), indent=1))
    if write:
        args.results.write_text(render_markdown(run))
        print(f"wrote {args.results}", file=log)
    errors = [o for o in run.outcomes.values() if o.errors]
    return 1 if errors else 0


def _loadavg() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "n/a"


__all__ = ["FULL", "QUICK", "TINY", "Cell", "Profile", "Run", "main", "median", "plan"]

if __name__ == "__main__":
    sys.exit(main())
