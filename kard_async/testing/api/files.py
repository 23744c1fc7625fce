"""Files (API reference §7.4, §10): presigned upload URLs and the files Kard sends.

The URLs point at the emulator's own object store (``_storage``), on the host the request
was sent to.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from .._constants import (
    FILE_SORTS,
    FILE_TYPES,
    FILE_UPLOAD_TYPES,
    MAX_FILES_PAGE_SIZE,
    MAX_UPLOAD_URLS,
)
from .._files_seed import FILES, SeedFile
from .._jsonapi import (
    ApiError,
    Page,
    canonical_query,
    error_object,
    format_datetime,
    invalid_parameter,
)
from .._routing import Call, Document, route
from .._storage import UploadSession

_ORG = "/v2/issuers/{org}"


def _host(call: Call) -> str:
    return call.headers.get("Host") or "127.0.0.1"


@route("POST", f"{_ORG}/transactions/uploads")
def create_upload_urls(call: Call) -> Document:
    files = _validate_uploads(call.json())
    emulator = call.emulator
    ttl = emulator.upload_url_ttl
    now = time.time()
    data = []
    for kind, filename in files:
        upload_id = secrets.token_urlsafe(18)
        emulator._store.open_session(UploadSession(call.organization_id, upload_id, kind, filename))
        key = ("uploads", call.organization_id, upload_id, filename)
        url = emulator._store.presign("PUT", _host(call), key, ttl, now)
        data.append(
            {
                "type": kind,
                "id": upload_id,
                "attributes": {"url": url, "expiresIn": max(0, int(ttl))},
            }
        )
    return {"data": data}


def _validate_uploads(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ApiError(400, "request body must be an object with a 'data' array", pointer="/data")
    items = body["data"]
    if not 1 <= len(items) <= MAX_UPLOAD_URLS:
        raise ApiError(
            400,
            f"data must hold 1 to {MAX_UPLOAD_URLS} files, got {len(items)}",
            pointer="/data",
        )
    errors: list[dict[str, Any]] = []
    files: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        where = f"/data/{index}"
        if not isinstance(item, dict):
            errors.append(error_object(400, "each file must be an object", pointer=where))
            continue
        kind = item.get("type")
        if kind not in FILE_UPLOAD_TYPES:
            errors.append(
                error_object(
                    400,
                    f"type {kind!r} is not allowed; allowed values: "
                    + ", ".join(FILE_UPLOAD_TYPES),
                    pointer=f"{where}/type",
                )
            )
        attributes = item.get("attributes")
        filename = attributes.get("filename") if isinstance(attributes, dict) else None
        if not isinstance(filename, str) or not filename or "/" in filename:
            errors.append(
                error_object(
                    400,
                    "attributes.filename is required: a file name with its extension, "
                    "e.g. transaction_12345.jsonl",
                    pointer=f"{where}/attributes/filename",
                )
            )
        if isinstance(kind, str) and isinstance(filename, str):
            files.append((kind, filename))
    if errors:
        raise ApiError(400, errors=errors)
    return files


# --------------------------------------------------------------------------- metadata

_FILTERS = ("filter[dateFrom]", "filter[dateTo]", "filter[fileType]", "sort")


def _moment(name: str, value: str | None, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:  # a date: the whole day
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid_parameter(
            name, f"{name} must be an ISO-8601 date or date-time, got {value!r}"
        ) from None
    if moment.tzinfo is None:
        raise invalid_parameter(name, f"{name} must carry a timezone, got {value!r}")
    return moment


def _file_resource(call: Call, file: SeedFile, now: float) -> dict[str, Any]:
    url = call.emulator._store.presign(
        "GET",
        _host(call),
        ("reports", file.id, file.file_name),
        call.emulator.download_url_ttl,
        now,
    )
    attributes: dict[str, Any] = {
        "fileName": file.file_name,
        "sentAt": format_datetime(file.sent_at),
        "lastModified": format_datetime(file.last_modified),
        "downloadUrl": url,
    }
    if file.period_start is not None and file.period_end is not None:
        attributes["periodStart"] = format_datetime(file.period_start)
        attributes["periodEnd"] = format_datetime(file.period_end)
    return {"type": file.type, "id": file.id, "attributes": attributes}


@route("GET", f"{_ORG}/files/metadata")
def files_metadata(call: Call) -> Document:
    params = call.params
    now = datetime.now(timezone.utc)
    since = _moment("filter[dateFrom]", params.single("filter[dateFrom]"), end_of_day=False)
    until = _moment("filter[dateTo]", params.single("filter[dateTo]"), end_of_day=True)
    since = since or now - timedelta(days=30)
    until = until or now
    if since > until:
        raise invalid_parameter("filter[dateFrom]", "filter[dateFrom] is after filter[dateTo]")
    kind = params.single("filter[fileType]")
    if kind is not None and kind not in FILE_TYPES:
        raise invalid_parameter(
            "filter[fileType]",
            f"filter[fileType] value {kind!r} is not allowed; allowed values: "
            + ", ".join(FILE_TYPES),
        )
    sort = params.single("sort") or "-sentDate"
    if sort not in FILE_SORTS:
        raise invalid_parameter(
            "sort", f"sort value {sort!r} is not allowed; allowed values: " + ", ".join(FILE_SORTS)
        )
    files = [
        file
        for file in FILES
        if since <= file.sent_at <= until and (kind is None or file.type == kind)
    ]
    if sort.startswith("-"):
        files.reverse()
    page = Page(params, len(files), max_size=MAX_FILES_PAGE_SIZE)
    stamp = time.time()
    return {
        "data": [_file_resource(call, file, stamp) for file in files[page.start : page.end]],
        "links": page.links(call.raw_path, canonical_query(params, _FILTERS)),
        "meta": {"pageSize": page.size, "hasNextPage": page.end < page.total},
    }
