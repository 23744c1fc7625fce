"""Aggregation (medians over repetitions, ratios, targets) and the two renderings of a run:
the plain-text table printed at the end and ``RESULTS.md``."""

from __future__ import annotations

import datetime
import math
import os
import platform
import statistics
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

LABELS = {
    "decode": {
        "ours": "ours: decoder_for(LocationsPage).decode",
        "structs": "plain msgspec Structs (gc=False)",
        "json": "json.loads (untyped dicts)",
        "official": "official SDK: json.loads + parse_obj_as",
    },
    "tx-decode": {
        "ours": "ours: decoder_for(EarnedRewardsPage).decode",
        "structs": "plain msgspec Structs (gc=False)",
        "json": "json.loads (untyped dicts)",
        "official": "official SDK: json.loads + parse_obj_as",
    },
    "webhook": {
        "ours": "ours: construct_event (verify + parse)",
        "official": "official SDK: json.loads + parse_obj_as (parse only)",
        "pydantic": "official SDK models: json.loads + model_validate",
    },
    "client": {
        "ours": "ours async (AsyncKard)",
        "ours-sync": "ours sync (Kard)",
        "minimal": "minimal aiohttp + msgspec",
        "raw": "raw aiohttp, bytes only",
        "official-async": "official SDK async (AsyncKardApi)",
        "official-sync": "official SDK sync (KardApi)",
    },
}
SHORT = {
    "decode": "decode",
    "get-c1": "GET, concurrency 1",
    "get-c32": "GET, concurrency 32",
    "bulk-many": "bulk, many users",
    "bulk-one": "bulk, one user",
    "bulk-light": "bulk, client-bound",
    "memory": "memory run",
    "webhook": "webhook",
    "tx-decode": "earned-rewards decode",
    "tx-bulk": "transactions bulk",
    "tx-memory": "transactions memory",
    "upload": "file upload",
    "gzip": "JSONL + gzip",
    "sharded": "sharded uploads",
}
GET_ORDER = ("ours", "ours-sync", "minimal", "raw", "official-async", "official-sync")
BULK_ORDER = ("ours", "minimal", "raw", "official-async")
DECODE_ORDER = ("ours", "structs", "json", "official")

VERSIONED = (
    "kard-async",
    "aiohttp",
    "msgspec",
    "yarl",
    "kard-financial-sdk",
    "httpx",
    "pydantic",
    "pydantic-core",
    "psutil",
)


@dataclass
class Outcome:
    """All repetitions of one (measure, variant)."""

    measure: str
    variant: str
    results: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)

    def add(self, result: dict[str, Any]) -> None:
        if "skipped" in result:
            self.skipped = str(result["skipped"])
        elif "error" in result:
            self.errors.append(str(result["error"]))
        else:
            self.results.append(result)

    def med(self, key: str) -> float | None:
        values = [float(r[key]) for r in self.results if r.get(key) is not None]
        values = [v for v in values if not math.isnan(v)]
        return statistics.median(values) if values else None

    def spread(self, key: str) -> tuple[float, float] | None:
        values = [float(r[key]) for r in self.results if r.get(key) is not None]
        return (min(values), max(values)) if values else None


_SERVER_BOUND = (
    "server-bound: the emulator, not the client, decides the result (no client can reach "
    "the target against it on this machine, or ours already runs at its ceiling: the "
    "fastest variant, usually raw, which only sends pre-encoded bytes), so it is no "
    "shortfall of kard-async; n/a: a variant the comparison needs did not run."
)


def legend(*, quick: bool) -> str:
    """What a target and its verdicts mean, printed above the results."""
    goals = (
        "Targets are goals for a full run (python -m benchmarks) on a quiet machine with at "
        "least two CPUs. "
    )
    if quick:
        return (
            goals + "A quick run is too short and noisy to judge them: its values are shown "
            "for reference, MET when reached, not judged otherwise; " + _SERVER_BOUND
        )
    return goals + "Verdicts: MET, MISSED; " + _SERVER_BOUND


# Ours within this share of the server's ceiling runs as fast as the server lets it.
AT_CEILING = 0.90


@dataclass
class Target:
    text: str
    value: str
    met: bool | None  # None: cannot be judged (a variant is missing)
    server_bound: str = ""
    """Why the server, not the client, decides a result that falls short (empty if not)."""

    def verdict(self, *, quick: bool = False) -> str:
        if self.met is None:
            return "n/a"
        if self.met:
            return "MET"
        if self.server_bound:
            return f"server-bound ({self.server_bound})"
        return "not judged (quick run)" if quick else "MISSED"


def _vs_official(
    text: str, ours: float | None, official: float | None, ceiling: float | None, factor: float
) -> Target:
    """Target "ours >= ``factor`` x the official SDK" on a rate, where the server's
    ``ceiling`` (the best rate any variant got from it) may make it out of reach."""
    ratio = _ratio(ours, official)
    if ratio is None:
        return Target(text, "-", None)
    bound = ""
    reachable = _ratio(ceiling, official)
    at_ceiling = _ratio(ours, ceiling)
    if ratio < factor and reachable is not None and reachable < factor:
        bound = f"the emulator's ceiling here is {_times(reachable)} the official SDK's rate"
    elif ratio < factor and at_ceiling is not None and at_ceiling >= AT_CEILING:
        bound = f"ours runs at {at_ceiling:.0%} of the emulator's ceiling"
    return Target(text, _times(ratio), ratio >= factor, bound)


