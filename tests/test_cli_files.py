"""The command line's event-file readers and writers, and index-to-line mapping (in process)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from kard_async.cli._eventfiles import (
    CsvReader,
    CsvWriter,
    JsonlReader,
    JsonlWriter,
    Malformed,
    Record,
    default_failed_path,
    detect_format,
)
from kard_async.cli._settings import UsageError
from kard_async.cli._stream import LineMap
from kard_async.models import AttributionState, OfferAttribution


def test_jsonl_reader_lines_bom_crlf_blank_and_flat_state() -> None:
    data = (
        b'\xef\xbb\xbf{"userId": "u1", "type": "offerAttribution", "entityId": "o1"}\r\n'
        b"\n"
        b"   \n"
        b"[1, 2]\n"
        b'{"type": "offerAttribution"}\n'
        b'{"userId": "u2", "type": "offerAttribution", "rank": 3, "slotId": "s"}'
    )
    items = list(JsonlReader(io.BytesIO(data)))
    assert [item.line for item in items] == [1, 4, 5, 6]
    first, array, no_user, flat = items
    assert isinstance(first, Record)
    assert first.user_id == "u1"
    assert isinstance(array, Malformed)
    assert array.reason == "expected a JSON object, got list"
    assert array.raw == b"[1, 2]"
    assert isinstance(no_user, Malformed)
    assert no_user.reason == 'no "userId"'
    assert isinstance(flat, Record)
    assert flat.event["state"] == {"rank": 3, "slotId": "s"}  # CSV-style columns, nested
    assert "rank" not in flat.event


def test_csv_reader_reads_each_line_on_its_own() -> None:
    data = (
        b"userId,type,entityId,eventCode,medium,eventDate,rank,extra\n"
        b'u1,offerAttribution,"multi\nline",VIEW,MAP,2025-01-01T00:00:00Z,2,x\n'
        b"\n"
        b"u2,offerAttribution,o2,VIEW,MAP,2025-01-01T00:00:00Z,,\r\n"
        b"u3,offerAttribution,o3\n"
        b"u4,offerAttribution,o4,VIEW,MAP,2025-01-01T00:00:00Z,two,\n"
        b"u5,offerAttribution,o5,VIEW,MAP,\xff\xfe,,\n"
        b'u6,offerAttribution,"o6"x,VIEW,MAP,2025-01-01T00:00:00Z,,\n'
        b'u7,offerAttribution,"o,7",VIEW,MAP,2025-01-01T00:00:00Z,,'
    )
    reader = CsvReader(io.BytesIO(data))
    assert reader.unknown_columns == ["extra"]
    items = list(reader)
    assert [item.line for item in items] == [2, 3, 5, 6, 7, 8, 9, 10]
    records = {item.line: item for item in items if isinstance(item, Record)}
    assert set(records) == {5, 10}
    assert "state" not in records[5].event
    assert records[10].event["entityId"] == "o,7"
    reasons = {item.line: item.reason for item in items if isinstance(item, Malformed)}
    # A quoted field cannot span lines: the line with the open quote is malformed, and the
    # next line is read on its own (here: too few columns), never swallowed.
    assert reasons == {
        2: "not valid CSV: unclosed quote (a quoted field cannot span lines)",
        3: "expected 8 columns, got 6",
        6: "expected 8 columns, got 3",
        7: "rank 'two' is not an integer",
        8: "not valid UTF-8",
        9: "not valid CSV: ',' expected after '\"'",
    }
    raw = {item.line: item.raw for item in items if isinstance(item, Malformed)}
    assert raw[2] == b'u1,offerAttribution,"multi'  # as read, for the failed-out file
    assert raw[8] == b"u5,offerAttribution,o5,VIEW,MAP,\xff\xfe,,"


def test_csv_reader_needs_the_required_columns() -> None:
    with pytest.raises(UsageError, match="lacks medium, eventDate"):
        CsvReader(io.BytesIO(b"userId,type,entityId,eventCode\n"))
    with pytest.raises(UsageError, match="the file is empty"):
        CsvReader(io.BytesIO(b""))


def test_writers_round_trip_failed_events() -> None:
    event = OfferAttribution(
        entity_id="o1",
        event_code="VIEW",
        medium="BROWSE",
        event_date=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        state=AttributionState(rank=4, placement_id="p1"),
    )
    jsonl = io.BytesIO()
    JsonlWriter(jsonl).write_event("u1", event)
    (record,) = list(JsonlReader(io.BytesIO(jsonl.getvalue())))
    assert isinstance(record, Record)
    assert record.event == {
        "userId": "u1",
        "type": "offerAttribution",
        "entityId": "o1",
        "eventCode": "VIEW",
        "medium": "BROWSE",
        "eventDate": "2025-01-02T03:04:05Z",
        "state": {"rank": 4, "placementId": "p1"},
    }

    header = [
        "userId",
        "type",
        "entityId",
        "eventCode",
        "medium",
        "eventDate",
        "rank",
        "placementId",
    ]
    out = io.BytesIO()
    writer = CsvWriter(out, header)
    writer.write_event("u1", event)
    writer.write_given("u2", {"type": "offerAttribution", "entityId": "o2", "medium": "X"})
    writer.flush()
    assert out.getvalue().decode().splitlines() == [
        ",".join(header),
        "u1,offerAttribution,o1,VIEW,BROWSE,2025-01-02T03:04:05Z,4,p1",
        "u2,offerAttribution,o2,,X,,,",
    ]


def test_line_map_stores_only_the_jumps() -> None:
    lines = LineMap()
    # header on line 1, events on lines 2-4, a bad line 5, events on 6-8, a blank line 9, 10
    for index, line in enumerate([2, 3, 4, 6, 7, 8, 10]):
        lines.add(index, line)
    assert [lines.line(index) for index in range(7)] == [2, 3, 4, 6, 7, 8, 10]
    assert len(lines._indexes) == 3


def test_formats_and_default_failed_paths() -> None:
    assert detect_format("a/events.JSONL", None) == "jsonl"
    assert detect_format("events.csv", None) == "csv"
    assert detect_format("-", None) is None  # told from the first line: sniff_format
    assert detect_format("events.txt", "csv") == "csv"
    with pytest.raises(UsageError, match="--format"):
        detect_format("events.txt", None)
    assert str(default_failed_path("data/events.jsonl", "jsonl")) == "data/events.failed.jsonl"
    assert str(default_failed_path("-", "csv")) == "failed.csv"
    # Sending a failed-out file again writes what still fails to the same file.
    assert str(default_failed_path("d/x.failed.jsonl", "jsonl")) == "d/x.failed.jsonl"
