"""Files to and from Kard: daily transaction uploads to presigned URLs (streamed, gzipped
on the fly, retried from the start, rolled over past the size limit) and downloads of the
reconciliation reports Kard sends.

The calls are ``kard.transactions.upload_file`` / ``upload_urls`` and ``kard.files.list``
/ ``download`` / ``stream``; this package holds what they return and raise, and the line
writer (:mod:`kard_async.transfer.lines`).
"""

from ._body import SourceChangedError
from ._download import DownloadProgress, FileDownloadError
from ._results import FileUploadError, UploadedPart, UploadProgress, UploadResult
from ._sources import MAX_PART_BYTES
from .lines import LineItem, WireItem, encode_line

__all__ = [
    "MAX_PART_BYTES",
    "DownloadProgress",
    "FileDownloadError",
    "FileUploadError",
    "LineItem",
    "SourceChangedError",
    "UploadProgress",
    "UploadResult",
    "UploadedPart",
    "WireItem",
    "encode_line",
]