def _ceiling(outcomes: dict[tuple[str, str], Outcome], measure: str, key: str) -> float | None:
    """The best rate any variant got from the server in ``measure``."""
    rates = [
        rate
        for (m, _), outcome in outcomes.items()
        if m == measure and not _status(outcome) and (rate := outcome.med(key)) is not None
    ]
    return max(rates, default=None)


@dataclass
class Section:
    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- formatting helpers ---


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "-"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _auto(value: float | None) -> str:
    """Three significant figures, thousands separated."""
    if value is None or math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    digits = max(0, 2 - magnitude)
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _percent(value: float | None) -> str:
    # One decimal: these ratios are judged against thresholds such as 95%, and a rounded
    # "95%" that missed 95% reads as a contradiction.
    return "-" if value is None else f"{value:.1%}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{_auto(value)}x"


def _throughput_rows(
    present: list[Outcome],
    ours_eps: float | None,
    cpu: Callable[[Outcome], tuple[float | None, float | None]],
) -> list[list[str]]:
    """One row per variant of a bulk measure: events/s, its range, the CPU column and its
    ratio to ours (``cpu`` gives both, as each measure counts CPU its own way), peak RSS."""
    rows = []
    for outcome in present:
        label = LABELS["client"][outcome.variant]
        status = _status(outcome)
        if status:
            rows.append([label, status, "", "", "", "", ""])
            continue
        eps = outcome.med("events_per_s")
        capped = any(r.get("capped") for r in outcome.results)
        cpu_value, cpu_ratio = cpu(outcome)
        rows.append(
            [
                label + (" (time-capped)" if capped else ""),
                _auto(eps),
                _range(outcome, "events_per_s", _auto),
                _auto(cpu_value),
                _num(outcome.med("peak_rss_mib")),
                _times(_ratio(ours_eps, eps)),
                _times(cpu_ratio),
            ]
        )
    return rows


def _range(outcome: Outcome, key: str, fmt: Callable[[float | None], str]) -> str:
    spread = outcome.spread(key)
    if spread is None or len(outcome.results) < 2:
        return ""
    return f"{fmt(spread[0])}-{fmt(spread[1])}"


def _status(outcome: Outcome | None) -> str | None:
    if outcome is None:
        return "not run"
    if outcome.skipped:
        return "skipped"
    if outcome.errors and not outcome.results:
        return "error"
    return None


def _collect_notes(outcomes: Sequence[Outcome], label: Callable[[str], str]) -> list[str]:
    notes = []
    for outcome in outcomes:
        if outcome.skipped:
            notes.append(f"{label(outcome.variant)}: skipped ({outcome.skipped}).")
        for error in outcome.errors[:1]:
            notes.append(f"{label(outcome.variant)}: error: {error}")
    return notes


# --- sections ---


