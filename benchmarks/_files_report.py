"""Report sections of the files measures (benchmarks/files.py): uploads, on-the-fly gzip,
sharded API uploads."""

from __future__ import annotations

from ._report import (
    Outcome,
    Section,
    Target,
    _auto,
    _collect_notes,
    _num,
    _paired_ratios,
    _paired_target,
    _percent,
    _range,
    _status,
)

LABELS = {
    "ours": "ours: upload_file(path, compress=False)",
    "raw": "raw aiohttp: PUT of the open file",
    "one": "one process",
    "four": "4 processes (run_sharded), a client each",
}


_PAIRED_UPLOAD_NOTE = (
    "ours and raw aiohttp ran in the same processes, a few uploads each, in turns "
    "(benchmarks/files.py --variant paired); MB/s is over each one's uploads, and the target "
    "is judged on the ratio within each process (median over reps)."
)


def _upload(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    present = [outcomes[("upload", v)] for v in ("ours", "raw") if ("upload", v) in outcomes]
    if not present:
        return None
    rows = []
    for outcome in present:
        status = _status(outcome)
        if status:
            rows.append([LABELS[outcome.variant], status, "", "", ""])
            continue
        rows.append(
            [
                LABELS[outcome.variant],
                _auto(outcome.med("mb_per_s")),
                _range(outcome, "mb_per_s", _auto),
                _auto(outcome.med("elapsed_s")),
                _num(outcome.med("rss_growth_mib"), 1),
            ]
        )

    def med(variant: str, key: str) -> float | None:
        outcome = outcomes.get(("upload", variant))
        return outcome.med(key) if outcome and not _status(outcome) else None

    ours, raw = med("ours", "mb_per_s"), med("raw", "mb_per_s")
    ratio = None if ours is None or not raw else ours / raw
    label = "ours >= 90% of raw aiohttp's throughput"
    # Measured in one process, in turns (results carry "uploads"); a run saved before: not.
    in_turns = all(r.get("uploads") for o in present for r in o.results)
    paired = _paired_ratios(outcomes, "upload", "mb_per_s", baseline="raw") if in_turns else []
    throughput = (
        _paired_target(label, paired, _percent, lambda r: r >= 0.90)
        if paired
        else Target(
            label,
            "-" if ratio is None else f"{ratio:.0%}",
            None if ratio is None else ratio >= 0.90,
        )
    )
    growth = med("ours", "rss_growth_mib")
    sample = next((o.results[0] for o in present if o.results), {})
    size = sample.get("bytes")
    return Section(
        "upload",
        f"9. Upload of a {size / 1e6:,.0f} MB uncompressed JSONL file to a presigned URL"
        if isinstance(size, int)
        else "9. Upload of an uncompressed JSONL file to a presigned URL",
        ["variant", "MB/s", "range over reps", "time s", "RSS growth MiB"],
        rows,
        [
            throughput,
            Target(
                "peak RSS growth < 50 MiB (ours)",
                "-" if growth is None else f"{growth:.1f} MiB",
                None if growth is None else growth < 50,
            ),
        ],
        [
            "Both ask for the URL and PUT the same file with its Content-Length; the emulator "
            "runs with --skip-file-checks (it counts bytes, nothing else), so the clients are "
            "measured. RSS growth: the largest resident set sampled every 5 ms during the "
            "upload, minus the one before it.",
            *([_PAIRED_UPLOAD_NOTE] if paired else []),
            *_collect_notes(present, lambda v: LABELS[v]),
        ],
    )


def _gzip(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    outcome = outcomes.get(("gzip", "ours"))
    if outcome is None:
        return None
    status = _status(outcome)
    if status:
        return Section(
            "gzip",
            "10. Transactions written as JSONL and gzipped on the fly",
            ["variant", "result"],
            [["ours", status]],
            [],
            _collect_notes([outcome], lambda v: v),
        )
    r = outcome.results[0]
    stall = float(r["max_stall_ms"])
    levels = r.get("levels", {})
    compared = "; ".join(
        f"level {level}: {_auto(v['mb_per_s'])} MB/s, ratio {_auto(v['ratio'])}"
        for level, v in sorted(levels.items(), key=lambda item: int(item[0]))
    )
    return Section(
        "gzip",
        f"10. {r['events']:,} transactions from a generator, written as JSONL and gzipped on "
        "the fly, then uploaded",
        [
            "variant",
            "events/s",
            "JSONL MB/s",
            "JSONL MB",
            "gzip MB",
            "ratio",
            "level",
            "loop's longest stall ms",
            "RSS growth MiB",
        ],
        [
            [
                "ours: upload_file(generator)",
                _auto(r["events_per_s"]),
                _auto(r["raw_mb_per_s"]),
                _auto(r["raw_mb"]),
                _auto(r["gzip_mb"]),
                _auto(r["ratio"]),
                str(r["level"]),
                _auto(stall),
                _num(r["rss_growth_mib"], 1),
            ]
        ],
        [Target("the event loop never stalls more than 50 ms", f"{stall:.1f} ms", stall <= 50)],
        [
            "Items are wire mappings built by the generator (encoding them is most of the "
            "time); lines are encoded and gzipped a block at a time in worker threads, into a "
            "temporary file, then sent.",
            f"zlib on the same lines, one core: {compared}. Level "
            f"{r['level']} is the default: the JSONL is compressed several times faster than "
            "at level 6 for a file only slightly larger, so gzip stays a small part of the "
            "time next to producing the lines.",
        ],
    )


def _sharded(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    present = [outcomes[("sharded", v)] for v in ("one", "four") if ("sharded", v) in outcomes]
    if not present:
        return None
    rows = []
    for outcome in present:
        status = _status(outcome)
        if status:
            rows.append([LABELS[outcome.variant], status, "", "", ""])
            continue
        rows.append(
            [
                LABELS[outcome.variant],
                _auto(outcome.med("events_per_s")),
                _range(outcome, "events_per_s", _auto),
                _auto(outcome.med("upload_events_per_s")),
                _auto(outcome.med("elapsed_s")),
            ]
        )

    def med(variant: str) -> float | None:
        outcome = outcomes.get(("sharded", variant))
        return outcome.med("events_per_s") if outcome and not _status(outcome) else None

    one, four = med("one"), med("four")
    sample = next((o.results[0] for o in present if o.results), {})
    notes = [
        "events/s counts the wall time of the whole run, process start-up included; the "
        "next column is the slowest process's upload alone. Each process reads the same "
        "input and sends only its users' events (Shard.select).",
        "On a 2-core machine that also runs the emulator (one process), 4 client processes "
        "(not pinned) and the emulator share two cores, each process encodes the whole "
        "input to pick its share, and the single-process emulator is the ceiling: what this "
        "run shows is exact-once accounting (tests/test_sharding.py); the speed-up needs "
        "cores, and a server, to spread over.",
        *_collect_notes(present, lambda v: LABELS[v]),
    ]
    if one and four:
        notes.insert(0, f"4 processes / one process: {four / one:.2f}x.")
    return Section(
        "sharded",
        f"11. Attribution events through bulk_create, sharded by user: {sample.get('events', 0):,} "
        f"events for {sample.get('users', 0):,} users",
        ["variant", "events/s", "range over reps", "upload events/s", "time s"],
        rows,
        [],
        notes,
    )


def files_sections(outcomes: dict[tuple[str, str], Outcome]) -> list[Section]:
    found = [_upload(outcomes), _gzip(outcomes), _sharded(outcomes)]
    return [section for section in found if section is not None]
