"""Daily transaction files: presigned upload URLs (§7.4) and streamed uploads to them.

These are ``kard.transactions.upload_urls`` and ``kard.transactions.upload_file``: the
transactions resource inherits them from :class:`AsyncTransactionFiles`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from typing import IO, Union

from .._errors import InvalidParameterError
from ..models.files import (
    FileUploadRequest,
    FileUploadType,
    UploadKind,
    UploadUrl,
    as_upload_request,
)
from ..transfer import _upload
from ..transfer._results import UploadProgress, UploadResult
from ..transfer._sources import MAX_PART_BYTES
from ..transfer.lines import LineItem
from ._base import AsyncResource

MAX_UPLOAD_URLS = 10

UploadSource = Union[  # noqa: UP007
    str,
    os.PathLike[str],
    IO[bytes],
    Iterable[LineItem],
    AsyncIterable[LineItem],
]
"""A ``.jsonl``/``.jsonl.gz`` path, a binary file, or transactions (models or mappings)."""

UploadUrlInput = Union[tuple[str, Union[UploadKind, FileUploadType, str]], FileUploadRequest]  # noqa: UP007


def prepare_upload_requests(files: Sequence[UploadUrlInput]) -> list[FileUploadRequest]:
    if isinstance(files, (str, bytes, Mapping)) or not isinstance(files, Sequence):
        raise InvalidParameterError(
            "files",
            files,
            "must be a list of (filename, kind) pairs, e.g. [('daily.jsonl.gz', 'incoming')]",
        )
    if not 1 <= len(files) <= MAX_UPLOAD_URLS:
        raise InvalidParameterError(
            "files", f"<{len(files)} files>", f"one request takes 1 to {MAX_UPLOAD_URLS} files"
        )
    prepared = []
    for index, item in enumerate(files):
        try:
            prepared.append(as_upload_request(item))
        except InvalidParameterError as error:
            where = "" if error.parameter == "files" else f".{error.parameter}"
            raise InvalidParameterError(
                f"files[{index}]{where}", error.value, error.allowed
            ) from None
    return prepared


class AsyncTransactionFiles(AsyncResource):
    """Daily transaction files, uploaded to Kard's object store."""

    async def upload_urls(
        self, files: Sequence[UploadUrlInput], *, organization_id: str | None = None
    ) -> list[UploadUrl]:
        """Presigned URLs to ``PUT`` daily transaction files to: one per ``(filename,
        kind)`` pair, 1 to 10 of them. ``kind`` is ``"incoming"`` (daily ingestion) or
        ``"historical"``. Each URL has ``.id`` (the upload session), ``.url`` and
        ``.expires_in`` (seconds: 900). ``upload_file`` does all of this for you.
        """
        return await _upload.request_upload_urls(
            self._requester.derive(organization_id=organization_id),
            prepare_upload_requests(files),
        )

    async def upload_file(
        self,
        source: UploadSource,
        *,
        kind: UploadKind = "incoming",
        filename: str | None = None,
        compress: bool = True,
        on_progress: Callable[[UploadProgress], None] | None = None,
        max_part_bytes: int = MAX_PART_BYTES,
        spool_dir: str | None = None,
        organization_id: str | None = None,
    ) -> UploadResult:
        """Upload a daily transaction file to Kard's object store, streaming.

        ``source`` is a path to a ``.jsonl`` or ``.jsonl.gz`` file, a binary file object,
        or an iterable or async iterable of transactions (``Transaction`` /
        ``CoreTransaction`` models, or mappings in the API's wire form), written one per
        line as in ``POST /transactions`` (``{"type", "id", "attributes"}``).

        A ``.jsonl.gz`` file is sent byte for byte; a ``.jsonl`` file and transactions are
        gzipped on the fly unless ``compress=False``. ``filename`` defaults to the file's
        own name (``.gz`` added when compressed), or ``transactions-<UTC time>.jsonl.gz``.
        Memory stays flat whatever the size: files are read, and transactions encoded and
        compressed, a chunk at a time in worker threads.

        What is sent must have a known size (presigned URLs take no chunked uploads) and
        be sendable again if an attempt fails: so a file on disk is read twice if need
        be, and anything that can be read only once (transactions, a pipe, a file to
        compress) is first written to a temporary file (``spool_dir``, default: the
        system's), one part at a time. More than ``max_part_bytes`` (5 GB) rolls over to
        the next file with its own URL: ``name-0001.jsonl.gz``, ``name-0002.jsonl.gz``.

        A failed PUT is retried from the first byte under the client's retry policy; a
        URL that expired (15 minutes) is replaced by a fresh one. Returns every file
        uploaded (ids, names, bytes, lines); a failure part way raises
        :class:`~kard_async.transfer.FileUploadError`, naming the files that made it and
        the first line that did not. ``on_progress`` gets
        :class:`~kard_async.transfer.UploadProgress` a few times a second.
        """
        return await _upload.upload_file(
            self._requester.derive(organization_id=organization_id),
            source,
            kind=kind,
            filename=filename,
            compress=compress,
            on_progress=on_progress,
            max_part_bytes=max_part_bytes,
            spool_dir=spool_dir,
        )


__all__ = ["AsyncTransactionFiles", "UploadSource", "UploadUrlInput"]