def _decode(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    present = [outcomes[("decode", v)] for v in DECODE_ORDER if ("decode", v) in outcomes]
    if not present:
        return None
    ours = outcomes.get(("decode", "ours"))
    ours_ms = ours.med("median_ms") if ours else None
    rows = []
    for outcome in present:
        label = LABELS["decode"][outcome.variant]
        status = _status(outcome)
        if status:
            rows.append([label, status, "", "", ""])
            continue
        ms = outcome.med("median_ms")
        rows.append(
            [
                label,
                _auto(ms),
                _range(outcome, "median_ms", _auto),
                _auto(outcome.med("mb_per_s")),
                _times(_ratio(ms, ours_ms)),
            ]
        )
    official = outcomes.get(("decode", "official"))
    paired = _paired_ratios(outcomes, "decode", "median_ms", baseline="structs")
    vs_official = _ratio(official.med("median_ms") if official else None, ours_ms)
    targets = [
        _paired_target(
            "ours within 20% of plain msgspec Structs (time ratio <= 1.20)",
            paired,
            _times,
            lambda ratio: ratio <= 1.20,
        ),
    ]
    notes = [_PAIRED_NOTE.format(baseline="the plain Structs")] if paired else []
    if vs_official is not None:
        notes.append(f"ours decodes the page {_auto(vs_official)}x faster than the official SDK.")
    notes += _collect_notes(present, lambda v: LABELS["decode"][v])
    return Section(
        "decode",
        "1. Decode one 100-location page (median per page, lower is better)",
        ["variant", "ms/page", "range over reps", "MB/s", "time vs ours"],
        rows,
        targets,
        notes,
    )


def _get(outcomes: dict[tuple[str, str], Outcome], concurrency: int) -> Section | None:
    measure = f"get-c{concurrency}"
    present = [outcomes[(measure, v)] for v in GET_ORDER if (measure, v) in outcomes]
    if not present:
        return None
    ours = outcomes.get((measure, "ours"))
    ours_rps = ours.med("rps") if ours and not _status(ours) else None
    rows = []
    for outcome in present:
        label = LABELS["client"][outcome.variant]
        status = _status(outcome)
        if status:
            rows.append([label, status, "", "", "", "", "", ""])
            continue
        rps = outcome.med("rps")
        rows.append(
            [
                label,
                _auto(rps),
                _range(outcome, "rps", _auto),
                _auto(outcome.med("p50_ms")),
                _auto(outcome.med("p99_ms")),
                _auto(outcome.med("cpu_ms_per_request")),
                _num(outcome.med("peak_rss_mib")),
                _times(_ratio(ours_rps, rps)),
            ]
        )

    def rps_of(variant: str) -> float | None:
        outcome = outcomes.get((measure, variant))
        return outcome.med("rps") if outcome and not _status(outcome) else None

    def vs_official(label: str, mine: str, variant: str) -> Target | None:
        """ours (``mine``) >= 100x the SDK: on the ratio within each of the SDK's processes,
        where ours ran in turns with it; a run saved before that compares medians."""
        outcome = outcomes.get((measure, variant))
        results = outcome.results if outcome is not None and not _status(outcome) else []
        within = [float(r["ours_ratio"]) for r in results if r.get("ours_ratio")]
        if within:
            return _paired_target(label, within, _times, lambda ratio: ratio >= 100)
        if _ratio(rps_of(mine), rps_of(variant)) is None:
            return None
        return _vs_official(label, rps_of(mine), rps_of(variant), ceiling, 100)

    paired = _paired_ratios(outcomes, measure, "rps")
    ceiling = _ceiling(outcomes, measure, "rps")
    async_label = "ours >= 100x the official SDK's throughput (async vs async)"
    sync_target = vs_official(
        "ours sync >= 100x the official SDK's sync throughput", "ours-sync", "official-sync"
    )
    targets = [
        _paired_target(
            "ours >= 95% of the minimal client's throughput",
            paired,
            _percent,
            lambda ratio: ratio >= 0.95,
        ),
        vs_official(async_label, "ours", "official-async") or Target(async_label, "-", None),
        *([sync_target] if sync_target is not None else []),
    ]
    notes = [_PAIRED_NOTE.format(baseline="the minimal client")] if paired else []
    if any(
        r.get("ours_ratio")
        for v in ("official-async", "official-sync")
        if (outcome := outcomes.get((measure, v))) is not None
        for r in outcome.results
    ):
        notes.append(_OFFICIAL_PAIRED_NOTE)
    notes += _collect_notes(present, lambda v: LABELS["client"][v])
    return Section(
        measure,
        f"2. GET locations (100 per page, include=offers,categories), concurrency {concurrency}",
        [
            "variant",
            "req/s",
            "range over reps",
            "p50 ms",
            "p99 ms",
            "client CPU ms/req",
            "peak RSS MiB",
            "ours async / variant",
        ],
        rows,
        targets,
        notes,
    )


def _paired_ratios(
    outcomes: dict[tuple[str, str], Outcome], measure: str, key: str, baseline: str = "minimal"
) -> list[float]:
    """ours / ``baseline`` rep by rep: both were measured in the same process, in turns
    (benchmarks/paired.py, benchmarks/bulk_light.py), so a slow spell of a shared machine
    weighs on both."""
    ours, other = outcomes.get((measure, "ours")), outcomes.get((measure, baseline))
    if ours is None or other is None or _status(ours) or _status(other):
        return []
    return [
        float(o[key]) / float(b[key])
        for o, b in zip(ours.results, other.results, strict=False)
        if o.get(key) and b.get(key)
    ]


def _paired_target(
    label: str,
    ratios: list[float],
    fmt: Callable[[float | None], str],
    met: Callable[[float], bool],
) -> Target:
    """A target judged on the median of paired ratios, shown with their range."""
    if not ratios:
        return Target(label, "-", None)
    spread = f" (reps {fmt(min(ratios))} to {fmt(max(ratios))})" if len(ratios) > 1 else ""
    value = statistics.median(ratios)
    return Target(label, fmt(value) + spread, met(value))


_PAIRED_NOTE = (
    "ours and {baseline} ran in the same processes, in turns (benchmarks/paired.py), so a slow "
    "spell of the machine weighs on both; the target is judged on the ratio within each "
    "process (median over reps)."
)


_OFFICIAL_PAIRED_NOTE = (
    "In each official SDK process, ours (async with async, blocking with blocking) ran in "
    "turns with the SDK (benchmarks/official.py): the targets against the SDK are judged on "
    "the ratio within each process (median over reps). The last column compares medians "
    "across processes."
)


def _bulk(outcomes: dict[tuple[str, str], Outcome], measure: str) -> Section | None:
    present = [outcomes[(measure, v)] for v in BULK_ORDER if (measure, v) in outcomes]
    if not present:
        return None
    sample = next((o.results[0] for o in present if o.results), {})
    events = sample.get("events", "?")
    users = sample.get("users", "?")
    ours = outcomes.get((measure, "ours"))
    ours_eps = ours.med("events_per_s") if ours and not _status(ours) else None
    ours_cpu = ours.med("events_per_cpu_s") if ours and not _status(ours) else None
    rows = _throughput_rows(
        present,
        ours_eps,
        lambda o: (o.med("events_per_cpu_s"), _ratio(ours_cpu, o.med("events_per_cpu_s"))),
    )

    def of(variant: str, key: str) -> float | None:
        outcome = outcomes.get((measure, variant))
        return outcome.med(key) if outcome and not _status(outcome) else None

    vs_minimal = _ratio(ours_eps, of("minimal", "events_per_s"))
    cpu_vs_official = _ratio(ours_cpu, of("official-async", "events_per_cpu_s"))
    if measure == "bulk-light":
        paired = _paired_ratios(outcomes, measure, "events_per_cpu_s")
        return Section(
            measure,
            f"3b. Bulk attributions, client-bound: {events:,} events for {users} users against "
            "a server that answers at once (benchmarks/light_server.py), 32 requests in flight",
            [
                "variant",
                "events/s",
                "range over reps",
                "events per client CPU-s",
                "peak RSS MiB",
                "ours / variant",
                "ours / variant (CPU)",
            ],
            rows,
            [
                _paired_target(
                    "ours >= 90% of the minimal uploader (events per client CPU-second; "
                    f"median of {len(paired)} reps, each one process running both uploaders "
                    "in alternating rounds)",
                    paired,
                    _percent,
                    lambda ratio: ratio >= 0.90,
                ),
                Target(
                    "ours vs the minimal uploader (events/s), for reference",
                    "-" if vs_minimal is None else f"{vs_minimal:.0%}",
                    None,
                ),
            ],
            [
                "Here the client, not the server, is the bottleneck: ours validates every "
                "event, groups by user with bounded memory and accounts for each one; the "
                "minimal uploader only groups and encodes.",
                "Both uploaders share each process (benchmarks/bulk_light.py): they take turns, "
                "one whole upload each, so a slow spell of a shared machine weighs on both; "
                "the peak RSS is that process's.",
            ],
        )
    targets = [
        _vs_official(
            "ours >= 80x the official SDK (events/s)",
            ours_eps,
            of("official-async", "events_per_s"),
            _ceiling(outcomes, measure, "events_per_s"),
            80,
        ),
        Target(
            "ours >= 60% of the minimal client (events/s)",
            "-" if vs_minimal is None else f"{vs_minimal:.0%}",
            None if vs_minimal is None else vs_minimal >= 0.60,
        ),
    ]
    notes = []
    raw_eps = of("raw", "events_per_s")
    if raw_eps is not None and ours_eps is not None:
        notes.append(
            f"raw (pre-encoded bodies, answers not decoded) is the emulator's ceiling: ours "
            f"reaches {ours_eps / raw_eps:.0%} of it."
        )
    ceiling = _ratio(raw_eps, of("official-async", "events_per_s"))
    if ceiling is not None:
        notes.append(
            f"That ceiling is {_auto(ceiling)}x the official SDK's rate, so no client can "
            "show more than that ratio in events/s against this emulator; the CPU column "
            "compares the clients' own cost."
        )
    if cpu_vs_official is not None:
        notes.append(
            f"Client CPU cost per event: ours is {_auto(cpu_vs_official)}x more efficient "
            "than the official SDK (events per client CPU-second)."
        )
    notes += _collect_notes(present, lambda v: LABELS["client"][v])
    who = "one user (200 requests of 100)" if users == 1 else f"{users} users"
    return Section(
        measure,
        f"3. Bulk attributions: {events:,} events for {who}, 16 requests in flight"
        if isinstance(events, int)
        else f"3. Bulk attributions ({measure})",
        [
            "variant",
            "events/s",
            "range over reps",
            "events per client CPU-s",
            "peak RSS MiB",
            "ours / variant",
            "ours / variant (CPU)",
        ],
        rows,
        targets,
        notes,
    )


def _memory(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    outcome = outcomes.get(("memory", "ours"))
    if outcome is None:
        return None
    status = _status(outcome)
    if status:
        return Section(
            "memory",
            "4. Memory: events streamed from a generator through bulk_create",
            ["variant", "result"],
            [[LABELS["client"]["ours"], status]],
            [],
            _collect_notes([outcome], lambda v: LABELS["client"][v]),
        )
    r = outcome.results[0]
    growth = float(r["rss_growth_mib"])
    return Section(
        "memory",
        f"4. Memory: {r['events']:,} events for {r['users']:,} users streamed from a generator "
        "through bulk_create",
        [
            "variant",
            "requests",
            "time s",
            "events/s",
            "RSS before MiB",
            "peak RSS after MiB",
            "growth MiB",
        ],
        [
            [
                LABELS["client"]["ours"],
                _num(r["requests"]),
                _auto(r["elapsed_s"]),
                _auto(r["events_per_s"]),
                _num(r["baseline_rss_mib"], 1),
                _num(r["peak_rss_after_mib"], 1),
                _num(growth, 1),
            ]
        ],
        [Target("peak RSS growth < 50 MiB", f"{growth:.1f} MiB", growth < 50)],
        [
            "RSS before = resident set after warm-up; peak after = the kernel's high-water mark "
            "(getrusage ru_maxrss) at the end, so the growth is an upper bound."
        ],
    )


def _webhook(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    order = ("ours", "official", "pydantic")
    present = [outcomes[("webhook", v)] for v in order if ("webhook", v) in outcomes]
    if not present:
        return None
    rows = []
    for outcome in present:
        label = LABELS["webhook"][outcome.variant]
        status = _status(outcome)
        if status:
            rows.append([label, status, "", ""])
            continue
        rows.append(
            [
                label,
                _auto(outcome.med("events_per_s")),
                _range(outcome, "events_per_s", _auto),
                _auto(outcome.med("us_per_event")),
            ]
        )

    def rate(variant: str) -> float | None:
        outcome = outcomes.get(("webhook", variant))
        return outcome.med("events_per_s") if outcome and not _status(outcome) else None

    ours = rate("ours")
    vs_official = _ratio(ours, rate("official"))
    targets = [
        Target(
            "ours >= 50,000 events/s on one core",
            _auto(ours),
            None if ours is None else ours >= 50_000,
        ),
        Target(
            "ours >= 20x the official SDK",
            _times(vs_official),
            None if vs_official is None else vs_official >= 20,
        ),
    ]
    sample = next((o.results[0] for o in present if o.results), {})
    notes = [
        f"Body: a {sample.get('body_bytes', '?')}-byte earnedRewardSettled notification. "
        "Ours also verifies the signature; the official SDK has no verification helper."
    ]
    vs_pydantic = _ratio(ours, rate("pydantic"))
    if vs_pydantic is not None:
        notes.append(
            f"Against the SDK's models validated directly (bypassing its parse_obj_as), "
            f"ours is {_auto(vs_pydantic)}x faster."
        )
    notes += _collect_notes(present, lambda v: LABELS["webhook"][v])
    return Section(
        "webhook",
        "5. Receive a webhook: signed bytes to a typed notification (higher is better)",
        ["variant", "events/s", "range over reps", "us/event"],
        rows,
        targets,
        notes,
    )


def _tx_decode(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    key = "tx-decode"
    present = [outcomes[(key, v)] for v in DECODE_ORDER if (key, v) in outcomes]
    if not present:
        return None
    ours = outcomes.get((key, "ours"))
    ours_ms = ours.med("median_ms") if ours and not _status(ours) else None
    rows = []
    for outcome in present:
        label = LABELS[key][outcome.variant]
        status = _status(outcome)
        if status:
            rows.append([label, status, "", "", ""])
            continue
        ms = outcome.med("median_ms")
        rows.append(
            [
                label,
                _auto(ms),
                _range(outcome, "median_ms", _auto),
                _auto(outcome.med("mb_per_s")),
                _times(_ratio(ms, ours_ms)),
            ]
        )

    def ms_of(variant: str) -> float | None:
        outcome = outcomes.get((key, variant))
        return outcome.med("median_ms") if outcome and not _status(outcome) else None

    paired = _paired_ratios(outcomes, key, "median_ms", baseline="structs")
    vs_official = _ratio(ms_of("official"), ours_ms)
    sample = next((o.results[0] for o in present if o.results), {})
    notes = [
        f"Page: {sample.get('body_bytes', '?'):,} bytes, 100 settled rewards with 20 merchants "
        "and 20 offers side-loaded (benchmarks/_transaction_data.py)."
    ]
    if paired:
        notes.append(_PAIRED_NOTE.format(baseline="the plain Structs"))
    if vs_official is not None:
        notes.append(f"ours decodes the page {_auto(vs_official)}x faster than the official SDK.")
    notes += _collect_notes(present, lambda v: LABELS[key][v])
    return Section(
        key,
        "6. Decode one 100-row earned-rewards page (median per page, lower is better)",
        ["variant", "ms/page", "range over reps", "MB/s", "time vs ours"],
        rows,
        [
            _paired_target(
                "ours within 5% of plain msgspec Structs (time ratio <= 1.05)",
                paired,
                _times,
                lambda ratio: ratio <= 1.05,
            )
        ],
        notes,
    )


def _tx_bulk(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    key = "tx-bulk"
    present = [outcomes[(key, v)] for v in BULK_ORDER if (key, v) in outcomes]
    if not present:
        return None
    sample = next((o.results[0] for o in present if o.results), {})

    def of(variant: str, field: str) -> float | None:
        outcome = outcomes.get((key, variant))
        return outcome.med(field) if outcome and not _status(outcome) else None

    ours_eps, ours_cpu = of("ours", "events_per_s"), of("ours", "cpu_us_per_event")
    rows = _throughput_rows(
        present,
        ours_eps,
        lambda o: (o.med("cpu_us_per_event"), _ratio(o.med("cpu_us_per_event"), ours_cpu)),
    )
    vs_minimal = _ratio(ours_eps, of("minimal", "events_per_s"))
    targets = [
        Target(
            "ours >= 95% of the minimal uploader (transactions/s)",
            "-" if vs_minimal is None else f"{vs_minimal:.0%}",
            None if vs_minimal is None else vs_minimal >= 0.95,
        ),
        _vs_official(
            "ours >= 40x the official SDK (transactions/s)",
            ours_eps,
            of("official-async", "events_per_s"),
            _ceiling(outcomes, key, "events_per_s"),
            40,
        ),
    ]
    notes = []
    raw_eps = of("raw", "events_per_s")
    if raw_eps is not None and ours_eps is not None:
        notes.append(
            f"raw (pre-encoded bodies, answers not decoded) is the emulator's ceiling: ours "
            f"reaches {ours_eps / raw_eps:.0%} of it."
        )
    cpu_vs_official = _ratio(of("official-async", "cpu_us_per_event"), ours_cpu)
    if cpu_vs_official is not None:
        notes.append(
            f"Client CPU per transaction: ours costs {_auto(ours_cpu)} us, "
            f"{_auto(cpu_vs_official)}x less than the official SDK; the minimal uploader, "
            "which checks nothing and accounts for nothing, costs "
            f"{_auto(of('minimal', 'cpu_us_per_event'))} us."
        )
    notes += _collect_notes(present, lambda v: LABELS["client"][v])
    events, users = sample.get("events", "?"), sample.get("users", "?")
    title = (
        f"7. transactions.bulk_create: {events:,} transactions of {users:,} users, 500 per "
        "request, 32 in flight"
        if isinstance(events, int) and isinstance(users, int)
        else "7. transactions.bulk_create"
    )
    return Section(
        key,
        title,
        [
            "variant",
            "transactions/s",
            "range over reps",
            "client CPU us/txn",
            "peak RSS MiB",
            "ours / variant",
            "CPU: variant / ours",
        ],
        rows,
        targets,
        notes,
    )


def _tx_memory(outcomes: dict[tuple[str, str], Outcome]) -> Section | None:
    outcome = outcomes.get(("tx-memory", "ours"))
    if outcome is None:
        return None
    status = _status(outcome)
    title = "8. Memory: transactions streamed from a generator through bulk_create"
    if status:
        return Section(
            "tx-memory",
            title,
            ["variant", "result"],
            [[LABELS["client"]["ours"], status]],
            [],
            _collect_notes([outcome], lambda v: LABELS["client"][v]),
        )
    r = outcome.results[0]
    growth = float(r["rss_growth_mib"])
    cpu = r.get("events_per_cpu_s")
    return Section(
        "tx-memory",
        f"8. Memory: {r['events']:,} transactions streamed from a generator through "
        "transactions.bulk_create (its defaults: 16 in flight)",
        [
            "variant",
            "requests",
            "time s",
            "transactions/s",
            "client CPU us/txn",
            "RSS before MiB",
            "peak RSS after MiB",
            "growth MiB",
        ],
        [
            [
                LABELS["client"]["ours"],
                _num(r["requests"]),
                _auto(r["elapsed_s"]),
                _auto(r["events_per_s"]),
                _auto(1e6 / cpu) if cpu else "-",
                _num(r["baseline_rss_mib"], 1),
                _num(r["peak_rss_after_mib"], 1),
                _num(growth, 1),
            ]
        ],
        [Target("peak RSS growth < 50 MiB", f"{growth:.1f} MiB", growth < 50)],
        [
            "Each transaction is built (and validated) by the generator as the upload reads "
            "it: the CPU per transaction includes building it. Peak after = the kernel's "
            "high-water mark (getrusage ru_maxrss), so the growth is an upper bound."
        ],
    )


def sections(outcomes: dict[tuple[str, str], Outcome]) -> list[Section]:
    found = [
        _decode(outcomes),
        _get(outcomes, 1),
        _get(outcomes, 32),
        _bulk(outcomes, "bulk-many"),
        _bulk(outcomes, "bulk-one"),
        _bulk(outcomes, "bulk-light"),
        _memory(outcomes),
        _webhook(outcomes),
        _tx_decode(outcomes),
        _tx_bulk(outcomes),
        _tx_memory(outcomes),
    ]
    from ._files_report import files_sections  # it imports this module's helpers

    return [s for s in found if s is not None] + files_sections(outcomes)


# --- machine ---


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def machine_description() -> dict[str, Any]:
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        load = "n/a"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "affinity": affinity,
        "memory": _memory_total(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "versions": _versions(),
        "load_before": load,
    }


# --- saving and loading a run (to re-render without re-running) ---


def run_to_json(run: Any) -> dict[str, Any]:
    return {
        "profile": run.profile.name,
        "reps": [run.profile.reps, run.profile.decode_reps, run.profile.get_reps],
        "command": run.command,
        "machine": run.machine,
        "page": run.page,
        "pinning": run.pinning,
        "elapsed": run.elapsed,
        "outcomes": [
            {
                "measure": o.measure,
                "variant": o.variant,
                "results": o.results,
                "skipped": o.skipped,
                "errors": o.errors,
            }
            for o in run.outcomes.values()
        ],
    }


def outcomes_from_json(items: list[dict[str, Any]]) -> dict[tuple[str, str], Outcome]:
    outcomes = {}
    for item in items:
        outcome = Outcome(item["measure"], item["variant"], list(item["results"]))
        outcome.skipped = item.get("skipped")
        outcome.errors = list(item.get("errors") or [])
        outcomes[(outcome.measure, outcome.variant)] = outcome
    return outcomes


# --- rendering ---


def _text_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for n, row in enumerate([headers, *rows]):
        cells = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _page_line(run: Any) -> str:
    page = run.page
    if not page:
        return ""
    return (
        f"Page: {page['bytes']:,} bytes, {page['locations']} locations, {page['offers']} offers "
        f"and {page['categories']} categories included."
    )


def is_quick(run: Any) -> bool:
    """A smoke run (``--quick``, ``--tiny``): too short to judge targets."""
    return bool(run.profile.name != "full")


def render_text(run: Any) -> str:
    quick = is_quick(run)
    lines = [
        "",
        f"kard-async benchmarks ({run.profile.name} run; medians over "
        f"{run.profile.reps} interleaved repetition(s), decode {run.profile.decode_reps})",
        _page_line(run),
        f"Pinning: {run.pinning}. Load average before/after: {run.machine.get('load_before')} / "
        f"{run.machine.get('load_after', 'n/a')}. Took {run.elapsed:.0f}s.",
        *textwrap.wrap(legend(quick=quick), 100),
    ]
    for section in sections(run.outcomes):
        lines += ["", section.title, *_text_table(section.headers, section.rows)]
        for target in section.targets:
            verdict = target.verdict(quick=quick)
            lines.append(f"  target: {target.text}: {target.value} -> {verdict}")
        for note in section.notes:
            lines.append(f"  note: {note}")
    return "\n".join(lines)


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


METHOD = """\
## How it was measured

- **Server**: the bundled emulator (`python -m kard_async.testing --port 0 --cache-reads`) in
  its own process, a fresh one for each measure, serving
  `GET /v2/issuers/{org}/users/{user}/locations` with `kard_async.testing.BENCHMARK_QUERY`
  (100 locations, `include=offers,categories`; `--cache-reads` serves the encoded body from a
  cache, so the server side costs the same for every variant) and validating every
  attribution event it receives, as documented.
- **Clients**: every variant runs in a fresh process per repetition; repetitions interleave the
  variants (A B C A B C ...). Each worker warms up first (token fetch, connections, one full
  request per connection) and only then starts the clock (`time.perf_counter`). Where a
  target compares ours with a hand-written baseline (the plain Structs for decoding, the
  minimal client for GET and client-bound bulk), the two share each process and take turns,
  a block of work each, the order alternating and `gc.collect()` before each block, outside
  the clock (`benchmarks/paired.py`, `benchmarks/bulk_light.py`); the verdict is the median
  over the processes of the ratio within each. The GET targets against the official SDK
  are judged the same way: ours (async with async, blocking with blocking) runs in turns
  with the SDK in each of its processes (`benchmarks/official.py`). On a shared machine,
  separate processes a second apart differ by more than these targets' margins.
- **Decode**: back-to-back decodes of the saved page bytes (ours and the plain Structs in
  blocks of ten, in turns), garbage collector enabled; median time per page within a
  process, then the median over repetitions. The official
  SDK's path is exactly what its `users.rewards.locations` runs on a 2xx response:
  `httpx.Response.json()` (stdlib `json.loads`) then
  `kard.core.pydantic_utilities.parse_obj_as(LocationsResponseObject, ...)`. The plain
  Structs are `benchmarks/_minimal_models.py`: `gc=False`, camelCase, a plain tagged union
  for `included`, same fields and types (datetimes included) as ours, no forward
  compatibility.
- **GET**: closed loop, N concurrent callers (asyncio tasks for async clients, threads for
  sync ones) issuing requests back to back for a fixed time (ours and the minimal client:
  blocks of the same number of requests, in turns, against the same emulator); requests/s
  = completed / elapsed, p50/p99 over every request of the process, client CPU = process
  CPU time / requests. The official SDK runs in blocks of one request per caller (at least
  two), in turns with blocks of ours as long as its last one (at most a second), for a few
  seconds in all; its figures are its own blocks', its ratio is ours' requests/s over its
  own within the process.
- **Bulk**: the same 20,000 `(user_id, event)` pairs for every variant, arriving
  round-robin over the users, events built before the clock starts (typed events of each
  client). Ours: `kard.users.attributions.bulk_create(pairs, concurrency=16)`. Official
  SDK and minimal: the straightforward code a user writes (group per user, chunks of 100,
  `asyncio.gather` under a semaphore of 16; `AsyncKardApi.users.attributions.create` or
  an aiohttp POST of a msgspec-encoded body). Raw: the minimal client posting bodies
  encoded before the clock starts and not decoding the answers, i.e. what the emulator can
  absorb. A fast upload is repeated until about a second is measured (median round); the
  official SDK's is capped in wall time.
- **Bulk, client-bound**: against `benchmarks/light_server.py`, which answers every write at
  once, so the client is the bottleneck; 32 requests in flight. Ours and the minimal
  uploader run in the same process (`benchmarks/bulk_light.py`), one whole upload each in
  turns (the order alternating, `gc.collect()` before each, outside the clock), for about a
  second each; events per client CPU-second come from `time.process_time` over all its
  rounds, and the verdict is the median over the processes of ours over the minimal one's.
- **Memory**: `bulk_create` consuming a generator that builds each event lazily; users come
  in windows of 500, round-robin inside a window, so about 50,000 events (the default
  `max_buffered_events`) wait for their batch to fill at any time.
- **Webhook**: back-to-back calls on the same signed `earnedRewardSettled` body (compact
  JSON, ~1.4 KB) in batches of 50, garbage collector enabled; the median batch's rate.
  Ours is `kard_async.webhooks.construct_event` (HMAC check of the raw bytes, then decode);
  the official SDK, which cannot verify signatures, is `json.loads` then
  `kard.core.pydantic_utilities.parse_obj_as(NotificationPayload, ...)` (its path for every
  body), and, for scale, its models validated directly (`NotificationPayload.model_validate`).
- **Transactions** (`benchmarks/transactions.py`, inputs in
  `benchmarks/_transaction_data.py`): 100,000 card transactions of 1,000 users (nine in ten
  SETTLED, one in eight at a merchant with a seeded offer, so the emulator also keeps
  rewards), built before the clock starts as each client's typed objects, sent once per
  process (the emulator refuses an id twice, with 409). Ours:
  `kard.transactions.bulk_create(transactions, concurrency=32)`. Minimal: aiohttp + msgspec,
  chunks of 500, `asyncio.gather` under a semaphore of 32, each body encoded when sent and
  each answer decoded. Raw: the same with bodies encoded before the clock, answers not
  decoded (the emulator's ceiling). Official SDK: `AsyncKardApi.transactions.create` the
  same way, capped in wall time. The memory run streams 1,000,000 transactions from a
  generator. The earned-rewards decode is a 100-row page built by
  `earned_rewards_page()`, decoded like the locations page.
- **File upload** (`benchmarks/files.py`): a 1,000 MB JSONL file PUT to the emulator's
  presigned URL (the emulator only counts bytes). Ours (`upload_file(path,
  compress=False)`) and raw aiohttp (asking for the URL by hand, then a PUT of the open
  file) share each process, three uploads each in turns; MB/s over each one's uploads, the
  verdict the median over the processes of the ratio within each.
- **Peak RSS** is each client process's `ru_maxrss` at its end (includes the interpreter and
  the imports).
"""


def render_markdown(run: Any) -> str:
    m = run.machine
    lines = [
        "# kard-async benchmarks",
        "",
        "Generated by `python -m benchmarks` (do not edit by hand; re-run to refresh).",
        "",
        f"- **Command**: `cd <repo> && pip install -e . --group bench && {run.command}`",
        f"- **Run**: {run.profile.name}, medians over {run.profile.reps} interleaved "
        f"repetitions (decode: {run.profile.decode_reps}), took {run.elapsed:.0f} s, {m['date']}",
        f"- **Machine**: {m['cpu']}, {m['cpus']} CPUs (usable: {m['affinity']}), "
        f"{m['memory']} RAM, {m['platform']}",
        f"- **Python**: {m['python']}",
        "- **Versions**: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- **Pinning**: {run.pinning}",
        f"- **Load average** (1/5/15 min) before: {m['load_before']}, after: "
        f"{m.get('load_after', 'n/a')}. Other work on the machine makes numbers noisy; "
        "compare ratios, and re-run on a quiet machine for absolute figures.",
    ]
    if run.page:
        lines.append(f"- **{_page_line(run)}**")
    quick = is_quick(run)
    lines += ["", legend(quick=quick)]
    summary = []
    for section in sections(run.outcomes):
        lines += ["", f"## {section.title}", "", *_md_table(section.headers, section.rows)]
        if section.targets:
            lines.append("")
            for target in section.targets:
                verdict = target.verdict(quick=quick)
                lines.append(f"- Target: {target.text}: **{target.value}**, {verdict}")
                summary.append((SHORT.get(section.key, section.key), target))
        for note in section.notes:
            lines.append(f"- {note}")
    if summary:
        lines += ["", "## Targets at a glance", "", "| measure | target | value | verdict |"]
        lines.append("|---|---|---:|---|")
        for title, target in summary:
            verdict = target.verdict(quick=quick)
            lines.append(f"| {title} | {target.text} | {target.value} | {verdict} |")
    lines += ["", METHOD]
    return "\n".join(lines)
