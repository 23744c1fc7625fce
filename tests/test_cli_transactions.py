"""``kard-async transactions upload``: JSONL and CSV, 207 refusals, faults, resending."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from test_cli import run_cli, summary

from kard_async.cli._eventfiles import CsvReader, CsvWriter, JsonlReader, Malformed, Record
from kard_async.cli._kinds import TRANSACTIONS
from kard_async.models import Merchant, Transaction
from kard_async.testing import EmulatorServer, Fault

WHEN = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)


def transaction(n: int, **fields: Any) -> Transaction:
    settings: dict[str, Any] = {
        "id": f"evt-{n}",
        "user_id": f"user-{n % 7}",
        "transaction_id": f"txn-{n}",
        "status": "SETTLED",
        "amount": 1000 + n,
        "currency": "USD",
        "description": "CARD PURCHASE",
        "direction": "DEBIT",
        "card_bin": "411111",
        "card_last_four": "1111",
        "authorization_date": WHEN,
        "settled_date": WHEN,
        "merchant": Merchant(name="Harbor Burger", addr_state="PA"),
    }
    settings.update(fields)
    return Transaction(**settings)


def recorded(server: EmulatorServer) -> Counter[str]:
    return Counter(t.id for t in server.emulator.transactions)


def reported_lines(stderr: str) -> dict[int, str]:
    return {int(n): why for n, why in re.findall(r"^  line (\d+): (.*)$", stderr, re.MULTILINE)}


def test_jsonl_upload_files_every_line_and_resends_safely(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    lines = [transaction(n).to_json().decode() for n in range(1_500)]
    lines[3] = '{"type": "transaction", "id": "cut'  # malformed
    lines[7] = lines[7].replace('"amount":1007', '"amount":10.07')  # refused here
    lines[9] = lines[9].replace('"status":"SETTLED"', '"status":"ON_HOLD"')  # refused there
    flat = transaction(11).to_wire()
    lines[11] = json.dumps({"id": flat["id"], **flat["attributes"]})  # the flat form
    source = tmp_path / "daily.jsonl"
    source.write_text("\n".join(lines) + "\n")
    emulator = kard_server.emulator
    # One request at a time: the first (with the bad lines) goes through, the second's
    # answer is lost, the third is refused with a 503 (surely not processed).
    post = {"method": "POST", "path": "/transactions$", "times": 1, "skip": 1}
    emulator.inject(Fault(kind="drop_after", **post))
    emulator.inject(Fault(kind="status", status=503, **post))

    first = run_cli(
        "transactions",
        "upload",
        str(source),
        *("--max-retries", "0", "--concurrency", "1"),
        server=kard_server,
    )

    assert first.returncode == 1, first.stderr
    counts = summary(first.stdout)
    assert counts["invalid"] == "3"
    assert counts["failed"] == "998 (outcome unknown: 500 not recorded: 498)"
    assert counts["accepted"] == "499"
    invalid = reported_lines(first.stderr)
    assert set(invalid) == {4, 8, 10}
    assert "not valid JSON" in invalid[4]
    assert "never rounded" in invalid[8]
    assert invalid[10].startswith("server: status 'ON_HOLD' is not allowed")
    assert "kard-async transactions upload" in first.stdout
    failed_out = tmp_path / "daily.failed.jsonl"
    written = failed_out.read_text().splitlines()
    assert len(written) == 3 + 998
    assert written[0] == lines[3]  # byte for byte
    resent = [json.loads(line) for line in written[3:]]
    assert all(item["type"] == "transaction" and "attributes" in item for item in resent)

    # Sent again: the dropped request's transactions were recorded (409: invalid, never
    # twice), the 503's go through; the three bad lines stay bad.
    emulator.clear_faults()
    second = run_cli("transactions", "upload", str(failed_out), server=kard_server)
    assert second.returncode == 1, second.stderr
    counts = summary(second.stdout)
    assert counts["accepted"] == "498"
    assert counts["invalid"] == str(3 + 500)
    assert sum("already received" in why for why in reported_lines(second.stderr).values()) == 17
    server_ids = recorded(kard_server)
    assert max(server_ids.values()) == 1
    assert len(server_ids) == 1_497
    assert len(failed_out.read_text().splitlines()) == 3 + 500  # still not accepted


def test_csv_upload_nests_dotted_columns(kard_server: EmulatorServer, tmp_path: Path) -> None:
    header = [
        "type",
        "id",
        "userId",
        "transactionId",
        "status",
        "amount",
        "currency",
        "description",
        "direction",
        "cardBIN",
        "cardLastFour",
        "authorizationDate",
        "merchant.name",
        "merchant.addrCity",
        "processorMids.processor",
        "processorMids.mids.vmid",
        "processorMids.mids.vsid",
        "color",
    ]
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(header)
    when = WHEN.isoformat()
    for n in range(40):
        amount = "12.50" if n == 5 else str(1250 + n)
        bin_ = "4111" if n == 6 else "411111"
        mids = ("VISA", "vm", "vs") if n % 2 else ("", "", "")
        out.writerow(
            [
                "transaction",
                f"c-{n}",
                "u1",
                f"ct-{n}",
                "APPROVED",
                amount,
                "USD",
                "BURGER",
                "DEBIT",
                bin_,
                "1111",
                when,
                "Harbor Burger",
                "Philadelphia",
                *mids,
                "blue",
            ]
        )
    source = tmp_path / "cards.csv"
    source.write_text(text.getvalue())

    result = run_cli("transactions", "upload", str(source), server=kard_server)

    assert result.returncode == 1, result.stderr
    assert summary(result.stdout)["accepted"] == "38"
    assert "ignoring unknown CSV column(s): color" in result.stderr
    invalid = reported_lines(result.stderr)
    assert invalid == {
        7: "amount '12.50' is not an integer (cents)",
        8: "invalid cardBIN='4111': must be 6 digits (a string) "
        "(send the first 6 digits of a longer BIN)",
    }
    received = {t.id: t.attributes for t in kard_server.emulator.transactions}
    assert received["c-1"]["merchant"] == {"name": "Harbor Burger", "addrCity": "Philadelphia"}
    assert received["c-1"]["processorMids"] == {
        "processor": "VISA",
        "mids": {"vmid": "vm", "vsid": "vs"},
    }
    assert "processorMids" not in received["c-2"]
    assert received["c-2"]["amount"] == 1252
    again = list(csv.reader(io.StringIO((tmp_path / "cards.failed.csv").read_text())))
    assert again[0] == header
    assert [row[1] for row in again[1:]] == ["c-5", "c-6"]


def test_upload_from_standard_input(kard_server: EmulatorServer, tmp_path: Path) -> None:
    text = "".join(transaction(n).to_json().decode() + "\n" for n in range(20))
    result = run_cli("transactions", "upload", "-", server=kard_server, stdin=text, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["accepted"] == "20"
    assert len(recorded(kard_server)) == 20
    assert not (tmp_path / "failed.jsonl").exists()


def test_help_names_the_command() -> None:
    result = run_cli("transactions", "upload", "--help")
    assert result.returncode == 0
    assert "requests of up to 500" in result.stdout
    listing = run_cli("--help")
    assert "transactions upload" in listing.stdout


def test_readers_and_writers_round_trip() -> None:
    made = transaction(1, mcc="5812", subtotal=900)
    jsonl = list(JsonlReader([made.to_json() + b"\n", b"\n", b"[1]\n"], TRANSACTIONS))
    record, malformed = jsonl
    assert isinstance(record, Record)
    assert record.event == made.to_wire()
    assert isinstance(malformed, Malformed)
    assert malformed.line == 3

    header = "id,userId,transactionId,status,amount,subtotal,currency,description,direction"
    header += ",cardBIN,cardLastFour,settledDate,merchant.name,merchant.addrState,mcc"
    reader = CsvReader([header.encode() + b"\n"], TRANSACTIONS)
    assert reader.unknown_columns == []
    stream = io.BytesIO()
    writer = CsvWriter(stream, reader.header, kind=TRANSACTIONS)
    writer.write_event("org", made)
    lines = stream.getvalue().splitlines(keepends=True)
    (row,) = CsvReader([lines[0], lines[1]], TRANSACTIONS)
    assert isinstance(row, Record)
    wire = made.to_wire()["attributes"]
    for key in ("userId", "amount", "subtotal", "mcc", "cardBIN", "merchant"):
        assert row.event[key] == wire[key], key
    assert row.event["id"] == made.id


def test_csv_from_standard_input_keeps_unknown_outcomes_apart(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    header = "id,userId,transactionId,status,amount,currency,description,direction,cardBIN"
    header += ",cardLastFour,settledDate,merchant.name"
    when = WHEN.isoformat().replace("+00:00", "Z")  # as the library writes it back
    rows = [
        f"s-{n},u{n % 3},st-{n},SETTLED,{700 + n},USD,BURGER,DEBIT,411111,1111,{when},Harbor Burger"
        for n in range(600)
    ]
    # One request at a time: the first one's answer is lost (its 500 were recorded).
    kard_server.emulator.inject(
        Fault(kind="drop_after", method="POST", path="/transactions$", times=1)
    )

    result = run_cli(
        *("transactions", "upload", "-", "--exclude-unknown", "--concurrency", "1"),
        *("--max-retries", "0"),
        server=kard_server,
        stdin="\n".join([header, *rows]) + "\n",  # told to be CSV by its header
        cwd=tmp_path,
    )

    assert result.returncode == 1, result.stderr
    assert summary(result.stdout)["failed"] == "500 (outcome unknown: 500 not recorded: 0)"
    assert summary(result.stdout)["accepted"] == "100"
    assert not (tmp_path / "failed.csv").exists()
    unknown = tmp_path / "failed.unknown.csv"
    assert "500 transaction(s) failed with an unknown outcome" in result.stdout
    written = list(csv.reader(io.StringIO(unknown.read_text())))
    assert written[0] == header.split(",")
    assert written[1] == rows[0].split(",")
    assert [row[0] for row in written[1:]] == [f"s-{n}" for n in range(500)]

    # They were recorded: sent again, each is refused as already received, never twice.
    again = run_cli("transactions", "upload", str(unknown), server=kard_server)
    assert again.returncode == 1, again.stderr
    assert summary(again.stdout)["invalid"] == "500"
    assert max(recorded(kard_server).values()) == 1
    assert len(recorded(kard_server)) == 600
