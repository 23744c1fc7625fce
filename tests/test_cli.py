"""End-to-end tests of the ``kard-async`` command line: real subprocesses against the emulator."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOOD_CATEGORY_ID = "65920081b524d126068de24a"
CITY_HALL = ("39.9526", "-75.1652")


def cli_env(
    server: EmulatorServer | None = None, *, plain: bool = True, **extra: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KARD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "200"  # rich: wide tables when not writing to a terminal
    if plain:
        env["KARD_ASYNC_PLAIN"] = "1"
    if server is not None:
        env.update(
            KARD_BASE_URL=server.base_url,
            KARD_CLIENT_ID=TEST_CLIENT_ID,
            KARD_CLIENT_SECRET=TEST_CLIENT_SECRET,
            KARD_ORGANIZATION_ID=TEST_ORGANIZATION_ID,
        )
    env.update(extra)
    return env


def run_cli(
    *args: str,
    server: EmulatorServer | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kard_async", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env if env is not None else cli_env(server),
        cwd=cwd,
        timeout=60,
        check=False,
    )


def summary(stdout: str) -> dict[str, str]:
    """The ``key: value`` lines of a plain summary, numbers without thousands separators."""
    found = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("accepted", "failed", "invalid", "requests", "elapsed", "events/s"):
            found[key] = value.replace(",", "")
    return found


def event(user: str, entity: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "userId": user,
        "type": "offerAttribution",
        "entityId": entity,
        "eventCode": "VIEW",
        "medium": "SEARCH",
        "eventDate": "2025-01-01T00:00:00Z",
    }
    base.update(overrides)
    return base


def as_data(line: str) -> Any:
    """A JSONL line's object, or the line itself when it is not JSON."""
    try:
        return json.loads(line)
    except ValueError:
        return line


def canonical(lines: list[str]) -> list[str]:
    return sorted(json.dumps(as_data(line), sort_keys=True) for line in lines)


def recorded_entities(server: EmulatorServer) -> Counter[str]:
    return Counter(
        str(e.attributes["entityId"])
        for e in server.emulator.attribution_events
        if e.source == "attributions"
    )


# --------------------------------------------------------------------------- demo, serve, help


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_demo_walks_through_every_section(plain: bool) -> None:
    result = run_cli("demo", "--events", "3000", "--users", "300", env=cli_env(plain=plain))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in (
        "1. Locations within 2 miles of Philadelphia City Hall",
        '2. Offers in "Food & Beverage"',
        "3. Activating an offer",
        "4. Bulk upload: 3,000 attribution events from 300 users",
        "The emulator recorded 3,000 events: each accepted event exactly once.",
        "kard-async serve",
    ):
        assert section in out
    assert "Harbor Burger" in out
    assert " mi" in out
    assert "ACTIVATE event via CTA" in out
    if plain:
        assert summary(out)["accepted"] == "3000"
        assert "name\taddress\tdistance\toffers" in out
    else:
        assert "┃ name" in out
        assert "━" in out


