"""What Kard sends back once it has processed a daily transaction file: a result file, and
a ``fileProcessingResult`` notification (API reference §13) pointing at it.

Kard documents the notification (``fileName``, ``sentAt``, ``lastModified``,
``downloadUrl``) but not the result file's content. The emulator's, gzipped JSONL, is an
assumption: a summary line, then one line per rejected line it recorded (the first 100)::

    {"fileName": "daily.jsonl.gz", "uploadId": "...", "linesAccepted": 998,
     "linesRejected": 2, "error": null}
    {"line": 17, "reason": "amount must be a non-negative integer number of cents, got None"}
"""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import msgspec

from ._jsonapi import format_datetime
from ._records import ReceivedFile

if TYPE_CHECKING:
    from ._emulator import KardEmulator
    from ._storage import ObjectStore

EVENT = "fileProcessingResult"
_RESULTS = "results"
_encode = msgspec.json.Encoder().encode


def result_key(file: ReceivedFile) -> tuple[str, ...]:
    """The store's key of ``file``'s result: beside the upload, under ``results/``."""
    return (_RESULTS, file.organization_id, file.upload_id, file.filename)


def result_content(store: ObjectStore, key: tuple[str, ...]) -> bytes | None:
    """The result file at ``key`` (gzipped JSONL), or None when there is none."""
    if len(key) != 4 or key[0] != _RESULTS:
        return None
    file = store.received(("uploads", *key[1:]))
    if file is None:
        return None
    summary = {
        "fileName": file.filename,
        "uploadId": file.upload_id,
        "linesAccepted": file.lines_accepted,
        "linesRejected": file.lines_rejected,
        "error": file.error,
    }
    lines = [summary, *({"line": line, "reason": reason} for line, reason in file.rejections)]
    return gzip.compress(b"".join(_encode(line) + b"\n" for line in lines), mtime=0)


def notify_processed(emulator: KardEmulator, host: str, file: ReceivedFile) -> None:
    """Send ``fileProcessingResult`` to the subscribers of ``file``'s organization, with a
    presigned download URL of its result (valid ``download_url_ttl`` seconds)."""
    now = datetime.now(timezone.utc)
    url = emulator._store.presign(
        "GET", host, result_key(file), emulator.download_url_ttl, now.timestamp()
    )
    stamp = format_datetime(now)
    emulator.notify(
        EVENT,
        {"fileName": file.filename, "sentAt": stamp, "lastModified": stamp, "downloadUrl": url},
        organization_id=file.organization_id,
    )
