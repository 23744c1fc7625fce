"""``kard-async transactions upload-file`` and ``kard-async files list|download``: real
subprocesses against the emulator."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from test_cli import run_cli

from kard_async.cli._app import main
from kard_async.testing import EmulatorServer
from kard_async.testing._files_seed import report_content
from kard_async.transfer import encode_line


def transaction(n: int) -> dict[str, object]:
    return {
        "type": "transaction",
        "id": f"t-{n}",
        "attributes": {
            "userId": "u1",
            "transactionId": f"t-{n}",
            "amount": 100 + n,
            "status": "SETTLED",
            "currency": "USD",
            "description": "coffee",
            "direction": "DEBIT",
            "paymentType": "CARD",
            "cardBIN": "123456",
            "cardLastFour": "4242",
            "settledDate": "2025-01-31T09:00:00Z",
        },
    }


def jsonl(count: int) -> bytes:
    return b"".join(encode_line(transaction(n)) for n in range(count))


def values(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("files", "bytes", "lines", "elapsed", "MB/s"):
            found[key] = value
    return found


@pytest.mark.parametrize(
    "command",
    [
        ["transactions"],
        ["transactions", "upload-file"],
        ["files"],
        ["files", "list"],
        ["files", "download"],
    ],
)
def test_help_has_examples(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "example" in capsys.readouterr().out


def test_one_transactions_group_holds_upload_and_upload_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["transactions"]) == 2  # no subcommand: the group's own help
    listed = capsys.readouterr().err
    commands = re.findall(r"^    (\S+)", listed, re.MULTILINE)
    assert commands == ["upload", "upload-file"]


def test_upload_file_gzips_a_jsonl_file_with_byte_progress(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "daily-2025-01-31.jsonl"
    path.write_bytes(jsonl(300))
    result = run_cli("transactions", "upload-file", str(path), server=kard_server)
    assert result.returncode == 0, result.stderr
    (stored,) = kard_server.emulator.received_files
    assert stored.filename == "daily-2025-01-31.jsonl.gz"
    assert stored.gzip
    assert stored.lines_accepted == 300
    assert stored.upload_type == "incomingTransactionsFile"
    summary = values(result.stdout)
    assert summary["files"] == "1"
    assert summary["lines"] == "300"
    assert summary["bytes"].startswith(f"{stored.size:,} ")
    assert stored.upload_id in result.stdout
    assert "uploading (bytes):" in result.stderr
    assert "MB/s" in result.stderr


def test_upload_file_from_standard_input_rolls_over(kard_server: EmulatorServer) -> None:
    result = run_cli(
        "transactions",
        "upload-file",
        "-",
        "--historical",
        "--no-compress",
        "--filename",
        "backfill.jsonl",
        "--max-part-bytes",
        "20KB",
        server=kard_server,
        stdin=jsonl(200).decode(),
    )
    assert result.returncode == 0, result.stderr
    stored = kard_server.emulator.received_files
    assert len(stored) >= 2
    assert [f.filename for f in stored][:2] == ["backfill.jsonl", "backfill-0001.jsonl"]
    assert {f.upload_type for f in stored} == {"historicalTransactionsFile"}
    assert sum(f.lines_accepted for f in stored) == 200
    assert all(f.size <= 20_000 and not f.gzip for f in stored)
    assert values(result.stdout)["files"] == str(len(stored))


def test_upload_file_errors(kard_server: EmulatorServer, tmp_path: Path) -> None:
    missing = run_cli("transactions", "upload-file", str(tmp_path / "no.jsonl"), server=kard_server)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    (tmp_path / "x.csv").write_text("a\n")
    wrong = run_cli("transactions", "upload-file", str(tmp_path / "x.csv"), server=kard_server)
    assert wrong.returncode == 2
    assert ".jsonl or .jsonl.gz" in wrong.stderr
    kard_server.emulator.max_upload_bytes = 100
    (tmp_path / "y.jsonl").write_bytes(jsonl(20))
    refused = run_cli("transactions", "upload-file", str(tmp_path / "y.jsonl"), server=kard_server)
    assert refused.returncode == 1
    assert "EntityTooLarge" in refused.stderr
    assert "X-Amz-Signature" not in refused.stderr + refused.stdout
    assert not kard_server.emulator.received_files


def test_files_list_table_and_json(kard_server: EmulatorServer) -> None:
    table = run_cli(
        "files",
        "list",
        "--type",
        "monthlyReconciliationFile",
        "--from",
        "2020-01-01",
        server=kard_server,
    )
    assert table.returncode == 0, table.stderr
    assert "3 file(s)" in table.stdout
    assert table.stdout.count("monthly-reconciliation-") == 3
    lines = run_cli("files", "list", "--limit", "4", "--json", server=kard_server)
    assert lines.returncode == 0, lines.stderr
    items = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(items) == 4
    assert set(items[0]) == {"type", "id", "attributes"}
    assert {"fileName", "sentAt", "lastModified", "downloadUrl"} <= set(items[0]["attributes"])
    sent = [item["attributes"]["sentAt"] for item in items]
    assert sent == sorted(sent, reverse=True)


def test_files_download_latest_and_by_id(kard_server: EmulatorServer, tmp_path: Path) -> None:
    latest = run_cli(
        "files",
        "download",
        "--latest",
        "--type",
        "monthlyReconciliationFile",
        str(tmp_path),
        server=kard_server,
    )
    assert latest.returncode == 0, latest.stderr
    (path,) = tmp_path.iterdir()
    assert latest.stdout.strip() == str(path)
    listed = run_cli("files", "list", "--limit", "1", "--json", server=kard_server)
    item = json.loads(listed.stdout)
    target = tmp_path / "one.jsonl.gz"
    by_id = run_cli("files", "download", item["id"], str(target), server=kard_server)
    assert by_id.returncode == 0, by_id.stderr
    body = report_content(("reports", item["id"], item["attributes"]["fileName"]))
    assert body is not None
    assert target.read_bytes() == body
    assert gzip.decompress(path.read_bytes()).count(b"\n") == 20_000
    both = run_cli("files", "download", "x", "--latest", str(tmp_path), server=kard_server)
    assert both.returncode == 2
    unknown = run_cli("files", "download", "nope", str(tmp_path), server=kard_server)
    assert unknown.returncode == 1
    assert "no file with id 'nope'" in unknown.stderr
