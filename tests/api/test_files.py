"""Daily transaction files and reconciliation reports against the emulator (§7.4, §10, §16):
presigned upload URLs, streamed uploads (gzip on the fly, spooling, rollover, retries from
the start, expired and tampered URLs), the files list, downloads and streams."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import logging
import os
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from kard_async import AsyncKard, InvalidParameterError, Kard, ResponseInfo
from kard_async.models import FileMetadata, FileUploadRequest, UploadUrl
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    Fault,
    KardEmulator,
    RecordedRequest,
)
from kard_async.testing._files_seed import FILES, report_content
from kard_async.transfer import (
    FileDownloadError,
    FileUploadError,
    SourceChangedError,
    UploadProgress,
    encode_line,
)

STORE = "/kard-files/"


def tx(n: int, user: str = "user-1") -> dict[str, Any]:
    """A valid ``transaction`` item in wire form."""
    return {
        "type": "transaction",
        "id": f"txn-{n:06d}",
        "attributes": {
            "userId": user,
            "transactionId": f"txn-{n:06d}",
            "amount": 1000 + n,
            "status": "SETTLED",
            "currency": "USD",
            "description": f"purchase number {n} at a merchant with a long description",
            "direction": "DEBIT",
            "paymentType": "CARD",
            "cardBIN": "123456",
            "cardLastFour": "4242",
            "settledDate": "2025-01-31T12:00:00Z",
        },
    }


def ids(count: int, start: int = 0) -> list[str]:
    return [f"txn-{n:06d}" for n in range(start, start + count)]


def puts(emulator: KardEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "PUT" and r.path.startswith(STORE)]


def url_requests(emulator: KardEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.path.endswith("/transactions/uploads")]


def pipe_of(data: bytes) -> tuple[io.FileIO, threading.Thread]:
    """The read end of a pipe a thread fills with ``data``: readable once, not seekable."""
    read, write = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write, data), os.close(write)))
    writer.start()
    return open(read, "rb", buffering=0), writer


def names_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def write_jsonl(path: Path, count: int) -> bytes:
    data = b"".join(encode_line(tx(n), n) for n in range(count))
    path.write_bytes(data)
    return data


# --------------------------------------------------------------------------- upload URLs


async def test_upload_urls_one_per_file_with_the_wire_types(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    urls = await kard.transactions.upload_urls(
        [
            ("daily.jsonl.gz", "incoming"),
            ("backfill.jsonl", "historical"),
            FileUploadRequest(filename="more.jsonl.gz"),
        ]
    )
    assert [url.type for url in urls] == [
        "incomingTransactionsFile",
        "historicalTransactionsFile",
        "incomingTransactionsFile",
    ]
    assert [url.kind for url in urls] == ["incoming", "historical", "incoming"]
    assert all(isinstance(url, UploadUrl) and url.expires_in == 900 for url in urls)
    assert len({url.id for url in urls}) == 3
    assert all(
        url.url.startswith("http://127.0.0.1:") and "X-Amz-Signature=" in url.url for url in urls
    )
    (request,) = url_requests(kard_emulator)
    assert msgspec.json.decode(request.body) == {
        "data": [
            {"type": "incomingTransactionsFile", "attributes": {"filename": "daily.jsonl.gz"}},
            {"type": "historicalTransactionsFile", "attributes": {"filename": "backfill.jsonl"}},
            {"type": "incomingTransactionsFile", "attributes": {"filename": "more.jsonl.gz"}},
        ]
    }
    # A presigned URL is a capability: never shown in a repr.
    assert "X-Amz-Signature" not in repr(urls)
    assert "<signature hidden>" in repr(urls[0])


@pytest.mark.parametrize(
    ("files", "parameter"),
    [
        ([], "files"),
        ([("f.jsonl", "incoming")] * 11, "files"),
        ("daily.jsonl", "files"),
        ([("a/b.jsonl", "incoming")], "files[0].filename"),
        ([("", "incoming")], "files[0].filename"),
        ([("ok.jsonl", 7)], "files[0].kind"),
        (["ok.jsonl"], "files[0]"),
    ],
)
async def test_upload_urls_refuses_bad_input_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator, files: Any, parameter: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await kard.transactions.upload_urls(files)
    assert caught.value.parameter == parameter
    assert not url_requests(kard_emulator)


async def test_a_kind_this_version_does_not_know_is_sent_as_given(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(Exception, match="correctionTransactionsFile"):
        await kard.transactions.upload_urls([("x.jsonl", "correctionTransactionsFile")])
    (request,) = url_requests(kard_emulator)
    assert b'"type":"correctionTransactionsFile"' in request.body


# --------------------------------------------------------------------------- uploads


async def test_transactions_are_written_as_gzipped_jsonl_and_checked_by_the_store(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(headers={"X-Team": "payments"})
    seen: list[UploadProgress] = []
    result = await kard.transactions.upload_file(
        (tx(n) for n in range(500)), filename="daily.jsonl.gz", on_progress=seen.append
    )
    (part,) = result.parts
    assert (part.filename, part.lines, part.first_line, part.attempts) == (
        "daily.jsonl.gz",
        500,
        0,
        1,
    )
    assert part.upload_type == "incomingTransactionsFile"
    assert result.ids == [part.upload_id]
    assert result.lines == 500
    (stored,) = kard_emulator.received_files
    assert (stored.upload_id, stored.filename, stored.gzip) == (
        part.upload_id,
        "daily.jsonl.gz",
        True,
    )
    assert (stored.size, stored.lines_accepted, stored.lines_rejected) == (part.bytes, 500, 0)
    assert list(stored.transaction_ids or ()) == ids(500)
    (put,) = puts(kard_emulator)
    headers = {key.lower(): value for key, value in put.headers.items()}
    assert "authorization" not in headers  # the presigned URL is the only credential
    assert "x-team" not in headers  # the client's extra headers are for Kard's API only
    assert headers["content-length"] == str(part.bytes)
    assert headers.get("content-type", "application/octet-stream") == "application/octet-stream"
    assert "transfer-encoding" not in headers
    (url_request,) = url_requests(kard_emulator)
    assert url_request.headers["X-Team"] == "payments"
    phases = [p.phase for p in seen]
    assert "preparing" in phases
    assert phases[-1] == "uploading"
    assert seen[-1].bytes == seen[-1].total == part.bytes
    assert seen[-1].sent == 0  # bytes of the parts before this one


async def test_models_with_to_wire_are_written_by_the_same_line_writer(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    class Model:
        def __init__(self, n: int) -> None:
            self.n = n

        def to_wire(self) -> dict[str, Any]:
            return tx(self.n)

    async def items() -> AsyncIterator[Any]:
        for n in range(300):
            yield Model(n) if n % 2 else tx(n)

    result = await kard.transactions.upload_file(items(), compress=False, filename="mixed.jsonl")
    (stored,) = kard_emulator.received_files
    assert not stored.gzip
    assert result.lines == 300
    assert stored.lines_accepted == 300
    assert list(stored.transaction_ids or ()) == ids(300)


async def test_a_jsonl_gz_file_is_sent_byte_for_byte(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    raw = b"".join(encode_line(tx(n)) for n in range(200))
    path = tmp_path / "daily-2025-01-31.jsonl.gz"
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=12345))
    result = await kard.transactions.upload_file(path)
    (part,) = result.parts
    assert part.filename == "daily-2025-01-31.jsonl.gz"
    assert part.lines is None  # a gzip file is not read, only sent
    (stored,) = kard_emulator.received_files
    assert stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored.size == path.stat().st_size == part.bytes
    assert stored.lines_accepted == 200


async def test_a_presigned_url_is_never_kept_in_the_url_cache(
    kard: AsyncKard, tmp_path: Path
) -> None:
    from kard_async._transport import _api_url

    path = tmp_path / "daily.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(encode_line(tx(n)) for n in range(3))))
    paths: set[str] = set()
    client = kard.with_options(on_response=lambda info: paths.add(info.path))
    _api_url.cache_clear()
    result = await client.transactions.upload_file(path)
    assert result.parts[0].bytes == path.stat().st_size
    api = {p for p in paths if p.startswith("/v2/")}
    assert api  # the API calls
    assert paths - api  # and the presigned PUT
    assert _api_url.cache_info().currsize == len(api)  # only the API calls' URLs are kept


async def test_a_jsonl_file_is_gzipped_or_sent_as_is(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    data = write_jsonl(tmp_path / "daily.jsonl", 250)
    gzipped = await kard.transactions.upload_file(str(tmp_path / "daily.jsonl"))
    plain = await kard.transactions.upload_file(tmp_path / "daily.jsonl", compress=False)
    assert gzipped.filenames == ["daily.jsonl.gz"]
    assert plain.filenames == ["daily.jsonl"]
    assert gzipped.lines == 250
    assert plain.lines is None  # sent as is: not read
    first, second = kard_emulator.received_files
    assert first.gzip
    assert first.lines_accepted == 250
    assert first.size < len(data)
    assert not second.gzip
    assert second.sha256 == hashlib.sha256(data).hexdigest()


async def test_binary_file_objects_seekable_or_not(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    data = b"".join(encode_line(tx(n)) for n in range(100))
    await kard.transactions.upload_file(io.BytesIO(data), compress=False, filename="a.jsonl")
    await kard.transactions.upload_file(io.BytesIO(gzip.compress(data)), filename="b.jsonl.gz")
    pipe, writer = pipe_of(data)
    with pipe:
        result = await kard.transactions.upload_file(pipe, filename="c.jsonl.gz")
    writer.join()
    assert result.lines == 100
    a, b, c = kard_emulator.received_files
    assert (a.filename, a.gzip, a.sha256) == ("a.jsonl", False, hashlib.sha256(data).hexdigest())
    assert (b.filename, b.gzip, b.lines_accepted) == ("b.jsonl.gz", True, 100)
    assert (c.filename, c.gzip, c.lines_accepted) == ("c.jsonl.gz", True, 100)


# --- failures, retried from the start ---


async def test_a_drop_mid_put_is_retried_from_the_first_byte(
    kard: AsyncKard, kard_emulator: KardEmulator, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="kard_async")
    kard_emulator.inject(Fault(kind="drop_mid_body", method="PUT", path=STORE))
    # A one-shot generator: spooled, so the retry can send the same bytes again.
    result = await kard.transactions.upload_file(
        (tx(n) for n in range(3000)), filename="x.jsonl.gz"
    )
    assert len(puts(kard_emulator)) == 2
    (part,) = result.parts
    assert part.attempts == 2
    (stored,) = kard_emulator.received_files
    assert stored.size == part.bytes
    assert list(stored.transaction_ids or ()) == ids(3000)
    # aiohttp names the URL in its message: the retry log shows its path, not its query.
    assert "retrying PUT /kard-files/uploads/" in caplog.text
    assert "X-Amz" not in caplog.text


async def test_a_pipe_is_spooled_so_a_failed_put_can_be_repeated(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="status", status=500, method="PUT", path=STORE))
    data = b"".join(encode_line(tx(n)) for n in range(1000))
    pipe, writer = pipe_of(data)
    with pipe:
        result = await kard.transactions.upload_file(pipe, compress=False, filename="piped.jsonl")
    writer.join()
    assert len(puts(kard_emulator)) == 2
    assert result.parts[0].attempts == 2
    (stored,) = kard_emulator.received_files
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


async def test_a_put_that_keeps_failing_reports_what_did_not_get_through(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator, caplog: Any
) -> None:
    kard = make_kard(max_retries=1)
    kard_emulator.inject(Fault(kind="status", status=500, method="PUT", path=STORE, times=None))
    caplog.set_level(logging.DEBUG, logger="kard_async")
    with pytest.raises(FileUploadError) as caught:
        await kard.transactions.upload_file([tx(n) for n in range(10)], filename="f.jsonl.gz")
    error = caught.value
    assert error.uploaded == ()
    assert error.failed_filename == "f.jsonl.gz"
    assert error.resume_from == 0
    assert error.outcome_unknown
    assert "HTTP 500 InternalError" in str(error)
    assert "nothing was uploaded" in str(error)
    assert len(puts(kard_emulator)) == 2
    # The URL's signature appears nowhere: not in the error, not in the retry log.
    assert "X-Amz-Signature" not in str(error)
    assert "X-Amz" not in caplog.text
    assert "/kard-files/uploads/" in caplog.text


async def test_the_store_refusing_for_another_reason_is_not_retried(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.max_upload_bytes = 1000
    with pytest.raises(FileUploadError) as caught:
        await kard.transactions.upload_file(
            [tx(n) for n in range(50)], compress=False, filename="big.jsonl"
        )
    assert "EntityTooLarge" in str(caught.value)
    assert not caught.value.outcome_unknown
    assert len(puts(kard_emulator)) == 1
    assert not kard_emulator.received_files


async def test_an_expired_url_is_replaced_before_it_is_used(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard_emulator.upload_url_ttl = 0  # the first URL is born expired

    def renew(info: ResponseInfo) -> None:
        if info.path.endswith("/transactions/uploads"):
            kard_emulator.upload_url_ttl = 900

    kard = make_kard(on_response=renew)
    result = await kard.transactions.upload_file([tx(1)], filename="one.jsonl.gz")
    assert len(url_requests(kard_emulator)) == 2
    assert len(puts(kard_emulator)) == 1
    assert kard_emulator.received_files[0].upload_id == result.ids[0]


async def test_a_url_the_store_refuses_as_expired_is_replaced(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard_emulator.clock_skew = 3600.0  # the store's clock is an hour ahead

    def settle(info: ResponseInfo) -> None:
        if info.method == "PUT" and info.status == 403:
            kard_emulator.clock_skew = 0.0

    kard = make_kard(on_response=settle)
    result = await kard.transactions.upload_file([tx(1), tx(2)], filename="two.jsonl.gz")
    first, second = puts(kard_emulator)
    assert first.path != second.path  # a new upload session, a new URL
    assert len(url_requests(kard_emulator)) == 2
    (stored,) = kard_emulator.received_files
    assert stored.upload_id == result.ids[0]
    assert stored.lines_accepted == 2


async def test_urls_that_keep_expiring_end_the_upload(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.upload_url_ttl = 0
    with pytest.raises(FileUploadError, match=r"expired .* 4 times in a row"):
        await kard.transactions.upload_file([tx(1)], filename="one.jsonl.gz")
    assert not puts(kard_emulator)


async def test_the_store_refuses_tampered_and_expired_urls_like_s3(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    (url,) = await kard.transactions.upload_urls([("t.jsonl", "incoming")])
    body = encode_line(tx(1))
    tampered = url.url.replace("X-Amz-Expires=900", "X-Amz-Expires=90000")
    other_file = url.url.replace("/t.jsonl?", "/u.jsonl?")
    async with aiohttp.ClientSession() as session:

        async def put(target: str, **headers: str) -> tuple[int, str]:
            async with session.put(target, data=body, headers=headers) as response:
                return response.status, await response.text()

        for target in (tampered, other_file):
            status, text = await put(target)
            assert status == 403
            assert "<Code>SignatureDoesNotMatch</Code>" in text
        status, text = await put(url.url, **{"Content-Type": "application/json"})
        assert status == 403
        assert "SignatureDoesNotMatch" in text  # a header it was not signed for
        status, text = await put(url.url, Authorization="Bearer x")
        assert status == 400
        assert "InvalidArgument" in text
        kard_emulator.clock_skew = 901.0
        status, text = await put(url.url)
        assert status == 403
        assert "<Message>Request has expired</Message>" in text
        kard_emulator.clock_skew = 0.0

        async def chunks() -> AsyncIterator[bytes]:
            yield body

        async with session.put(url.url, data=chunks()) as response:  # chunked
            assert response.status == 501
            assert "Transfer-Encoding" in await response.text()
        assert not kard_emulator.received_files
        status, _ = await put(url.url)
        assert status == 200
    assert kard_emulator.received_files[0].lines_accepted == 1


async def test_the_store_records_rejected_lines(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    bad_status = tx(2)
    bad_status["attributes"]["status"] = "PENDING"
    no_amount = tx(3)
    del no_amount["attributes"]["amount"]
    await kard.transactions.upload_file(
        [tx(1), bad_status, no_amount, tx(4)], filename="mixed.jsonl.gz"
    )
    (stored,) = kard_emulator.received_files
    assert (stored.lines_accepted, stored.lines_rejected) == (2, 2)
    assert [line for line, _ in stored.rejections] == [2, 3]
    assert "status 'PENDING'" in stored.rejections[0][1]
    assert "amount" in stored.rejections[1][1]


# --- rollover ---


async def test_rollover_past_a_small_part_limit_reports_every_part(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    result = await kard.transactions.upload_file(
        (tx(n) for n in range(2000)), filename="day.jsonl.gz", max_part_bytes=8_000
    )
    count = len(result.parts)
    assert count >= 3
    assert result.filenames == ["day.jsonl.gz"] + [f"day-{n:04d}.jsonl.gz" for n in range(1, count)]
    assert all(part.bytes <= 8_000 for part in result.parts)
    assert len(set(result.ids)) == count
    assert result.lines == 2000
    starts = [part.first_line for part in result.parts]
    assert starts[0] == 0
    for before, part in zip(result.parts, result.parts[1:], strict=False):
        assert part.first_line == (before.first_line or 0) + (before.lines or 0)
    stored = kard_emulator.received_files
    assert [f.filename for f in stored] == result.filenames
    received = [i for f in stored for i in (f.transaction_ids or ())]
    assert received == ids(2000)  # every line once, in order, none split
    assert [f.lines_accepted for f in stored] == [part.lines for part in result.parts]


async def test_a_failed_part_tells_which_lines_did_not_get_through(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    kard = make_kard(max_retries=0)
    kard_emulator.inject(Fault(kind="status", status=500, method="PUT", path=STORE, skip=1))
    with pytest.raises(FileUploadError) as caught:
        await kard.transactions.upload_file(
            (tx(n) for n in range(2000)), filename="day.jsonl.gz", max_part_bytes=8_000
        )
    error = caught.value
    (first,) = error.uploaded
    assert error.failed_filename == "day-0001.jsonl.gz"
    assert error.resume_from == first.lines
    assert f"holding lines 1 to {first.lines}" in str(error)
    assert [f.filename for f in kard_emulator.received_files] == ["day.jsonl.gz"]


async def test_a_bad_item_after_a_part_was_uploaded(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    def items() -> Iterator[Any]:
        yield from (tx(n) for n in range(1500))
        yield {"type": "transaction", "attributes": {}}  # no id

    with pytest.raises(FileUploadError) as caught:
        await kard.transactions.upload_file(items(), filename="d.jsonl.gz", max_part_bytes=8_000)
    assert isinstance(caught.value.__cause__, InvalidParameterError)
    assert caught.value.__cause__.parameter == "items[1500].id"
    assert caught.value.uploaded
    assert caught.value.resume_from == sum(part.lines or 0 for part in caught.value.uploaded)


# --- input checked before anything is sent ---


@pytest.mark.parametrize(
    ("source", "kwargs", "parameter", "message"),
    [
        ([{"type": "transaction", "id": "", "attributes": {}}], {}, "items[0].id", "non-empty"),
        ([tx(1), {"id": "x", "attributes": {}}], {}, "items[1].type", "non-empty string"),
        ([tx(1), "text"], {}, "items[1]", "to_wire"),
        ([{"type": "t", "id": "i", "attributes": {"d": object()}}], {}, "items[0]", "JSON"),
        ([], {}, "source", "nothing to upload"),
        ({"type": "transaction"}, {}, "source", "one mapping"),
        (b"{}\n", {}, "source", "BytesIO"),
        (io.StringIO("{}\n"), {}, "source", "binary mode"),
        (42, {}, "source", "iterable"),
        ([tx(1)], {"filename": "x.jsonl"}, "filename", ".jsonl.gz"),
        ([tx(1)], {"filename": "x.jsonl.gz", "compress": False}, "filename", ".jsonl"),
        ([tx(1)], {"filename": "dir/x.jsonl.gz"}, "filename", "without directories"),
        ([tx(1)], {"kind": ""}, "kind", "incoming"),
        ([tx(1)], {"compress": "yes"}, "compress", "True or False"),
        ([tx(1)], {"max_part_bytes": 0}, "max_part_bytes", "from 1 to"),
        ([tx(1)], {"max_part_bytes": 6 * 10**9}, "max_part_bytes", "5000000000"),
        ([tx(1)], {"max_part_bytes": 100}, "max_part_bytes", "line 1 alone"),
        ([tx(1)], {"on_progress": 3}, "on_progress", "callable"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    kard: AsyncKard,
    kard_emulator: KardEmulator,
    source: Any,
    kwargs: dict[str, Any],
    parameter: str,
    message: str,
) -> None:
    with pytest.raises(InvalidParameterError, match=message) as caught:
        await kard.transactions.upload_file(source, **kwargs)
    assert caught.value.parameter == parameter
    assert not url_requests(kard_emulator)
    assert not puts(kard_emulator)


async def test_bad_paths_are_refused_before_anything_is_sent(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "fake.jsonl.gz").write_bytes(b"{}\n")
    (tmp_path / "data.csv").write_bytes(b"a,b\n")
    write_jsonl(tmp_path / "big.jsonl", 50)
    cases = [
        (tmp_path / "missing.jsonl", {}, "cannot be read"),
        (tmp_path / "empty.jsonl", {}, "empty"),
        (tmp_path / "fake.jsonl.gz", {}, "not gzipped"),
        (tmp_path / "data.csv", {}, ".jsonl or .jsonl.gz"),
        (tmp_path, {}, ".jsonl or .jsonl.gz"),
        (tmp_path / "big.jsonl", {"compress": False, "max_part_bytes": 1000}, "more than one"),
    ]
    for path, kwargs, message in cases:
        with pytest.raises(InvalidParameterError, match=message):
            await kard.transactions.upload_file(path, **kwargs)
    assert not url_requests(kard_emulator)


async def test_a_file_that_changes_while_it_is_sent_is_not_sent_again(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "growing.jsonl"
    write_jsonl(path, 12_000)  # several read chunks
    assert path.stat().st_size > 3 << 20

    def truncate(progress: UploadProgress) -> None:
        if progress.phase == "uploading" and progress.attempt == 1 and not progress.bytes:
            with open(path, "r+b") as file:  # the first attempt has just started
                file.truncate(1000)

    with pytest.raises(FileUploadError) as caught:
        await kard.transactions.upload_file(path, compress=False, on_progress=truncate)
    assert isinstance(caught.value.__cause__, SourceChangedError)
    assert "changed while it was being uploaded" in str(caught.value)
    assert not kard_emulator.received_files


@pytest.mark.parametrize("phase", ["preparing", "uploading"])
async def test_an_on_progress_that_raises_stops_the_upload_with_its_error(
    kard: AsyncKard, kard_emulator: KardEmulator, phase: str
) -> None:
    class Stop(Exception):
        pass

    def on_progress(progress: UploadProgress) -> None:
        if progress.phase == phase:
            raise Stop(phase)

    with pytest.raises(Stop, match=phase):
        await kard.transactions.upload_file([tx(n) for n in range(100)], on_progress=on_progress)
    assert not kard_emulator.received_files
    assert len(puts(kard_emulator)) <= 1  # never retried


async def test_the_event_loop_keeps_running_during_an_upload(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="latency", delay=0.2, method="PUT", path=STORE))
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.ensure_future(ticker())
    await kard.transactions.upload_file((tx(n) for n in range(20_000)), filename="big.jsonl.gz")
    done.set()
    await task
    assert ticks > 0  # other tasks ran while the upload encoded, compressed and sent
    assert kard_emulator.received_files[0].lines_accepted == 20_000


# --------------------------------------------------------------------------- files list


def in_window(days: int = 30) -> list[Any]:
    now = datetime.now(timezone.utc)
    return [f for f in FILES if now - timedelta(days=days) <= f.sent_at <= now]


async def test_list_pages_through_every_file_newest_first(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    expected = sorted(in_window(), key=lambda f: (f.sent_at, f.id), reverse=True)
    page = await kard.files.list(page_size=7)
    assert len(page.data) == 7
    assert page.meta.page_size == 7
    assert page.meta.has_next_page
    assert page.has_next_page()
    assert page.next_cursor
    items = [item async for item in kard.files.list(page_size=7)]
    assert [item.id for item in items] == [f.id for f in expected]
    first = items[0]
    assert isinstance(first, FileMetadata)
    assert first.file_name == expected[0].file_name
    assert first.sent_at == expected[0].sent_at
    assert first.last_modified > first.sent_at
    assert first.period_start is not None
    assert first.period_end is not None
    assert first.download_url.startswith("http://127.0.0.1:")
    assert "X-Amz-Signature" not in repr(first)
    pages = [r for r in kard_emulator.requests if r.path.endswith("/files/metadata")]
    assert len(pages) == 1 + -(-len(expected) // 7)


async def test_list_filters_on_the_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    since = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    await kard.files.list(
        date_from=since,
        date_to=date(2025, 3, 1),
        file_type="monthlyReconciliationFile",
        sort="sentDate",
        page_size=100,
    )
    (request,) = [r for r in kard_emulator.requests if r.path.endswith("/files/metadata")]
    assert request.query_string == (
        "filter[dateFrom]=2025-01-02T01%3A04%3A05Z&filter[dateTo]=2025-03-01"
        "&filter[fileType]=monthlyReconciliationFile&sort=sentDate&page[size]=100"
    )
    monthly = [
        item
        async for item in kard.files.list(
            date_from=datetime.now(timezone.utc) - timedelta(days=120),
            file_type="monthlyReconciliationFile",
            sort="sentDate",
        )
    ]
    assert len(monthly) == 3
    assert monthly[0].sent_at < monthly[-1].sent_at
    assert {item.type for item in monthly} == {"monthlyReconciliationFile"}


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"date_from": datetime(2025, 1, 1)}, "date_from"),
        ({"date_to": "2025-01-01"}, "date_to"),
        ({"date_from": date(2025, 2, 1), "date_to": date(2025, 1, 1)}, "date_to"),
        ({"after": "a", "before": "b"}, "before"),
        ({"file_type": ""}, "file_type"),
    ],
)
async def test_list_refuses_bad_input(
    kard: AsyncKard, kard_emulator: KardEmulator, kwargs: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        kard.files.list(**kwargs)
    assert caught.value.parameter == parameter
    assert not kard_emulator.requests


# --------------------------------------------------------------------------- downloads


async def latest(kard: AsyncKard, file_type: str = "monthlyReconciliationFile") -> FileMetadata:
    page = await kard.files.list(
        date_from=datetime.now(timezone.utc) - timedelta(days=60),
        file_type=file_type,  # type: ignore[arg-type]
    )
    return page.data[0]


def content_of(file: FileMetadata) -> bytes:
    body = report_content(("reports", file.id, file.file_name))
    assert body is not None
    return body


def store_gets(emulator: KardEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "GET" and r.path.startswith(STORE)]


async def test_download_to_a_directory_or_a_path(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    file = await latest(kard)
    seen: list[Any] = []
    path = await kard.files.download(file, tmp_path, on_progress=seen.append)
    assert path == tmp_path / file.file_name
    assert path.read_bytes() == content_of(file)
    assert gzip.decompress(path.read_bytes()).count(b"\n") == 20_000
    assert seen[-1].bytes == seen[-1].total == len(content_of(file))
    other = await kard.files.download(file, tmp_path / "renamed.jsonl.gz")
    assert other.read_bytes() == content_of(file)
    assert names_in(tmp_path) == sorted([file.file_name, "renamed.jsonl.gz"])
    (get, _) = store_gets(kard_emulator)
    assert "Authorization" not in get.headers


async def test_a_broken_download_is_retried_from_the_start(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    file = await latest(kard)
    kard_emulator.inject(Fault(kind="truncate", method="GET", path=STORE))
    path = await kard.files.download(file, tmp_path)
    assert path.read_bytes() == content_of(file)
    assert len(store_gets(kard_emulator)) == 2


async def test_a_failed_download_leaves_nothing_behind(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    kard = make_kard(max_retries=0)
    file = await latest(kard)
    (tmp_path / file.file_name).write_bytes(b"previous")
    kard_emulator.inject(Fault(kind="truncate", method="GET", path=STORE))
    with pytest.raises(Exception, match=r"connection failed|received"):
        await kard.files.download(file, tmp_path)
    assert names_in(tmp_path) == [file.file_name]  # no temporary file
    assert (tmp_path / file.file_name).read_bytes() == b"previous"  # untouched


async def test_an_expired_download_url_is_renewed(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    kard_emulator.download_url_ttl = 0

    def renew(info: ResponseInfo) -> None:
        if info.path.endswith("/files/metadata"):
            kard_emulator.download_url_ttl = 1800

    kard = make_kard(on_response=renew)
    file = await latest(kard)
    path = await kard.files.download(file, tmp_path)
    assert path.read_bytes() == content_of(file)
    listings = [r for r in kard_emulator.requests if r.path.endswith("/files/metadata")]
    assert len(listings) == 2
    assert len(store_gets(kard_emulator)) == 1
    assert "filter[fileType]=monthlyReconciliationFile" in listings[1].query_string


async def test_a_download_url_refused_as_expired_is_renewed(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    def settle(info: ResponseInfo) -> None:
        if info.method == "GET" and info.status == 403:
            kard_emulator.clock_skew = 0.0

    kard = make_kard(on_response=settle)
    file = await latest(kard)
    kard_emulator.clock_skew = 7200.0
    path = await kard.files.download(file, tmp_path)
    assert path.read_bytes() == content_of(file)
    assert len(store_gets(kard_emulator)) == 2


async def test_a_download_refused_for_another_reason(
    kard: AsyncKard, kard_emulator: KardEmulator, tmp_path: Path
) -> None:
    file = await latest(kard)
    forged = msgspec.structs.replace(
        file,
        attributes=msgspec.structs.replace(
            file.attributes,
            download_url=file.download_url.replace("X-Amz-Signature=", "X-Amz-Signature=0"),
        ),
    )
    with pytest.raises(FileDownloadError, match="SignatureDoesNotMatch") as caught:
        await kard.files.download(forged, tmp_path)
    assert "X-Amz-Signature" not in str(caught.value)
    assert not names_in(tmp_path)


async def test_stream_gives_the_bytes_once_even_across_a_retry(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    file = await latest(kard)
    kard_emulator.inject(Fault(kind="truncate", method="GET", path=STORE))
    chunks = [chunk async for chunk in kard.files.stream(file)]
    assert len(chunks) > 1
    assert b"".join(chunks) == content_of(file)
    inflate = zlib.decompressobj(31)
    lines = sum(inflate.decompress(chunk).count(b"\n") for chunk in chunks)
    assert lines == 20_000


async def test_stopping_a_stream_early_ends_the_download(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    file = await latest(kard)
    stream = kard.files.stream(file)
    first = await stream.__anext__()
    await stream.aclose()  # type: ignore[attr-defined]
    assert first == content_of(file)[: len(first)]
    assert not [t for t in asyncio.all_tasks() if "_fetch" in repr(t)]


def test_the_blocking_client_lists_downloads_and_streams(
    kard_server: EmulatorServer, tmp_path: Path
) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        page = kard.files.list(page_size=3)
        assert len(page.data) == 3
        file = page.data[0]
        path = kard.files.download(file, tmp_path)
        streamed = b"".join(kard.files.stream(file))
    assert path.read_bytes() == streamed == content_of(file)


def test_connection_errors_never_show_a_url_query() -> None:
    from kard_async._transport import _connection_error
    from kard_async.transfer._presigned import IGNORE_BODY, presigned_call

    url = "http://127.0.0.1:9/kard-files/uploads/o/u/f.jsonl.gz?X-Amz-Signature=abc123&X-Amz-Date=1"
    call = presigned_call("PUT", url, IGNORE_BODY)
    aiohttp_error = aiohttp.ClientOSError(32, f"Can not write request body for {url}")
    error = _connection_error(call, aiohttp_error)
    assert "abc123" not in str(error)
    assert "X-Amz" not in str(error)
    assert "http://127.0.0.1:9/kard-files/uploads/o/u/f.jsonl.gz" in str(error)
    assert error.path == "/kard-files/uploads/o/u/f.jsonl.gz"
