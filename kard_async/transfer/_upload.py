"""``upload_file``: ask Kard for a presigned URL per part, PUT each part, report every one.

The PUT of a whole file is idempotent (the same object, stored again), so it goes through
the client's one request path as a retryable call: a dropped connection or a 5xx is
retried from the first byte under the client's retry policy. A URL that expired (15
minutes) is replaced before an attempt starts, and when the store refuses it as expired.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import aiohttp
import anyio.to_thread

from .._call import Call
from .._errors import APIConnectionError, APIStatusError, InvalidParameterError, KardError
from .._query import path as url_path
from .._requester import Requester
from .._validate import require_int
from ..models._base import decoder_for
from ..models.files import (
    FileUploadRequest,
    UploadKind,
    UploadUrl,
    check_kind,
    encode_upload_requests,
)
from ._presigned import (
    IGNORE_BODY,
    Expiry,
    describe,
    presigned_call,
    refused_as_expired,
)
from ._results import FileUploadError, UploadedPart, UploadProgress, UploadResult
from ._sources import MAX_PART_BYTES, Part, plan

MAX_URL_REFRESHES = 3
"""Fresh URLs asked for one part, in a row, before the upload gives up."""
_PROGRESS_INTERVAL = 0.1


async def request_upload_urls(
    requester: Requester, files: Sequence[FileUploadRequest]
) -> list[UploadUrl]:
    """``POST /v2/issuers/{org}/transactions/uploads``. Asking for URLs has no lasting
    effect (an unused upload session expires), so unlike other writes it is retried on any
    transient failure."""
    call = Call(
        "POST",
        url_path("v2", "issuers", requester.organization(), "transactions", "uploads"),
        decoder_for(list[UploadUrl], unwrap=True),
        body=encode_upload_requests(files),
    )
    urls: list[UploadUrl] = await requester.send(call)
    return urls


def transfer_timeout(timeout: aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """A file transfer takes as long as it takes: the client's timeout bounds connecting
    and each wait for data, not the whole transfer."""
    per_wait = timeout.sock_read or timeout.total
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.connect,
        sock_connect=timeout.sock_connect,
        sock_read=per_wait,
    )


def store_requester(requester: Requester) -> Requester:
    """Calls to presigned URLs: none of the client's extra headers (a header the URL was not
    signed for makes S3 refuse it, and they are meant for Kard), the transfer timeout, and
    no retry budget in time (one attempt may take minutes; ``max_retries`` still bounds)."""
    options = requester.options
    return requester.derive(
        headers={},
        timeout=transfer_timeout(options.timeout),
        retry_policy=replace(options.retry_policy, budget=math.inf),
    )


class _Reporter:
    """Throttled ``on_progress`` calls, with the running state of the upload; it is also
    the parts' body listener."""

    def __init__(self, callback: Callable[[UploadProgress], None] | None) -> None:
        self._callback = callback
        self._last = 0.0
        self.sent = 0  # bytes of the parts uploaded so far
        self.state = UploadProgress("preparing", 0, "", 0, None, None, 0, 0)
        # What the caller's callback raised: the upload stops and raises it.
        self.failure: BaseException | None = None

    def update(self, *, force: bool = False, **changes: Any) -> None:
        self.state = replace(self.state, sent=self.sent, **changes)
        if self._callback is None:
            return
        now = time.monotonic()
        if force or now - self._last >= _PROGRESS_INTERVAL:
            self._last = now
            try:
                self._callback(self.state)
            except Exception as error:
                self._callback, self.failure = None, error
                raise

    def opened(self, attempt: int) -> None:
        if self.failure is not None:  # a retry after the callback raised: stop here
            raise self.failure
        self.update(force=True, phase="uploading", bytes=0, attempt=attempt)

    def chunk(self, size: int) -> None:
        self.update(bytes=self.state.bytes + size)


@dataclass
class _Url:
    upload: UploadUrl
    expiry: Expiry


