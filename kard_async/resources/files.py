"""``kard.files``: the files Kard sends you, such as reconciliation reports (§10, §16)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .. import _params as params
from .._errors import InvalidParameterError, KardError
from .._pagination import AsyncPaginator
from .._validate import require_aware
from ..models.files import FileMetadata, FileSort, FilesPage, FileType
from ..transfer import _download
from ..transfer._download import DownloadProgress
from ._base import AsyncResource

MAX_PAGE_SIZE = 100
_REFRESH_WINDOW = timedelta(days=1)


def _moment(parameter: str, value: datetime | date | None) -> str | None:
    """A date-time (timezone-aware, sent in UTC) or a date, as ISO 8601."""
    if value is None:
        return None
    if isinstance(value, datetime):
        require_aware(parameter, value)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise InvalidParameterError(parameter, value, "must be a datetime (timezone-aware) or a date")


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


class AsyncFiles(AsyncResource):
    """``kard.files``: list the files Kard sent you, download or stream them."""

    def list(
        self,
        *,
        date_from: datetime | date | None = None,
        date_to: datetime | date | None = None,
        file_type: FileType | None = None,
        sort: FileSort | None = None,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[FileMetadata, FilesPage]:
        """The files Kard sent between ``date_from`` and ``date_to`` (by default the last
        month), newest first (``sort="sentDate"`` for oldest first). ``await`` for a page,
        ``async for`` for every file. Each has ``file_name``, ``sent_at``,
        ``last_modified``, ``download_url`` (valid 30 minutes) and, for files covering a
        period, ``period_start`` / ``period_end``. ``page_size`` is 1 to 100 (default 10).
        """
        since = _moment("date_from", date_from)
        until = _moment("date_to", date_to)
        if (
            date_from is not None
            and date_to is not None
            and _as_datetime(date_from) > _as_datetime(date_to)
        ):
            raise InvalidParameterError("date_to", date_to, "must not be before date_from")
        return self._get_page(
            self._org_path("files", "metadata", organization_id=organization_id),
            query=[
                ("filter[dateFrom]", since),
                ("filter[dateTo]", until),
                ("filter[fileType]", params.text("file_type", file_type)),
                ("sort", params.text("sort", sort)),
                *params.paging(page_size, after, before, max_size=MAX_PAGE_SIZE),
            ],
            cast_to=FilesPage,
        )

    async def download(
        self,
        file: FileMetadata,
        destination: str | os.PathLike[str],
        *,
        on_progress: Callable[[DownloadProgress], None] | None = None,
        organization_id: str | None = None,
    ) -> Path:
        """Download ``file`` (an item of ``list()``) to ``destination``: a file path, or a
        directory (the file keeps its ``file_name``). Returns the path written.

        The body is streamed to a temporary file next to the destination, checked against
        its announced size, and renamed into place only when complete, so a failed
        download never leaves a partial file under the final name. A download that breaks
        is retried from the start (the client's retry policy); if the 30-minute URL has
        expired, a fresh one is fetched by listing the file again.
        """
        return await _download.download(
            self._requester,
            file,
            destination,
            lambda old: self._fresh(old, organization_id),
            on_progress,
        )

    async def stream(
        self, file: FileMetadata, *, organization_id: str | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes of ``file`` (an item of ``list()``), chunk by chunk, as they arrive
        (at the reader's pace: nothing is held beyond a couple of chunks). A break in the
        connection is retried where it can be without repeating a byte already given;
        an expired URL is renewed first. Reconciliation files are gzipped JSONL: e.g.
        ``zlib.decompressobj(31)`` each chunk."""
        chunks = _download.stream(
            self._requester, file, lambda old: self._fresh(old, organization_id)
        )
        async with contextlib.aclosing(chunks):  # a reader that stops early ends the download
            async for chunk in chunks:
                yield chunk

    async def _fresh(self, file: FileMetadata, organization_id: str | None) -> FileMetadata:
        """``file`` listed again, with a new download URL."""
        async for item in self.list(
            date_from=file.sent_at - _REFRESH_WINDOW,
            date_to=file.sent_at + _REFRESH_WINDOW,
            file_type=file.type,  # type: ignore[arg-type]
            page_size=MAX_PAGE_SIZE,
            organization_id=organization_id,
        ):
            if item.id == file.id:
                return item
        raise KardError(
            f"file {file.id} ({file.file_name}) is no longer listed: no fresh download URL"
        )
