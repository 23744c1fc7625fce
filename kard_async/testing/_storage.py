"""The emulator's object store: presigned URLs on the emulator's own host, S3-style.

``POST .../transactions/uploads`` hands out ``PUT`` URLs and ``GET .../files/metadata``
``GET`` URLs under ``/kard-files/``, each signed (HMAC-SHA256, a key of this emulator) over
its method, path, ``X-Amz-Date`` and ``X-Amz-Expires``. Like S3, the store refuses, with an
XML error body: a tampered URL (403 SignatureDoesNotMatch), an expired one (403
AccessDenied "Request has expired"), a chunked upload (501), one without Content-Length
(411), one larger than ``max_upload_bytes`` (400 EntityTooLarge), one that also carries an
``Authorization`` header (400), and a Content-Type the URL was not signed for (403).

A received file is read as it arrives (never held whole), decompressed when gzipped, and
each line checked (``_transaction_lines``); the outcome is recorded as a
:class:`~kard_async.testing.ReceivedFile`, and its result sent back as Kard does: a result
file under ``results/`` and a ``fileProcessingResult`` notification (``_file_results``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote, urlencode
from xml.sax.saxutils import escape

from aiohttp import web

from ._file_results import notify_processed, result_content
from ._records import ReceivedFile, RecordedRequest
from ._transaction_lines import check_line

if TYPE_CHECKING:
    from ._emulator import KardEmulator

PREFIX = "/kard-files/"
MAX_REJECTIONS = 100
MAX_RECORDED_IDS = 100_000
_READ = 1 << 20
_MAX_INFLATE = 4 << 20  # decompressed bytes per step: a small gzip may not balloon memory
_DATE = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class UploadSession:
    organization_id: str
    upload_id: str
    upload_type: str
    filename: str


class ObjectStore:
    """Signing keys, upload sessions and received files. Thread-safe."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._sessions: dict[str, UploadSession] = {}
        self._files: dict[tuple[str, ...], ReceivedFile] = {}

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._files.clear()

    # --- URLs ---

    def _signature(self, method: str, path: str, date: str, expires: str) -> str:
        text = "\n".join((method, path, date, expires)).encode()
        return hmac.new(self._secret, text, hashlib.sha256).hexdigest()

    def presign(self, method: str, host: str, key: tuple[str, ...], ttl: float, now: float) -> str:
        """A URL for ``method`` on the object ``key`` (path segments), valid ``ttl`` s."""
        path = PREFIX + "/".join(quote(segment, safe="") for segment in key)
        date = time.strftime(_DATE, time.gmtime(now))
        expires = str(max(0, int(ttl)))
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"kard-emulator/{date[:8]}/us-east-1/s3/aws4_request",
            "X-Amz-Date": date,
            "X-Amz-Expires": expires,
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._signature(method, path, date, expires),
        }
        return f"http://{host}{path}?{urlencode(query)}"

    def check(self, method: str, raw_path: str, query: str, now: float) -> web.Response | None:
        """None when the URL is genuine and live, else the store's refusal."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        date, expires = params.get("X-Amz-Date"), params.get("X-Amz-Expires")
        signature = params.get("X-Amz-Signature")
        if not (date and expires and signature):
            return s3_error(
                403,
                "AccessDenied",
                "Query-string authentication requires the X-Amz-Signature, X-Amz-Date and "
                "X-Amz-Expires parameters",
            )
        expected = self._signature(method, raw_path, date, expires)
        if not hmac.compare_digest(expected, signature):
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
            )
        try:
            signed = datetime.strptime(date, _DATE).replace(tzinfo=timezone.utc).timestamp()
            lifetime = int(expires)
        except ValueError:
            return s3_error(400, "AuthorizationQueryParametersError", "X-Amz-Date is invalid")
        if now > signed + lifetime:
            return s3_error(
                403,
                "AccessDenied",
                "Request has expired",
                X_Amz_Expires=expires,
                Expires=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(signed + lifetime)),
                ServerTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            )
        return None

    # --- uploads ---

    def open_session(self, session: UploadSession) -> None:
        with self._lock:
            self._sessions[session.upload_id] = session

    def session(self, upload_id: str) -> UploadSession | None:
        with self._lock:
            return self._sessions.get(upload_id)

    def store(self, key: tuple[str, ...], record: ReceivedFile) -> None:
        with self._lock:
            self._files.pop(key, None)  # a file stored again moves to the end
            self._files[key] = record

    def received(self, key: tuple[str, ...]) -> ReceivedFile | None:
        with self._lock:
            return self._files.get(key)

    @property
    def files(self) -> list[ReceivedFile]:
        with self._lock:
            return list(self._files.values())


def _fault_error(status: int) -> web.Response:
    code = {503: "SlowDown", 500: "InternalError"}.get(status, "InjectedFault")
    return s3_error(status, code, f"Injected fault: HTTP {status}")


def s3_error(status: int, code: str, message: str, **extra: str) -> web.Response:
    """An S3-style XML error response."""
    fields = "".join(
        f"<{name.replace('_', '-')}>{escape(value)}</{name.replace('_', '-')}>"
        for name, value in extra.items()
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return web.Response(status=status, text=body, content_type="application/xml")


# --- checking a received file, line by line, as it arrives ---


class FileCheck:
    """Decompresses (when gzipped) and checks each line of a file fed chunk by chunk."""

    def __init__(self, *, process: bool) -> None:
        self._process = process
        self._digest = hashlib.sha256()
        self._inflate: zlib._Decompress | None = None
        self._started = False
        self._carry = b""
        self.gzip = False
        self.size = 0
        self.line = 0
        self.accepted = 0
        self.rejections: list[tuple[int, str]] = []
        self.rejected = 0
        self.ids: list[str] | None = [] if process else None
        self.error: str | None = None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if not self._process:  # a throughput benchmark: count only
            return
        self._digest.update(chunk)
        if self.error is not None:
            return
        if not self._started:
            self._started = True
            self.gzip = chunk[:2] == b"\x1f\x8b"
            if self.gzip:
                self._inflate = zlib.decompressobj(31)
        if self._inflate is None:
            self._lines(chunk)
            return
        data = chunk
        while data and self.error is None:
            try:
                out = self._inflate.decompress(data, _MAX_INFLATE)
            except zlib.error as error:
                self.error = f"not a valid gzip stream: {error}"
                return
            self._lines(out)
            if self._inflate.eof:  # concatenated gzip members are one file
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(31) if data else self._inflate
            else:
                data = self._inflate.unconsumed_tail

    def finish(self) -> None:
        if not self._process or self.error is not None:
            return
        if self._inflate is not None and not self._inflate.eof:
            self.error = "not a complete gzip stream (truncated?)"
            return
        if self._carry.strip():
            self._check(self._carry)
        self._carry = b""

    @property
    def sha256(self) -> str:
        """Of the bytes received ("" when files are not processed)."""
        return self._digest.hexdigest() if self._process else ""

    def _lines(self, data: bytes) -> None:
        if not data:
            return
        data = self._carry + data if self._carry else data
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            line = data[start:end]
            start = end + 1
            if line.strip():
                self._check(line)
            else:
                self.line += 1
        self._carry = data[start:]

    def _check(self, line: bytes) -> None:
        self.line += 1
        transaction_id, reason = check_line(line)
        if reason is None:
            self.accepted += 1
            if self.ids is not None:
                self.ids.append(transaction_id or "")
                if len(self.ids) > MAX_RECORDED_IDS:
                    self.ids = None
        else:
            self.rejected += 1
            if len(self.rejections) < MAX_REJECTIONS:
                self.rejections.append((self.line, reason))


# --- the aiohttp handlers ---


def _drop(request: web.Request) -> web.Response:
    request.protocol.force_close()
    return web.Response()


async def _drain(request: web.Request, limit: int | None = None) -> int:
    read = 0
    while limit is None or read < limit:
        chunk = await request.content.read(_READ if limit is None else min(_READ, limit - read))
        if not chunk:
            break
        read += len(chunk)
    return read


def _key(request: web.Request) -> tuple[str, ...]:
    raw_path = request.raw_path.partition("?")[0]
    return tuple(unquote(segment) for segment in raw_path[len(PREFIX) :].split("/"))


def _session_of(store: ObjectStore, key: tuple[str, ...]) -> UploadSession | None:
    if len(key) != 4 or key[0] != "uploads":
        return None
    session = store.session(key[2])
    if session is None or session.organization_id != key[1] or session.filename != key[3]:
        return None
    return session


async def put_object(emulator: KardEmulator, request: web.Request) -> web.StreamResponse:
    store = emulator._store
    raw_path, _, query = request.raw_path.partition("?")
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return s3_error(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            Header="Transfer-Encoding",
        )
    if request.content_length is None:
        return s3_error(
            411, "MissingContentLength", "You must provide the Content-Length HTTP header."
        )
    if "Authorization" in request.headers:
        return s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or "
            "the Authorization header should be specified",
            ArgumentName="Authorization",
        )
    refused = store.check("PUT", raw_path, query, time.time() + emulator.clock_skew)
    if refused is not None:
        return refused
    content_type = request.headers.get("Content-Type")
    if content_type not in (None, "application/octet-stream"):
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            f"(Content-Type {content_type!r} is not signed.)",
        )
    if request.content_length > emulator.max_upload_bytes:
        return s3_error(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            ProposedSize=str(request.content_length),
            MaxSizeAllowed=str(emulator.max_upload_bytes),
        )
    session = _session_of(store, _key(request))
    if session is None:
        return s3_error(404, "NoSuchUpload", "The specified upload does not exist.")

    fault, delay = emulator._select_fault("PUT", request.path)
    if fault is not None:
        if fault.kind == "drop_before":
            return _drop(request)
        if fault.kind == "drop_mid_body":
            await _drain(request, request.content_length // 2)
            return _drop(request)
        if fault.kind == "status":
            await _drain(request)
            return _fault_error(fault.status)
    check = FileCheck(process=emulator.process_files)
    while True:
        try:
            chunk = await request.content.read(_READ)
        except Exception:  # the client went away part way: S3 keeps nothing
            return _drop(request)
        if not chunk:
            break
        check.feed(chunk)
        if delay:
            await asyncio.sleep(delay)  # a slow store: the client's writes back up
            delay = 0.0
    if check.size != request.content_length:
        return _drop(request)
    if fault is not None and fault.kind in ("drop_after", "truncate"):
        return _drop(request)
    check.finish()
    record = ReceivedFile(
        organization_id=session.organization_id,
        upload_id=session.upload_id,
        upload_type=session.upload_type,
        filename=session.filename,
        size=check.size,
        sha256=check.sha256,
        gzip=check.gzip,
        lines_accepted=check.accepted,
        lines_rejected=check.rejected,
        rejections=tuple(check.rejections),
        transaction_ids=None if check.ids is None else tuple(check.ids),
        error=check.error,
    )
    store.store(_key(request), record)
    notify_processed(emulator, request.host, record)
    return web.Response(status=200, headers={"ETag": f'"{check.sha256[:32]}"'})


async def get_object(emulator: KardEmulator, request: web.Request) -> web.StreamResponse:
    from ._files_seed import report_content

    raw_path, _, query = request.raw_path.partition("?")
    refused = emulator._store.check("GET", raw_path, query, time.time() + emulator.clock_skew)
    if refused is not None:
        return refused
    key = _key(request)
    body = report_content(key) or result_content(emulator._store, key)
    if body is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    fault, delay = emulator._select_fault("GET", request.path)
    if delay:
        await asyncio.sleep(delay)
    if fault is not None:
        if fault.kind in ("drop_before", "drop_mid_body"):
            return _drop(request)
        if fault.kind == "status":
            return _fault_error(fault.status)
        if fault.kind == "truncate":
            response = web.StreamResponse(status=200)
            response.content_type = "application/gzip"
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            request.protocol.force_close()
            return response
    return web.Response(
        body=body, content_type="application/gzip", headers={"ETag": f'"{len(body)}"'}
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(
    app: web.Application, emulator: KardEmulator, in_flight: set[asyncio.Task[object]]
) -> None:
    """Serve the store's URLs (before the API's catch-all route), streamed, outside the
    JSON:API dispatcher; each request is recorded (without its body) like API requests."""

    def tracked(
        handle: Callable[[KardEmulator, web.Request], Awaitable[web.StreamResponse]],
    ) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if request.transport is None:  # closed by quiesce() before it started
                return web.Response()
            raw_path, _, raw_query = request.raw_path.partition("?")
            emulator._record_request(
                RecordedRequest(request.method, raw_path, raw_query, dict(request.headers), b"")
            )
            task = asyncio.current_task()
            if task is not None:
                in_flight.add(task)
            try:
                return await handle(emulator, request)
            finally:
                if task is not None:
                    in_flight.discard(task)

        return handler

    app.router.add_route("PUT", PREFIX + "{key:.*}", tracked(put_object))
    app.router.add_route("GET", PREFIX + "{key:.*}", tracked(get_object))
