"""The transaction benchmarks run (tiny sizes, no timing assertions) and are reported."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from test_benchmarks import _outcome, _run, run_or_skip, sdk_installed, tiny

from benchmarks import __main__ as orchestrator
from benchmarks import _transaction_data as data
from benchmarks import transactions
from benchmarks._report import render_markdown, render_text
from kard_async.models import EarnedRewardsPage, RewardedTransaction
from kard_async.models._base import decoder_for
from kard_async.testing import EmulatorServer


@pytest.mark.parametrize("variant", ["ours", "minimal", "raw", "official"])
def test_bulk_variants_deliver_every_transaction(kard_server: EmulatorServer, variant: str) -> None:
    args = tiny(kard_server.base_url, measure="bulk", events=1_200, users=7, variant=variant)
    before = kard_server.emulator.transaction_count
    result = run_or_skip(transactions.run, args, available=variant != "official" or sdk_installed())
    if result is None:
        return
    assert result["sent"] == 1_200
    assert result["events_per_s"] > 0
    assert result["cpu_us_per_event"] > 0
    warm_up = 4 if variant == "official" else 32  # one-transaction requests first
    assert kard_server.emulator.transaction_count - before == 1_200 + warm_up
    if variant in ("ours", "minimal", "raw"):
        assert result["requests"] == 3  # 500 per request


def test_memory_run_reports_rss(kard_server: EmulatorServer) -> None:
    args = tiny(kard_server.base_url, measure="memory", events=1_500, users=10)
    result = transactions.run(args)
    assert result["sent"] == 1_500
    assert result["requests"] == 3
    assert result["rss_growth_mib"] == pytest.approx(
        result["peak_rss_after_mib"] - result["baseline_rss_mib"], abs=0.2
    )


@pytest.mark.parametrize("variant", transactions.DECODE_VARIANTS)
def test_decode_variants_run(variant: str) -> None:
    args = tiny("", measure="decode", variant=variant, min_requests=2)
    result = run_or_skip(transactions.run, args, available=variant != "official" or sdk_installed())
    if result is None:
        return
    assert result["iterations"] >= 2
    assert result["median_ms"] > 0


def test_the_page_decodes_the_same_with_plain_structs_and_ours() -> None:
    body = data.earned_rewards_page()
    plain = data.EARNED_DECODER.decode(body)
    page = decoder_for(EarnedRewardsPage).decode(body)
    assert not page.unknown
    assert [r.id for r in page.data] == [r.id for r in plain.data]
    assert all(isinstance(r, RewardedTransaction) for r in page.data)
    first, plain_first = page.data[0], plain.data[0]
    assert isinstance(first, RewardedTransaction)
    assert first.commission_in_cents == plain_first.attributes.commission_earned.user.value
    assert first.attributes.transaction_timestamp == plain_first.attributes.transaction_timestamp
    assert page.merchant_of(first) is not None
    assert page.meta.lifetime_rewards_in_cents == plain.meta.lifetime_rewards_in_cents


def test_the_same_transactions_for_every_variant() -> None:
    fields = data.transaction_fields(8, 1_000, "p-")
    wire = transactions._ours_transaction(fields).to_wire()
    minimal = data.minimal_transaction(fields)
    assert msgspec.json.decode(msgspec.json.encode(minimal)) == wire
    statuses = {data.transaction_fields(n, 10, "p-")["status"] for n in range(10)}
    assert statuses == {"SETTLED", "APPROVED"}


def test_report_sections_and_targets() -> None:
    def bulk(eps: float, cpu: float) -> dict[str, Any]:
        return {"events": 100_000, "users": 1_000, "events_per_s": eps, "cpu_us_per_event": cpu}

    outcomes = [
        _outcome("tx-decode", "ours", {"median_ms": 0.133, "mb_per_s": 480, "body_bytes": 64_892}),
        _outcome("tx-decode", "structs", {"median_ms": 0.130, "mb_per_s": 490}),
        _outcome("tx-bulk", "ours", bulk(100_000, 3.0)),
        _outcome("tx-bulk", "minimal", bulk(102_000, 1.5)),
        _outcome("tx-bulk", "raw", bulk(105_000, 1.0)),
        _outcome("tx-bulk", "official-async", bulk(2_000, 450.0)),
        _outcome(
            "tx-memory",
            "ours",
            {
                "events": 1_000_000,
                "users": 1_000,
                "requests": 2_000,
                "elapsed_s": 20.0,
                "events_per_s": 50_000,
                "events_per_cpu_s": 100_000,
                "baseline_rss_mib": 46.0,
                "peak_rss_after_mib": 70.0,
                "rss_growth_mib": 24.0,
            },
        ),
    ]
    text = render_text(_run(orchestrator.FULL, outcomes))
    assert "ours within 5% of plain msgspec Structs (time ratio <= 1.05): 1.02x -> MET" in text
    assert "ours >= 95% of the minimal uploader (transactions/s): 98% -> MET" in text
    assert "ours >= 40x the official SDK (transactions/s): 50.0x -> MET" in text
    assert "peak RSS growth < 50 MiB: 24.0 MiB -> MET" in text
    assert "ours costs 3.00 us, 150x less than the official SDK" in text
    assert (
        "| transactions bulk | ours >= 40x the official SDK (transactions/s) | 50.0x | MET |"
        in (render_markdown(_run(orchestrator.FULL, outcomes)))
    )