def test_serve_rejects_a_bad_fault_spec() -> None:
    result = run_cli("serve", "--port", "0", "--fault", "explode", env=cli_env())
    assert result.returncode == 2
    assert "kard-async: error: --fault 'explode'" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["serve"],
        ["locations"],
        ["offers"],
        ["attributions"],
        ["attributions", "upload"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = run_cli(*command, "--help", env=cli_env())
    assert result.returncode == 0, result.stderr
    assert "example" in result.stdout
    assert "usage: kard-async" in result.stdout


def test_usage_errors_exit_2(kard_server: EmulatorServer, tmp_path: Path) -> None:
    no_credentials = cli_env(None, KARD_BASE_URL=kard_server.base_url)
    result = run_cli("offers", "u1", env=no_credentials)
    assert result.returncode == 2
    assert "missing --client-id (or KARD_CLIENT_ID)" in result.stderr
    assert run_cli("locations", "u1", "--lat", "39.95", server=kard_server).returncode == 2
    # Enum values are open: one this version does not know goes to the server, which decides.
    result = run_cli("offers", "u1", "--channel", "MAIL", server=kard_server)
    assert result.returncode == 1
    assert "HTTP 400" in result.stderr
    assert "'MAIL'" in result.stderr or "MAIL" in result.stderr
    assert (
        run_cli(
            "attributions", "upload", str(tmp_path / "nope.jsonl"), server=kard_server
        ).returncode
        == 2
    )
    (tmp_path / "events.txt").write_text("{}\n")
    result = run_cli("attributions", "upload", str(tmp_path / "events.txt"), server=kard_server)
    assert result.returncode == 2
    assert "--format" in result.stderr
    (tmp_path / "events.csv").write_text("userId,type,entityId\nu1,offerAttribution,o1\n")
    result = run_cli("attributions", "upload", str(tmp_path / "events.csv"), server=kard_server)
    assert result.returncode == 2
    assert "lacks eventCode, medium, eventDate" in result.stderr
    assert kard_server.emulator.attribution_event_count == 0


def test_api_errors_exit_1_without_leaking_the_secret(kard_server: EmulatorServer) -> None:
    env = cli_env(kard_server, KARD_CLIENT_SECRET="s3cret-value")
    result = run_cli("offers", "u1", env=env)
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr
    assert "s3cret-value" not in result.stderr + result.stdout


# --------------------------------------------------------------------------- lookups


def test_locations_table(kard_server: EmulatorServer) -> None:
    result = run_cli(
        "locations", "u1", "--lat", CITY_HALL[0], "--lon", CITY_HALL[1], "--radius", "2",
        "--limit", "12", "--page-size", "5", server=kard_server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == ["name", "address", "distance", "category", "offers"]
    assert len(rows) == 12
    cells = [row.split("\t") for row in rows]
    distances = [float(cell[2].removesuffix(" mi")) for cell in cells]
    assert distances == sorted(distances)
    assert distances[-1] <= 2.05
    assert all(re.search(r"; Philadelphia, PA 191\d\d$", cell[1]) for cell in cells)
    assert all(re.fullmatch(r"(\$\d+\.\d\d|[\d.]+%) back", cell[4]) for cell in cells)
    pages = [r for r in kard_server.emulator.requests if r.path.endswith("/locations")]
    assert len(pages) == 3  # 5 + 5 + 2, walked with the pager, stopped at --limit


def test_locations_json_lines(kard_server: EmulatorServer) -> None:
    result = run_cli(
        "locations", "u1", "--lat", CITY_HALL[0], "--lon", CITY_HALL[1], "--limit", "3",
        "--json", server=kard_server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines] == ["location"] * 3
    assert {"street", "city", "state", "zipCode"} <= set(lines[0]["attributes"]["address"])
    assert "operationHours" in lines[0]["attributes"]

    result = run_cli(
        "locations", "u1", "--lat", CITY_HALL[0], "--lon", CITY_HALL[1], "--limit", "3",
        "--json", "--include", "offers,categories", server=kard_server,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    locations = [line for line in lines if line["type"] == "location"]
    offers = {line["id"] for line in lines if line["type"] == "standardOffer"}
    categories = {line["id"] for line in lines if line["type"] == "category"}
    assert len(locations) == 3
    # Exactly the side-loaded resources the printed locations refer to, each once.
    relationships = [location["relationships"] for location in locations]
    assert offers == {o["id"] for r in relationships for o in r["offers"]["data"]}
    assert categories == {c["id"] for r in relationships for c in r["category"]["data"]}
    assert len(lines) == 3 + len(offers) + len(categories)
    assert lines[0]["type"] == "location"
    assert lines[1]["id"] in {o["id"] for o in relationships[0]["offers"]["data"]}


def test_offers_table_and_json(kard_server: EmulatorServer) -> None:
    result = run_cli("offers", "u1", "--category", "Food & Beverage", server=kard_server)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == ["name", "reward", "channels", "category", "targeted", "expires"]
    assert len(rows) == 8
    assert all(row.split("\t")[3] == "Food & Beverage" for row in rows)

    result = run_cli(
        "offers", "u1", "--not-targeted", "--channel", "ONLINE", "--sort", "-name", "--json",
        server=kard_server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    offers = [json.loads(line) for line in result.stdout.splitlines()]
    assert offers
    assert all(o["type"] == "standardOffer" for o in offers)
    # Fields equal to a model default are kept: JSON consumers see what the API sent.
    assert all(o["attributes"]["isTargeted"] is False for o in offers)
    assert all("ONLINE" in o["attributes"]["purchaseChannel"] for o in offers)
    names = [o["attributes"]["name"] for o in offers]
    assert names == sorted(names, reverse=True)

    result = run_cli(
        "offers", "u1", "--search", "pizza", "--json", "--limit", "1", server=kard_server
    )
    (offer,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert offer["relationships"]["category"]["data"][0]["id"] == FOOD_CATEGORY_ID


def test_rich_tables_and_the_plain_fallback(kard_server: EmulatorServer, tmp_path: Path) -> None:
    args = ("offers", "u1", "--category", "Gas")
    rich = run_cli(*args, env=cli_env(kard_server, plain=False))
    assert rich.returncode == 0, rich.stderr
    assert "┃ name" in rich.stdout
    assert "Blue Mile Fuel" in rich.stdout
    assert "\t" not in rich.stdout
    flag = run_cli(*args, "--plain", env=cli_env(kard_server, plain=False))
    assert flag.stdout.splitlines()[0] == "name\treward\tchannels\tcategory\ttargeted\texpires"
    # Without rich installed (an import that fails), the same command prints plain rows.
    blocked = tmp_path / "no-rich" / "rich"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('rich is not installed')\n")
    env = cli_env(kard_server, plain=False)
    env["PYTHONPATH"] = os.pathsep.join([str(blocked.parent), env["PYTHONPATH"]])
    fallback = run_cli(*args, env=env)
    assert fallback.returncode == 0, fallback.stderr
    assert fallback.stdout == flag.stdout


# --------------------------------------------------------------------------- uploads

USERS = [f"u{n}" for n in range(6)]
PER_USER = 40


def _jsonl_fixture() -> tuple[list[str], dict[str, dict[str, Any]], dict[int, str]]:
    """6 users x 40 valid events, interleaved (each user is one request of 40), and three
    invalid lines. Returns the lines, the valid events by entity id, and invalid lines."""
    lines: list[str] = []
    valid: dict[str, dict[str, Any]] = {}
    for i in range(PER_USER):
        for user in USERS:
            extra = {"state": {"rank": i + 1}} if i % 4 == 0 else {}
            item = event(
                user, f"{user}-offer-{i}", eventDate=f"2025-01-{1 + i % 28:02d}T10:00:00Z", **extra
            )
            valid[item["entityId"]] = item
            lines.append(json.dumps(item))
    invalid = {
        5: '{"userId": "u1", "type": "offerAttribution", "entityId": ',
        12: json.dumps(event("u2", "bad-medium", type="notificationAttribution", medium="MAP")),
        20: json.dumps(event("u3", "naive-date", eventDate="2025-01-01T00:00:00")),
    }
    for line_number, text in sorted(invalid.items()):
        lines.insert(line_number - 1, text)
    return lines, valid, invalid


def test_upload_jsonl_reports_failures_and_resends_them(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    lines, valid, invalid = _jsonl_fixture()
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    emulator = kard_server.emulator
    emulator.inject(Fault(kind="status", status=500, path="attributions$", times=1))
    emulator.inject(Fault(kind="drop_after", path="attributions$", times=1))
    emulator.inject(Fault(kind="status", status=503, path="attributions$", times=1))

    first = run_cli("attributions", "upload", str(source), "--max-retries", "0", server=kard_server)

    assert first.returncode == 1, first.stderr
    assert summary(first.stdout) | {"elapsed": "", "events/s": ""} == {
        "accepted": "120",
        "failed": "120 (outcome unknown: 80 not recorded: 40)",
        "invalid": "3",
        "requests": "6 (3 accepted 3 failed)",
        "elapsed": "",
        "events/s": "",
    }
    reported = re.findall(r"^  line (\d+): (.*)$", first.stderr, re.MULTILINE)
    assert [int(n) for n, _ in reported] == sorted(invalid)
    assert "not valid JSON" in reported[0][1]
    assert "medium='MAP'" in reported[1][1]
    assert "eventDate" in reported[2][1]
    assert "timezone" in reported[2][1]
    assert "HTTP 500" in first.stderr
    assert "HTTP 503" in first.stderr

    failed_out = tmp_path / "events.failed.jsonl"
    assert str(failed_out) in first.stdout
    written = failed_out.read_text().splitlines()
    assert len(written) == 120 + 3
    # The invalid lines as they were (the malformed one byte for byte), then the failed
    # events in the input's format, with the same content.
    assert written[0] == invalid[5]
    invalid_data = [as_data(text) for text in invalid.values()]
    assert [as_data(line) for line in written[1:3]] == invalid_data[1:]
    resent = [json.loads(line) for line in written[3:]]
    assert all(item == valid[item["entityId"]] for item in resent)
    failed_ids = {item["entityId"] for item in resent}

    recorded = recorded_entities(kard_server)
    assert max(recorded.values()) == 1  # nothing recorded twice
    accepted = set(recorded) - failed_ids
    dropped = set(recorded) & failed_ids  # processed, but the answer was lost
    assert len(accepted) == 120
    assert len(dropped) == PER_USER
    assert accepted | failed_ids == set(valid)
    assert len({valid[entity]["userId"] for entity in dropped}) == 1

    # Same command on the failed-out file, faults cleared: the failed events go through,
    # the invalid ones stay invalid.
    emulator.clear_faults()
    second = run_cli("attributions", "upload", str(failed_out), server=kard_server)
    assert second.returncode == 1, second.stderr
    counts = summary(second.stdout)
    assert (counts["accepted"], counts["invalid"], counts["failed"]) == (
        "120",
        "3",
        "0 (outcome unknown: 0 not recorded: 0)",
    )
    assert [n for n, _ in re.findall(r"^  line (\d+): (.*)$", second.stderr, re.MULTILINE)] == [
        "1",
        "2",
        "3",
    ]
    # What still fails replaces the file that was sent (no events.failed.failed.jsonl).
    assert not (tmp_path / "events.failed.failed.jsonl").exists()
    assert canonical(failed_out.read_text().splitlines()) == canonical(list(invalid.values()))
    assert "fix the invalid ones" in second.stdout
    recorded = recorded_entities(kard_server)
    assert set(recorded) == set(valid)
    assert {entity for entity, count in recorded.items() if count == 2} == dropped

    # A file of valid events only: exit 0, and no failed-out file.
    clean = tmp_path / "clean.jsonl"
    clean.write_text(
        "".join(json.dumps(event(f"c{i % 7}", f"clean-{i}")) + "\n" for i in range(150))
    )
    third = run_cli("attributions", "upload", str(clean), "--concurrency", "2", server=kard_server)
    assert third.returncode == 0, third.stderr
    assert summary(third.stdout)["accepted"] == "150"
    assert not (tmp_path / "clean.failed.jsonl").exists()


def test_upload_csv(kard_server: EmulatorServer, tmp_path: Path) -> None:
    header = [
        "userId",
        "type",
        "entityId",
        "eventCode",
        "medium",
        "eventDate",
        "rank",
        "placementId",
        "slotId",
    ]
    rows: list[list[str]] = []
    for i in range(10):
        for user in ("a", "b", "c"):
            rank = str(i + 1) if i % 2 else ""
            rows.append(
                [
                    user,
                    "offerAttribution",
                    f"{user}-{i}",
                    "IMPRESSION",
                    "BROWSE",
                    "2025-02-01T08:30:00Z",
                    rank,
                    "",
                    "",
                ]
            )
    rows.append(
        ["c", "placementSlotAttribution", "slot-1", "ACTIVATE", "CTA",
         "2025-02-01T08:30:00+01:00", "", "placement-1", "slot-1"]
    )  # fmt: skip
    offer = ["offerAttribution"]
    bad = {
        3: [
            "a",
            "notificationAttribution",
            "bad-medium",
            "VIEW",
            "MAP",
            "2025-02-01T08:30:00Z",
            "",
            "",
            "",
        ],
        9: ["b", *offer, "naive", "VIEW", "MAP", "2025-02-01T08:30:00", "", "", ""],
        15: ["b", *offer, "short-row", "VIEW"],
        20: ["c", *offer, "bad-rank", "VIEW", "MAP", "2025-02-01T08:30:00Z", "first", "", ""],
    }
    for line_number, row in sorted(bad.items()):
        rows.insert(line_number - 2, row)  # line 1 is the header
    source = tmp_path / "events.csv"
    with source.open("w", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    kard_server.emulator.inject(Fault(kind="status", status=500, path="attributions$", times=1))

    result = run_cli("attributions", "upload", str(source), server=kard_server)

    assert result.returncode == 1, result.stderr
    counts = summary(result.stdout)
    failed_count = int(counts["failed"].split()[0])
    assert failed_count in (10, 11)  # one user's request (user c has the slot event too)
    assert int(counts["accepted"]) + failed_count == 31
    assert counts["invalid"] == "4"
    lines = [int(n) for n in re.findall(r"^  line (\d+): ", result.stderr, re.MULTILINE)]
    assert lines == sorted(bad)
    with (tmp_path / "events.failed.csv").open(newline="") as stream:
        written_header, *written = list(csv.reader(stream))
    assert written_header == header
    failed_rows = [row for row in written if row not in bad.values()]
    assert len(failed_rows) == failed_count
    assert len(written) == failed_count + 4
    assert {tuple(row) for row in failed_rows} <= {tuple(row) for row in rows}
    assert sorted(map(tuple, written)) == sorted(  # exactly the failed and invalid rows
        {tuple(row) for row in failed_rows} | {tuple(row) for row in bad.values()}
    )
    recorded = recorded_entities(kard_server)
    assert max(recorded.values()) == 1
    assert set(recorded) == {row[2] for row in rows if row not in bad.values()} - {
        row[2] for row in failed_rows
    }


def test_upload_from_stdin(kard_server: EmulatorServer, tmp_path: Path) -> None:
    text = "".join(json.dumps(event(f"s{i % 3}", f"stdin-{i}")) + "\n" for i in range(30))
    text += "not json\n"
    result = run_cli("attributions", "upload", "-", server=kard_server, stdin=text, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert summary(result.stdout)["accepted"] == "30"
    assert "line 31: not valid JSON" in result.stderr
    assert (tmp_path / "failed.jsonl").read_text() == "not json\n"
    assert len(recorded_entities(kard_server)) == 30

    csv_text = (
        "userId,type,entityId,eventCode,medium,eventDate\n"
        "z,notificationAttribution,n1,VIEW,PUSH,2025-03-01T00:00:00Z\n"
    )
    result = run_cli(
        "attributions",
        "upload",
        "-",
        "--format",
        "csv",
        server=kard_server,
        stdin=csv_text,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert recorded_entities(kard_server)["n1"] == 1


@pytest.mark.parametrize("mode", ["rich", "--plain", "no-rich"])
def test_upload_output_modes(kard_server: EmulatorServer, tmp_path: Path, mode: str) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(
        "".join(json.dumps(event(f"m{i % 4}", f"mode-{i}")) + "\n" for i in range(40))
    )
    env = cli_env(kard_server, plain=False)
    args = ["attributions", "upload", str(source)]
    if mode == "--plain":
        args.append("--plain")
    elif mode == "no-rich":
        blocked = tmp_path / "no-rich" / "rich"
        blocked.mkdir(parents=True)
        (blocked / "__init__.py").write_text("raise ImportError('rich is not installed')\n")
        env["PYTHONPATH"] = os.pathsep.join([str(blocked.parent), env["PYTHONPATH"]])
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    if mode == "rich":
        assert re.search(r"^accepted\s+40\b", result.stdout, re.MULTILINE)
    else:
        assert summary(result.stdout)["accepted"] == "40"
    # stderr is not a terminal: plain progress lines even with rich, never a cut-off bar.
    assert "━" not in result.stderr
    assert re.search(r"^uploading: 40/40 \(100%\)  40 accepted", result.stderr, re.MULTILINE)
