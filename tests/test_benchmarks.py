"""The benchmark code runs (tiny sizes, no timing assertions).

Every variant is run in-process against the emulator fixture; variants whose optional
dependencies (the official SDK, the blocking facade) are missing must report a skip, never
fail. One end-to-end run of the orchestrator checks the processes, the table and the report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import __main__ as orchestrator
from benchmarks import decode, minimal, official, ours, ours_sync, paired, raw
from benchmarks._common import RESULT_PREFIX, Skip, WorkerArgs, memory_stream, percentile
from benchmarks._report import Outcome, render_markdown, render_text
from kard_async.testing import BENCHMARK_QUERY, EmulatorServer

ROOT = Path(__file__).resolve().parent.parent


def tiny(base_url: str, **overrides: Any) -> WorkerArgs:
    settings: dict[str, Any] = {
        "measure": "get",
        "base_url": base_url,
        "cpu": None,
        "json": True,
        "concurrency": 1,
        "duration": 0.0,
        "min_requests": 2,
        "max_time": 5.0,
        "events": 300,
        "users": 3,
        "body": None,
        "variant": None,
        "mode": None,
    }
    settings.update(overrides)
    return WorkerArgs(**settings)


def sdk_installed() -> bool:
    try:
        import kard  # noqa: F401
    except ImportError:
        return False
    return True


def facade_available() -> bool:
    try:
        from kard_async import Kard  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def run_or_skip(run: Any, args: WorkerArgs, *, available: bool) -> dict[str, Any] | None:
    """Run a variant; a missing optional dependency must surface as Skip."""
    if available:
        return dict(run(args))
    with pytest.raises(Skip):
        run(args)
    return None


# --- GET ---


@pytest.mark.parametrize("concurrency", [1, 3])
@pytest.mark.parametrize(
    ("variant", "available"),
    [
        ("ours", True),
        ("minimal", True),
        ("raw", True),
        ("ours-sync", None),
        ("official-async", None),
        ("official-sync", None),
    ],
)
def test_get_variants_run(
    kard_server: EmulatorServer, variant: str, available: bool | None, concurrency: int
) -> None:
    args = tiny(kard_server.base_url, concurrency=concurrency)
    runs = {
        "ours": (ours.run, True),
        "minimal": (minimal.run, True),
        "raw": (raw.run, True),
        "ours-sync": (ours_sync.run, facade_available()),
        "official-async": (official.run, sdk_installed()),
        "official-sync": (official.run, sdk_installed()),
    }
    run, ok = runs[variant]
    if variant.startswith("official"):
        args.mode = variant.split("-")[1]
    result = run_or_skip(run, args, available=ok)
    if result is None:
        return
    assert result["variant"] == variant
    assert result["concurrency"] == concurrency
    assert result["requests"] >= 2
    assert result["rps"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    if variant.startswith("official"):
        # ours ran in turns with the SDK, in its process: the ratio the targets use.
        assert result["ours_rps"] > 0
        assert result["ours_ratio"] == pytest.approx(result["ours_rps"] / result["rps"])


@pytest.mark.parametrize("concurrency", [1, 3])
def test_paired_get_measures_ours_and_the_minimal_client_in_one_process(
    kard_server: EmulatorServer, concurrency: int
) -> None:
    result = paired.run(tiny(kard_server.base_url, concurrency=concurrency, min_requests=4))
    assert result["variant"] == "paired"
    assert set(result["paired"]) == {"ours", "minimal"}
    ours_run, minimal_run = result["paired"]["ours"], result["paired"]["minimal"]
    # The same blocks, in turns: the same number of requests each.
    assert ours_run["requests"] == minimal_run["requests"] >= paired.MIN_BLOCKS * 10
    assert ours_run["rps"] > 0
    assert minimal_run["rps"] > 0
    assert 0 < ours_run["p50_ms"] <= ours_run["p99_ms"]
    assert result["ratio"] == pytest.approx(ours_run["rps"] / minimal_run["rps"])


# --- bulk and memory ---


@pytest.mark.parametrize("users", [3, 1])
@pytest.mark.parametrize("variant", ["ours", "minimal", "raw", "official-async"])
def test_bulk_variants_deliver_every_event(
    kard_server: EmulatorServer, variant: str, users: int
) -> None:
    args = tiny(kard_server.base_url, measure="bulk", events=300, users=users)
    run = {"ours": ours.run, "minimal": minimal.run, "raw": raw.run}.get(variant, official.run)
    before = kard_server.emulator.attribution_event_count
    result = run_or_skip(run, args, available=variant != "official-async" or sdk_installed())
    if result is None:
        return
    assert result["sent"] == 300
    assert result["rounds"] >= 1
    assert result["events_per_s"] > 0
    warm_up = 16  # each variant warms up with 16 one-event requests
    assert kard_server.emulator.attribution_event_count - before == 300 * result["rounds"] + warm_up


def test_memory_run_reports_rss(kard_server: EmulatorServer) -> None:
    args = tiny(kard_server.base_url, measure="memory", events=1_000, users=10)
    result = ours.run(args)
    assert result["sent"] == 1_000
    assert result["requests"] == 10
    assert result["peak_rss_after_mib"] >= result["peak_rss_before_mib"] > 0
    assert result["rss_growth_mib"] == pytest.approx(
        result["peak_rss_after_mib"] - result["baseline_rss_mib"], abs=0.2
    )


def test_memory_stream_windows_users() -> None:
    pairs = list(memory_stream(events=1_000, users=10, window=5))
    assert len(pairs) == 1_000
    assert len({user for user, _ in pairs}) == 10
    assert {user for user, _ in pairs[:500]} == {f"mem-user-{u:06d}" for u in range(5)}


# --- decode ---


@pytest.fixture(scope="module")
def page_file(
    kard_session_server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("bench") / "page.json"
    info = orchestrator.fetch_page(kard_session_server.base_url, path)
    assert info["locations"] == 100
    assert info["bytes"] > 100_000
    return path


@pytest.mark.parametrize("variant", decode.VARIANTS)
def test_decode_variants_run(page_file: Path, variant: str) -> None:
    args = tiny("", measure="decode", variant=variant, body=str(page_file), min_requests=2)
    result = run_or_skip(decode.run, args, available=variant != "official" or sdk_installed())
    if result is None:
        return
    assert result["variant"] == variant
    assert result["iterations"] >= 2
    assert result["median_ms"] > 0


@pytest.mark.parametrize("measure", ["decode", "tx-decode"])
def test_paired_decode_times_ours_and_the_plain_structs_in_one_process(
    page_file: Path, measure: str
) -> None:
    result = paired.run(tiny("", measure=measure, body=str(page_file)))
    assert result["variant"] == "paired"
    assert set(result["paired"]) == {"ours", "structs"}
    ours_run, structs_run = result["paired"]["ours"], result["paired"]["structs"]
    assert ours_run["iterations"] == structs_run["iterations"] >= paired.MIN_BLOCKS
    assert 0 < ours_run["min_ms"] <= ours_run["median_ms"]
    assert 0 < structs_run["min_ms"] <= structs_run["median_ms"]
    assert result["ratio"] > 0


def test_plain_structs_decode_the_same_page_as_ours(page_file: Path) -> None:
    from benchmarks._minimal_models import LOCATIONS_DECODER as PLAIN
    from kard_async.models import LocationsPage
    from kard_async.models._base import decoder_for

    body = page_file.read_bytes()
    plain, page = PLAIN.decode(body), decoder_for(LocationsPage).decode(body)
    assert [loc.id for loc in plain.data] == [loc.id for loc in page.data]
    assert [item.id for item in plain.included] == [item.id for item in page.included]


# --- skips when the official SDK is missing ---


def test_missing_sdk_is_a_skip_not_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], page_file: Path
) -> None:
    for name in [m for m in sys.modules if m == "kard" or m.startswith("kard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "kard", None)  # makes `import kard` raise ImportError
    assert official.main(["--json", "--base-url", "http://127.0.0.1:9", "--mode", "sync"]) == 0
    assert decode.main(["--json", "--variant", "official", "--body", str(page_file)]) == 0
    lines = [
        json.loads(line[len(RESULT_PREFIX) :])
        for line in capsys.readouterr().out.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    assert len(lines) == 2
    assert all("kard-financial-sdk is not installed" in r["skipped"] for r in lines)


# --- report ---


def _outcome(measure: str, variant: str, *results: dict[str, Any]) -> Outcome:
    outcome = Outcome(measure, variant)
    for result in results:
        outcome.add(result)
    return outcome


def test_report_shows_medians_ratios_targets_and_skips() -> None:
    get = {"p50_ms": 1.0, "p99_ms": 2.0, "cpu_ms_per_request": 0.5, "peak_rss_mib": 50}
    outcomes = [
        # ours and its baseline come from the same processes (benchmarks/paired.py), rep by
        # rep: the targets are judged on the median of the per-process ratios.
        _outcome("decode", "ours", {"median_ms": 0.40, "mb_per_s": 500}),
        _outcome("decode", "structs", {"median_ms": 0.38, "mb_per_s": 520}),
        _outcome("decode", "official", {"skipped": "kard-financial-sdk is not installed"}),
        _outcome("get-c1", "ours", {**get, "rps": 900}, {**get, "rps": 1000}, {**get, "rps": 1100}),
        _outcome(
            "get-c1", "minimal", {**get, "rps": 1000}, {**get, "rps": 900}, {**get, "rps": 1100}
        ),
        _outcome("get-c1", "official-async", {**get, "rps": 5}),
        _outcome("get-c1", "ours-sync", {"error": "exit 1: boom"}),
        _outcome(
            "bulk-one",
            "ours",
            {"events": 20_000, "users": 1, "events_per_s": 200_000, "events_per_cpu_s": 4e5},
        ),
        _outcome(
            "bulk-one",
            "official-async",
            {"events": 20_000, "users": 1, "events_per_s": 5_000, "events_per_cpu_s": 5e3},
        ),
    ]
    run = _run(orchestrator.FULL, outcomes)
    text = render_text(run)
    assert "ours within 20% of plain msgspec Structs (time ratio <= 1.20): 1.05x -> MET" in text
    # Per process: 90%, 111%, 100%.
    assert (
        "ours >= 95% of the minimal client's throughput: 100.0% (reps 90.0% to 111.1%) -> MET"
    ) in text
    assert "ours and the minimal client ran in the same processes, in turns" in text
    assert "ours >= 100x the official SDK's throughput (async vs async): 200x -> MET" in text
    # Ours is the fastest variant here: the server, not the client, sets the ratio.
    assert (
        "ours >= 80x the official SDK (events/s): 40.0x -> server-bound (the emulator's "
        "ceiling here is 40.0x the official SDK's rate)"
    ) in text
    assert "900-1,100" in text  # the range over repetitions
    assert "skipped (kard-financial-sdk is not installed)" in text
    assert "ours sync (Kard): error: exit 1: boom" in text
    markdown = render_markdown(run)
    assert "python -m benchmarks --only decode,get,bulk" in markdown
    assert "| ours async (AsyncKard) | 1,000 |" in markdown
    assert "## Targets at a glance" in markdown


def test_report_judges_the_official_sdk_on_the_ratio_within_its_processes() -> None:
    get = {"p50_ms": 1.0, "p99_ms": 2.0, "cpu_ms_per_request": 0.5, "peak_rss_mib": 50}
    outcomes = [
        _outcome("get-c32", "ours", {**get, "rps": 400}),
        _outcome("get-c32", "ours-sync", {**get, "rps": 300}),
        # Across processes ours/SDK would read 80x; within each SDK process, 120x to 130x.
        _outcome(
            "get-c32",
            "official-async",
            *({**get, "rps": 5, "ours_rps": 5 * r, "ours_ratio": r} for r in (120, 130, 125)),
        ),
        _outcome(
            "get-c32",
            "official-sync",
            {**get, "rps": 4, "ours_rps": 380, "ours_ratio": 95},
            {**get, "rps": 4, "ours_rps": 388, "ours_ratio": 97},
        ),
    ]
    text = render_text(_run(orchestrator.FULL, outcomes))
    assert (
        "ours >= 100x the official SDK's throughput (async vs async): 125x (reps 120x to 130x)"
        " -> MET"
    ) in text
    assert (
        "ours sync >= 100x the official SDK's sync throughput: 96.0x (reps 95.0x to 97.0x)"
        " -> MISSED"
    ) in text
    assert "ours (async with async, blocking with blocking) ran in turns with the SDK" in text
    assert "| 80.0x |" in render_markdown(_run(orchestrator.FULL, outcomes))  # the last column


def _run(profile: Any, outcomes: list[Outcome]) -> Any:
    return orchestrator.Run(
        profile=profile,
        command="python -m benchmarks --only decode,get,bulk",
        machine={
            "date": "today",
            "cpu": "cpu",
            "cpus": 2,
            "affinity": [0, 1],
            "memory": "1 GiB",
            "platform": "linux",
            "python": "CPython 3",
            "versions": {"kard-async": "0"},
            "load_before": "0",
        },
        outcomes={(o.measure, o.variant): o for o in outcomes},
        pinning="not pinned",
    )


def test_report_marks_server_bound_targets_and_judges_only_full_runs() -> None:
    get = {"p50_ms": 1.0, "p99_ms": 2.0, "cpu_ms_per_request": 0.5, "peak_rss_mib": 50}

    def bulk(eps: float) -> dict[str, Any]:
        return {"events": 2_000, "users": 20, "events_per_s": eps, "events_per_cpu_s": eps}

    outcomes = [
        # GET c1: ours at 95% of the server's ceiling (raw), which is 100x the official SDK.
        _outcome("get-c1", "ours", {**get, "rps": 950}),
        _outcome("get-c1", "raw", {**get, "rps": 1000}),
        _outcome("get-c1", "minimal", {**get, "rps": 960}),
        _outcome("get-c1", "official-async", {**get, "rps": 10}),
        # GET c32: ours 90% of the minimal client, a real shortfall.
        _outcome("get-c32", "ours", {**get, "rps": 900}),
        _outcome("get-c32", "minimal", {**get, "rps": 1000}),
        _outcome("get-c32", "official-async", {**get, "rps": 5}),
        # bulk, many users: the emulator absorbs at most 55x the official SDK's rate.
        _outcome("bulk-many", "ours", bulk(100_000)),
        _outcome("bulk-many", "raw", bulk(110_000)),
        _outcome("bulk-many", "official-async", bulk(2_000)),
        # bulk, one user: the server could take 200x, ours reaches 4x: missed.
        _outcome("bulk-one", "ours", bulk(20_000)),
        _outcome("bulk-one", "raw", bulk(1_000_000)),
        _outcome("bulk-one", "official-async", bulk(5_000)),
    ]
    full = render_text(_run(orchestrator.FULL, outcomes))
    assert "Verdicts: MET, MISSED; server-bound: the emulator" in " ".join(full.split())
    assert (
        "ours >= 100x the official SDK's throughput (async vs async): 95.0x -> server-bound "
        "(ours runs at 95% of the emulator's ceiling)"
    ) in full
    assert "ours >= 95% of the minimal client's throughput: 90.0% -> MISSED" in full
    assert (
        "ours >= 80x the official SDK (events/s): 50.0x -> server-bound (the emulator's "
        "ceiling here is 55.0x the official SDK's rate)"
    ) in full
    assert "ours >= 80x the official SDK (events/s): 4.00x -> MISSED" in full
    assert full.count("-> MISSED") == 2

    quick = render_text(_run(orchestrator.QUICK, outcomes))
    assert "MISSED" not in quick  # a smoke run is too short to judge a target
    assert (
        "ours >= 95% of the minimal client's throughput: 90.0% -> not judged (quick run)" in quick
    )
    assert "ours >= 80x the official SDK (events/s): 50.0x -> server-bound" in quick
    markdown = render_markdown(_run(orchestrator.QUICK, outcomes))
    assert "MISSED" not in markdown
    assert "server-bound: the emulator, not the client, decides the result" in markdown
    assert (
        "| bulk, many users | ours >= 80x the official SDK (events/s) | 50.0x | server-bound"
        in (markdown)
    )


def test_the_recorded_command_leaves_out_where_results_were_written() -> None:
    argv = ["--only", "get", "--json-out", "/tmp/run.json", "--results=/tmp/R.md", "--reps", "3"]
    assert orchestrator._measuring(argv) == ["--only", "get", "--reps", "3"]


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_plan_interleaves_and_filters() -> None:
    groups = orchestrator.plan(orchestrator.FULL, orchestrator.MEASURES, None)
    assert [g[0].measure for g in groups] == [
        "decode",
        "get-c1",
        "get-c32",
        "bulk-many",
        "bulk-one",
        "bulk-light",
        "memory",
        "webhook",
        "tx-decode",
        "tx-bulk",
        "tx-memory",
        "upload",
        "gzip",
        "sharded",
    ]
    assert {(c.variant, c.also) for c in groups[1]} == {
        ("ours", ("minimal",)),  # one process measures both, in turns
        ("ours-sync", ()),
        ("raw", ()),
        ("official-async", ()),
        ("official-sync", ()),
    }
    for decode_group in (groups[0], groups[8]):  # decode, tx-decode
        assert {(c.variant, c.also) for c in decode_group} == {
            ("ours", ("structs",)),
            ("official", ()),
            ("json", ()),
        }
    (upload,) = groups[11]  # ours and raw aiohttp, in turns in one process
    assert (upload.variant, upload.also) == ("ours", ("raw",))
    assert upload.args[-2:] == ("--variant", "paired")
    only = orchestrator.plan(orchestrator.QUICK, ("get",), ["ours", "raw"])
    assert [[c.variant for c in g] for g in only] == [["ours", "raw"], ["ours", "raw"]]
    # Asking for the baseline alone still runs the process that measures it.
    baseline = orchestrator.plan(
        orchestrator.QUICK, ("decode", "get", "tx-decode"), ["structs", "minimal"]
    )
    assert [[c.module for c in g] for g in baseline] == [["benchmarks.paired"]] * 4


# --- the orchestrator, end to end (its own emulator and worker processes) ---


def run_benchmarks(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks`` with ``args``, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bulk_light_measures_both_uploaders_in_one_process_and_files_each(
    tmp_path: Path,
) -> None:
    out = tmp_path / "results.json"
    done = run_benchmarks(
        *("--quick", "--tiny", "--only", "bulk-light", "--no-write", "--json-out", str(out))
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = {(o["measure"], o["variant"]): o for o in json.loads(out.read_text())["outcomes"]}
    assert set(outcomes) == {("bulk-light", "ours"), ("bulk-light", "minimal")}
    ours, minimal = (outcomes[("bulk-light", v)]["results"][0] for v in ("ours", "minimal"))
    assert ours["rounds"] == minimal["rounds"] >= 2  # the same process, round by round
    assert ours["events_per_cpu_s"] > 0
    assert minimal["events_per_cpu_s"] > 0
    assert "each one process running both uploaders in alternating rounds" in done.stdout


def test_orchestrator_quick_tiny_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    report = tmp_path / "RESULTS.md"
    done = run_benchmarks(
        *("--quick", "--tiny", "--only", "decode,memory", "--variants", "ours,structs,json"),
        *("--write", "--results", str(report), "--json-out", str(out)),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "1. Decode one 100-location page" in done.stdout
    assert "peak RSS growth < 50 MiB" in done.stdout
    assert "Targets are goals for a full run" in done.stdout  # the legend
    assert "MISSED" not in done.stdout
    saved = json.loads(out.read_text())
    assert {(o["measure"], o["variant"]) for o in saved["outcomes"]} == {
        ("decode", "ours"),
        ("decode", "structs"),
        ("decode", "json"),
        ("memory", "ours"),
    }
    assert "python -m benchmarks --quick --tiny" in report.read_text()

    # A saved run re-renders without running anything.
    again = tmp_path / "again.md"
    rendered = run_benchmarks("--render", str(out), "--write", "--results", str(again), timeout=60)
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    assert again.read_text() == report.read_text()


def test_benchmark_query_matches_worker_arguments() -> None:
    from benchmarks import _common as c

    assert float(BENCHMARK_QUERY["filter[latitude]"]) == c.LATITUDE
    assert float(BENCHMARK_QUERY["filter[longitude]"]) == c.LONGITUDE
    assert int(BENCHMARK_QUERY["filter[radius]"]) == c.RADIUS
    assert int(BENCHMARK_QUERY["page[size]"]) == c.PAGE_SIZE
    assert BENCHMARK_QUERY["include"] == ",".join(c.INCLUDE)


# --- files (benchmarks/files.py): every measure runs, in process, on tiny sizes ---


@pytest.mark.parametrize(
    ("measure", "variant", "extra"),
    [
        ("upload", "ours", ["--megabytes", "1"]),
        ("upload", "raw", ["--megabytes", "1"]),
        ("upload", "paired", ["--megabytes", "1"]),
        ("gzip", "ours", ["--events", "2000"]),
        ("sharded", "one", ["--events", "300", "--users", "7"]),
    ],
)
def test_files_measures_run(
    kard_server: EmulatorServer, measure: str, variant: str, extra: list[str]
) -> None:
    from benchmarks import files

    args = files.parse_args(
        ["--base-url", kard_server.base_url, "--measure", measure, "--variant", variant, *extra]
    )
    result = files.run(args)
    if variant == "paired":
        # Both in this process, in turns: the same number of uploads each.
        ours_run, raw_run = result["paired"]["ours"], result["paired"]["raw"]
        assert ours_run["uploads"] == raw_run["uploads"] == files.UPLOAD_TURNS
        assert result["ratio"] == pytest.approx(ours_run["mb_per_s"] / raw_run["mb_per_s"])
        stored = kard_server.emulator.received_files[-2 * files.UPLOAD_TURNS :]
        assert [f.size for f in stored] == [result["bytes"]] * 2 * files.UPLOAD_TURNS
    elif measure == "upload":
        assert result["bytes"] >= 1_000_000
        assert result["mb_per_s"] > 0
        (stored,) = kard_server.emulator.received_files[-1:]
        assert stored.size == result["bytes"]
        assert stored.lines_rejected == 0
    elif measure == "gzip":
        assert result["events"] == 2000
        assert result["ratio"] > 1
        assert result["level"] == 1
        assert set(result["levels"]) == {"1", "6", "9"}
        assert kard_server.emulator.received_files[-1].lines_accepted == 2000
    else:
        assert result["processes"] == 1
        assert kard_server.emulator.attribution_event_count == 300


def test_files_sections_render() -> None:
    from benchmarks._files_report import files_sections

    outcomes = {
        ("upload", "ours"): Outcome(
            "upload",
            "ours",
            [{"bytes": 10**9, "mb_per_s": 900.0, "elapsed_s": 1.1, "rss_growth_mib": 3.0}],
        ),
        ("upload", "raw"): Outcome(
            "upload",
            "raw",
            [{"bytes": 10**9, "mb_per_s": 600.0, "elapsed_s": 1.6, "rss_growth_mib": 2.0}],
        ),
        ("sharded", "one"): Outcome(
            "sharded",
            "one",
            [
                {
                    "events": 10,
                    "users": 2,
                    "events_per_s": 100.0,
                    "upload_events_per_s": 110.0,
                    "elapsed_s": 0.1,
                }
            ],
        ),
    }
    upload, sharded = files_sections(outcomes)
    assert [t.verdict() for t in upload.targets] == ["MET", "MET"]
    assert upload.targets[0].value == "150%"
    assert "1,000 MB" in upload.title
    assert sharded.rows[0][0] == "one process"

    # Measured in one process, in turns: judged on the ratio within each (median, range).
    each = {"bytes": 10**9, "elapsed_s": 1.0, "rss_growth_mib": 3.0, "uploads": 3}
    outcomes = {
        ("upload", "ours"): Outcome(
            "upload", "ours", [{**each, "mb_per_s": r} for r in (800.0, 950.0, 1200.0)]
        ),
        ("upload", "raw"): Outcome(
            "upload", "raw", [{**each, "mb_per_s": r} for r in (1000.0, 1000.0, 1000.0)]
        ),
    }
    (upload,) = files_sections(outcomes)
    assert upload.targets[0].value == "95.0% (reps 80.0% to 120.0%)"
    assert upload.targets[0].verdict() == "MET"
    assert any("in turns" in note for note in upload.notes)
