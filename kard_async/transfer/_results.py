"""What an upload reports: the parts uploaded, progress on the way, and how it failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._errors import KardError


@dataclass(frozen=True)
class UploadedPart:
    """One file stored by Kard: its upload session ``upload_id``, ``filename``, the
    ``bytes`` sent, and the ``lines`` (transactions) it holds when known: a file sent as
    is (``.jsonl.gz``, or ``.jsonl`` with ``compress=False``) is not read. ``first_line``
    is the 0-based index of its first line in the whole input, when known."""

    upload_id: str
    filename: str
    upload_type: str
    bytes: int
    lines: int | None
    first_line: int | None
    attempts: int


@dataclass(frozen=True)
class UploadResult:
    """What ``upload_file`` uploaded: one part, or several when the input rolled over the
    part size limit (``name.jsonl.gz``, ``name-0001.jsonl.gz``, ...)."""

    parts: tuple[UploadedPart, ...]
    elapsed: float

    @property
    def ids(self) -> list[str]:
        return [part.upload_id for part in self.parts]

    @property
    def filenames(self) -> list[str]:
        return [part.filename for part in self.parts]

    @property
    def bytes(self) -> int:
        return sum(part.bytes for part in self.parts)

    @property
    def lines(self) -> int | None:
        """Lines (transactions) uploaded, or None when some part's count is unknown."""
        counts = [part.lines for part in self.parts]
        return None if None in counts else sum(c for c in counts if c is not None)

    def __str__(self) -> str:
        lines = "" if self.lines is None else f", {self.lines:,} lines"
        return (
            f"{len(self.parts)} file(s) uploaded ({', '.join(self.filenames)}): "
            f"{self.bytes:,} bytes{lines} in {self.elapsed:.2f}s"
        )


@dataclass(frozen=True)
class UploadProgress:
    """Passed to ``on_progress`` a few times a second.

    ``phase`` is ``"preparing"`` while a part is written to its temporary file (JSONL
    encoding, gzip) and ``"uploading"`` while it is sent; ``bytes`` counts this phase of
    this part (sent bytes restart at 0 when a failed attempt is retried: ``attempt``),
    ``total`` is the part's size once known. ``sent`` counts the bytes of every part
    uploaded before this one.
    """

    phase: Literal["preparing", "uploading"]
    part: int
    filename: str
    bytes: int
    total: int | None
    lines: int | None
    attempt: int
    sent: int


class FileUploadError(KardError):
    """An upload stopped part way. ``uploaded`` lists the parts Kard stored (they must not
    be sent again); ``failed_filename`` is the part that did not get through, and
    ``resume_from`` the index of the first input line not uploaded (None when unknown):
    every line before it is in ``uploaded``, none from it on. ``outcome_unknown`` is True
    when the failed part may have been stored anyway (the connection broke after its
    bytes were sent). The cause is chained (``__cause__``)."""

    def __init__(
        self,
        message: str,
        *,
        uploaded: tuple[UploadedPart, ...],
        failed_filename: str | None,
        resume_from: int | None,
        outcome_unknown: bool,
    ) -> None:
        super().__init__(message)
        self.uploaded = uploaded
        self.failed_filename = failed_filename
        self.resume_from = resume_from
        self.outcome_unknown = outcome_unknown