class _Upload:
    """The parts of one ``upload_file`` call, PUT one after the other."""

    def __init__(self, requester: Requester, kind: str, reporter: _Reporter) -> None:
        self._api = requester
        self._store = store_requester(requester)
        self._kind = kind
        self._reporter = reporter
        self.store_error: KardError | None = None  # the PUT's own failure, if it failed

    async def _new_url(self, filename: str) -> _Url:
        request = FileUploadRequest(filename=filename, kind=cast(UploadKind, self._kind))
        (upload, *_) = await request_upload_urls(self._api, [request])
        return _Url(upload, Expiry(upload.expires_in))

    async def put(self, part: Part) -> UploadedPart:
        body = part.body
        url = await self._new_url(part.filename)
        refreshes = 0
        self._reporter.update(  # emitted when the first attempt opens the body
            phase="uploading",
            part=part.index,
            filename=part.filename,
            bytes=0,
            total=body.size,
            lines=part.lines,
        )
        while True:
            if url.expiry.expired():
                url, refreshes = await self._refresh(part, refreshes, "before it was used")
                continue
            try:
                call = presigned_call("PUT", url.upload.url, IGNORE_BODY, body=body)
                await self._store.send(call)
            except APIStatusError as error:
                if refused_as_expired(error):
                    url, refreshes = await self._refresh(part, refreshes, "the store said so")
                    continue
                self.store_error = error
                raise
            except APIConnectionError as error:
                self.store_error = error
                raise
            self._reporter.update(force=True, bytes=body.size)
            self._reporter.sent += body.size
            return UploadedPart(
                upload_id=url.upload.id,
                filename=part.filename,
                upload_type=url.upload.type,
                bytes=body.size,
                lines=part.lines,
                first_line=part.first_line,
                attempts=body.attempts,
            )

    async def _refresh(self, part: Part, refreshes: int, why: str) -> tuple[_Url, int]:
        if refreshes >= MAX_URL_REFRESHES:
            raise KardError(
                f"the upload URL for {part.filename} expired ({why}) "
                f"{refreshes + 1} times in a row; is this machine's clock right?"
            )
        return await self._new_url(part.filename), refreshes + 1


async def upload_file(
    requester: Requester,
    source: object,
    *,
    kind: str,
    filename: str | None,
    compress: bool,
    on_progress: Callable[[UploadProgress], None] | None,
    max_part_bytes: int,
    spool_dir: str | None,
) -> UploadResult:
    """What ``upload_file`` of the resource does (see there)."""
    started = time.monotonic()
    if not isinstance(compress, bool):
        raise InvalidParameterError("compress", compress, "must be True or False")
    require_int("max_part_bytes", max_part_bytes, low=1, high=MAX_PART_BYTES)
    if on_progress is not None and not callable(on_progress):
        raise InvalidParameterError("on_progress", on_progress, "must be a callable")
    check_kind(kind)
    if spool_dir is not None and not await anyio.to_thread.run_sync(os.path.isdir, spool_dir):
        raise InvalidParameterError("spool_dir", spool_dir, "must be an existing directory")
    requester = requester.derive(organization_id=requester.organization())
    checked = await plan(
        source,
        compress=compress,
        filename=filename,
        max_part_bytes=max_part_bytes,
        spool_dir=spool_dir,
    )
    reporter = _Reporter(on_progress)
    upload = _Upload(requester, kind, reporter)
    uploaded: list[UploadedPart] = []
    current = checked.filename

    def prepared(index: int, name: str, size: int, lines: int) -> None:
        nonlocal current
        current = name
        reporter.update(
            phase="preparing", part=index, filename=name, bytes=size, total=None, lines=lines
        )

    try:
        async with contextlib.aclosing(checked.parts(prepared, reporter)) as parts:
            async for part in parts:
                current = part.filename
                try:
                    uploaded.append(await upload.put(part))
                finally:
                    part.close()
    except Exception as error:
        if reporter.failure is not None:  # on_progress raised: that is the error
            raise reporter.failure from None
        if isinstance(error, InvalidParameterError) and not uploaded:
            raise  # nothing was sent: a plain argument error
        if not isinstance(error, (KardError, OSError)):
            raise
        raise _failure(checked.description, uploaded, current, error, upload.store_error) from error
    return UploadResult(tuple(uploaded), time.monotonic() - started)


def _failure(
    what: str,
    uploaded: list[UploadedPart],
    filename: str,
    error: BaseException,
    store_error: KardError | None,
) -> FileUploadError:
    unknown = False
    if error is store_error and isinstance(error, APIStatusError):
        reason = f"the store refused it: {describe(error)}"
        unknown = error.status >= 500
    else:
        reason = str(error)
        # The connection broke during the PUT: the store may have kept the file anyway.
        unknown = error is store_error
    resume: int | None = 0
    for part in uploaded:
        resume = None if resume is None or part.lines is None else resume + part.lines
    if uploaded:
        names = ", ".join(part.filename for part in uploaded)
        done = f"; {len(uploaded)} file(s) before it were uploaded ({names})"
        if resume is not None:
            done += f", holding lines 1 to {resume}"
    else:
        done = "; nothing was uploaded"
    return FileUploadError(
        f"upload of {what} failed at {filename}: {reason}{done}",
        uploaded=tuple(uploaded),
        failed_filename=filename,
        resume_from=resume,
        outcome_unknown=unknown,
    )
