"""``kard-async users upload``: CSV and JSONL files (and standard input) enrolled against the
emulator, with progress, summary, exit codes and --failed-out as ``attributions upload``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kard_async.cli import main
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
)

ORG = TEST_ORGANIZATION_ID
ROOT = Path(__file__).resolve().parent.parent


def connection(server: EmulatorServer) -> list[str]:
    return [
        *("--base-url", server.base_url, "--client-id", TEST_CLIENT_ID),
        *("--client-secret", TEST_CLIENT_SECRET, "--organization-id", ORG),
        "--plain",
    ]


def summary(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("accepted", "failed", "invalid", "requests", "users/s"):
            found[key] = value.replace(",", "")
    return found


CSV = """\
id,enrolledRewards,email,phoneNumbers,historicalTransactionsSent,postalCodes
c1,CARDLINKED,c1@example.com,+14155552671:MOBILE;+12125550188,true,11238:PHYSICAL
c2,CARDLINKED,,,,
c3,MYSTERY,,,,
c4,CARDLINKED,,4155552671,,
c5,CARDLINKED,,,maybe,
"c6,CARDLINKED
old,CARDLINKED,,,,
c7,,,,,
"""


def test_csv_upload_enrolls_and_writes_what_was_not_enrolled(
    kard_server: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = kard_server.emulator
    emulator.enroll_user("old")
    source = tmp_path / "users.csv"
    source.write_text(CSV)

    status = main(["users", "upload", str(source), *connection(kard_server)])
    out, err = capsys.readouterr()
    assert status == 1
    assert summary(out) == {
        "accepted": "3",
        "failed": "0 (outcome unknown: 0 not recorded: 0)",
        "invalid": "5",
        "requests": "1 (1 accepted 0 failed)",
        "users/s": summary(out)["users/s"],
    }
    assert "5 invalid user(s) (line: reason):" in err
    for line, reason in (
        (4, "server: enrolledRewards value 'MYSTERY' is not allowed"),
        (5, "invalid phoneNumbers[0].number='4155552671': must be an E.164 phone number"),
        (6, "historicalTransactionsSent 'maybe' is not true or false"),
        (7, "not valid CSV: unclosed quote"),
        (8, "server: User 'old' already exists"),
    ):
        assert f"  line {line}: {reason}" in err
    failed = tmp_path / "users.failed.csv"
    assert f"kard-async users upload {failed}" in out
    assert sorted(failed.read_text().splitlines()[1:]) == sorted(
        [
            "c3,MYSTERY,,,,",
            "c4,CARDLINKED,,4155552671,,",
            "c5,CARDLINKED,,,maybe,",
            '"c6,CARDLINKED',
            "old,CARDLINKED,,,,",
        ]
    )
    assert failed.read_text().splitlines()[0] == CSV.splitlines()[0]
    users = emulator.users
    assert set(users) == {(ORG, "old"), (ORG, "c1"), (ORG, "c2"), (ORG, "c7")}
    assert users[ORG, "c1"] == {
        "enrolledRewards": ["CARDLINKED"],
        "email": "c1@example.com",
        "historicalTransactionsSent": True,
        "phoneNumbers": [{"number": "+14155552671", "type": "MOBILE"}, {"number": "+12125550188"}],
        "postalCodes": [{"code": "11238", "type": "PHYSICAL"}],
    }
    assert users[ORG, "c7"] == {"enrolledRewards": []}

    # Fixed, the failed-out file is sent again with the same command; what still fails
    # (the user enrolled before) replaces it.
    fixed = (
        failed.read_text().replace("MYSTERY", "CARDLINKED").replace(",4155552671", ",+14155552671")
    )
    failed.write_text(
        fixed.replace("maybe", "false").replace('"c6,CARDLINKED', "c6,CARDLINKED,,,,")
    )
    status = main(["users", "upload", str(failed), *connection(kard_server)])
    out, err = capsys.readouterr()
    assert status == 1
    assert summary(out)["accepted"] == "4"
    assert failed.read_text().splitlines()[1:] == ["old,CARDLINKED,,,,"]


def test_jsonl_upload_all_enrolled_exits_0_and_writes_nothing(
    kard_server: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "users.jsonl"
    lines = [{"id": f"j{n}", "enrolledRewards": ["CARDLINKED"]} for n in range(250)]
    lines[7] = {"type": "user", "id": "j7", "attributes": {"enrolledRewards": ["CARDLINKED"]}}
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    status = main(["users", "upload", str(source), "--concurrency", "2", *connection(kard_server)])
    out, _ = capsys.readouterr()
    assert status == 0
    assert summary(out)["accepted"] == "250"
    assert summary(out)["requests"] == "3 (3 accepted 0 failed)"
    assert not (tmp_path / "users.failed.jsonl").exists()
    assert len(kard_server.emulator.users) == 250


def test_unknown_outcomes_are_kept_apart(
    kard_server: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kard_server.emulator.inject(Fault("drop_after", method="POST", path=r"/users$", times=1))
    source = tmp_path / "users.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"u{n}", "enrolledRewards": []}) + "\n" for n in range(150))
    )
    status = main(
        [
            "users",
            "upload",
            str(source),
            "--exclude-unknown",
            "--concurrency",
            "1",
            *connection(kard_server),
        ]
    )
    out, _ = capsys.readouterr()
    assert status == 1
    assert summary(out)["failed"] == "100 (outcome unknown: 100 not recorded: 0)"
    unknown = (tmp_path / "users.unknown.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in unknown] == [f"u{n}" for n in range(100)]
    assert json.loads(unknown[0]) == {"id": "u0", "enrolledRewards": []}
    assert not (tmp_path / "users.failed.jsonl").exists()
    assert f"were added to {tmp_path / 'users.unknown.jsonl'}" in out
    # They were in fact enrolled: the answer was lost, not the request.
    assert len(kard_server.emulator.users) == 150


def test_standard_input_is_told_from_its_first_line(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KARD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "kard_async", "users", "upload", "-", *connection(kard_server)],
        input="id,enrolledRewards\ns1,CARDLINKED\ns2,\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["accepted"] == "2"
    assert set(kard_server.emulator.users) == {(ORG, "s1"), (ORG, "s2")}


def test_a_csv_header_without_the_required_columns_is_a_usage_error(
    kard_server: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "users.csv"
    source.write_text("id,email\nu1,a@example.com\n")
    assert main(["users", "upload", str(source), *connection(kard_server)]) == 2
    assert "the CSV header lacks enrolledRewards" in capsys.readouterr().err
    assert kard_server.emulator.requests == []
