"""Daily transaction files and reconciliation reports (API reference §7.4, §10, §16).

Presigned URLs are capabilities: anyone holding one may upload or download until it
expires. The models that carry one never show its query (the signature) in their repr.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import msgspec

from .._errors import InvalidParameterError
from ._base import Model, Page

__all__ = [
    "FileMetadata",
    "FileMetadataAttributes",
    "FileSort",
    "FileType",
    "FileUploadRequest",
    "FileUploadType",
    "FilesMeta",
    "FilesPage",
    "UploadKind",
    "UploadUrl",
    "UploadUrlAttributes",
]

FileUploadType = Literal["incomingTransactionsFile", "historicalTransactionsFile"]
UploadKind = Literal["incoming", "historical"]
FileType = Literal[
    "earnedRewardApprovedDailyReconciliationFile",
    "earnedRewardSettledDailyReconciliationFile",
    "monthlyReconciliationFile",
]
FileSort = Literal["sentDate", "-sentDate"]

UPLOAD_TYPES: dict[str, str] = {
    "incoming": "incomingTransactionsFile",
    "historical": "historicalTransactionsFile",
}
"""Short kinds and the wire ``type`` each stands for; other values are sent as given."""

if TYPE_CHECKING:
    _UploadKind = UploadKind | FileUploadType
else:
    _UploadKind = str


def redact_url(url: str) -> str:
    """``url`` without its query: what may be shown of a presigned URL."""
    parts = urlsplit(url)
    hidden = "?<signature hidden>" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{hidden}"


def check_filename(parameter: str, value: object) -> str:
    """A file name as Kard stores it: a non-empty name, without directories."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(parameter, value, "must be a non-empty file name")
    if "/" in value or "\\" in value or value in (".", ".."):
        raise InvalidParameterError(
            parameter, value, "must be a file name without directories, e.g. 'daily.jsonl.gz'"
        )
    if any(ord(char) < 32 for char in value):
        raise InvalidParameterError(parameter, value, "must not contain control characters")
    return value


def check_kind(value: object) -> str:
    """``incoming``, ``historical``, or a file upload type (open: sent as given)."""
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(
            "kind", value, "must be 'incoming', 'historical' or a file upload type"
        )
    return value


class FileUploadRequest(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False
):
    """One presigned upload URL to ask for: the file's name (with its extension, e.g.
    ``transactions-2025-01-31.jsonl.gz``) and its kind: ``"incoming"`` (daily ingestion)
    or ``"historical"``, sent as ``incomingTransactionsFile`` / ``historicalTransactionsFile``.
    A wire type this version does not know is sent as given."""

    filename: str
    kind: _UploadKind = "incoming"

    def __post_init__(self) -> None:
        check_filename("filename", self.filename)
        check_kind(self.kind)

    @property
    def upload_type(self) -> str:
        """The wire ``type``: ``incomingTransactionsFile``, ``historicalTransactionsFile``."""
        return UPLOAD_TYPES.get(self.kind, self.kind)


def as_upload_request(item: object) -> FileUploadRequest:
    if isinstance(item, FileUploadRequest):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return FileUploadRequest(filename=item[0], kind=item[1])
    raise InvalidParameterError(
        "files", item, "each item must be a (filename, kind) pair or a FileUploadRequest"
    )


class _WireUpload(msgspec.Struct, gc=False):
    type: str
    attributes: dict[str, str]


class _WireUploads(msgspec.Struct, gc=False):
    data: list[_WireUpload]


def encode_upload_requests(requests: Sequence[FileUploadRequest]) -> bytes:
    return msgspec.json.encode(
        _WireUploads([_WireUpload(r.upload_type, {"filename": r.filename}) for r in requests])
    )


# --- responses ---


class UploadUrlAttributes(Model):
    url: str
    expires_in: int

    def __repr__(self) -> str:
        return f"UploadUrlAttributes(url={redact_url(self.url)!r}, expires_in={self.expires_in})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [("url", redact_url(self.url)), ("expires_in", self.expires_in)]


class UploadUrl(Model):
    """A presigned URL to ``PUT`` one file to (valid ``expires_in`` seconds, 900 today);
    ``id`` is the upload session, for traceability."""

    type: str
    id: str
    attributes: UploadUrlAttributes

    @property
    def url(self) -> str:
        return self.attributes.url

    @property
    def expires_in(self) -> int:
        return self.attributes.expires_in

    @property
    def kind(self) -> str:
        """``"incoming"`` or ``"historical"`` (the wire type for types this version does
        not know)."""
        return next((k for k, t in UPLOAD_TYPES.items() if t == self.type), self.type)

    def __repr__(self) -> str:
        return f"UploadUrl(type={self.type!r}, id={self.id!r}, attributes={self.attributes!r})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [("type", self.type), ("id", self.id), ("attributes", self.attributes)]


class FileMetadataAttributes(Model):
    file_name: str
    sent_at: datetime
    last_modified: datetime
    download_url: str
    """Presigned, valid for 30 minutes after the listing."""
    period_start: datetime | None = None
    period_end: datetime | None = None

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"FileMetadataAttributes({fields})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [
            ("file_name", self.file_name),
            ("sent_at", self.sent_at),
            ("last_modified", self.last_modified),
            ("download_url", redact_url(self.download_url)),
            ("period_start", self.period_start),
            ("period_end", self.period_end),
        ]


class FileMetadata(Model):
    """A file Kard sent you (a reconciliation report). ``type`` is its file type, e.g.
    ``earnedRewardSettledDailyReconciliationFile``; download it with
    ``kard.files.download(file, destination)``."""

    type: str
    id: str
    attributes: FileMetadataAttributes

    @property
    def file_type(self) -> str:
        return self.type

    @property
    def file_name(self) -> str:
        return self.attributes.file_name

    @property
    def sent_at(self) -> datetime:
        return self.attributes.sent_at

    @property
    def last_modified(self) -> datetime:
        return self.attributes.last_modified

    @property
    def download_url(self) -> str:
        return self.attributes.download_url

    @property
    def period_start(self) -> datetime | None:
        return self.attributes.period_start

    @property
    def period_end(self) -> datetime | None:
        return self.attributes.period_end

    def __repr__(self) -> str:
        return f"FileMetadata(type={self.type!r}, id={self.id!r}, attributes={self.attributes!r})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [("type", self.type), ("id", self.id), ("attributes", self.attributes)]


class FilesMeta(Model):
    page_size: int | None = None
    has_next_page: bool | None = None


class FilesPage(Page, kw_only=True):
    """One page of ``kard.files.list()``."""

    data: list[FileMetadata]
    meta: FilesMeta = msgspec.field(default_factory=FilesMeta)
