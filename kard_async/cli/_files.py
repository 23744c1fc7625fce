"""``kard-async transactions upload-file`` and ``kard-async files list|download``: daily
transaction files to Kard, reconciliation files from Kard, with byte progress."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from .._client import AsyncKard
from .._errors import KardError
from ..models.files import FileMetadata
from ..transfer import DownloadProgress, FileUploadError, UploadProgress, UploadResult
from ._output import Column, Output, ProgressLine, make_output
from ._render import json_line
from ._settings import CONNECTION_HELP, UsageError, add_connection_arguments, client_kwargs

MB = 1_000_000

UPLOAD_EPILOG = f"""\
examples:
  kard-async transactions upload-file transactions-2025-01-31.jsonl
  kard-async transactions upload-file backfill.jsonl.gz --historical
  my-export | kard-async transactions upload-file - --filename daily.jsonl.gz

FILE holds one transaction per line, each an item of POST /transactions in the API's wire
form: {{"type": "transaction", "id": "...", "attributes": {{"userId": "...", ...}}}}.
A .jsonl.gz file is sent as is; a .jsonl file (or standard input) is gzipped on the way
unless --no-compress. What cannot be read twice (standard input, a file to compress) is
first written to a temporary file, so that a failed upload can be repeated. Past 5 GB
(--max-part-bytes) the input rolls over to name-0001.jsonl.gz, ...

exit status: 0 when every file was uploaded, 1 otherwise, 2 for usage errors.

{CONNECTION_HELP}"""

LIST_EPILOG = f"""\
examples:
  kard-async files list
  kard-async files list --type earnedRewardSettledDailyReconciliationFile --from 2025-01-01
  kard-async files list --json | jq -r .attributes.fileName

--json prints one file per line in the API's own fields (downloadUrl included: valid 30
minutes, and anyone holding it may download the file).

{CONNECTION_HELP}"""

DOWNLOAD_EPILOG = f"""\
examples:
  kard-async files download --latest --type monthlyReconciliationFile .
  kard-async files download 67db3d87cb70469be876c852049 reports/

DEST is a directory (the file keeps its name) or a file path. The file is written under a
temporary name and renamed when complete. An ID is looked up among the files sent since
--from (default: the last month).

{CONNECTION_HELP}"""

FILE_TYPES = (
    "earnedRewardApprovedDailyReconciliationFile",
    "earnedRewardSettledDailyReconciliationFile",
    "monthlyReconciliationFile",
)


def _when(text: str) -> date | datetime:
    """``2025-01-31`` or an ISO 8601 date-time with a timezone."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date (YYYY-MM-DD) or date-time: {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"a date-time needs a timezone (e.g. Z): {text!r}")
    return moment


def _size(text: str) -> int:
    """``5000000``, ``500MB``, ``2GB`` (decimal units, like Kard's 5 GB)."""
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9}
    raw = text.strip().upper()
    factor = next((units[u] for u in units if raw.endswith(u)), 1)
    number = raw[:-2] if factor != 1 else raw
    try:
        value = int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 500MB)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_parser(commands: Any) -> None:
    """The ``files`` group: ``list`` and ``download``."""
    formatter = argparse.RawDescriptionHelpFormatter
    files = commands.add_parser(
        "files",
        help="files Kard sends you (reconciliation reports): list, download",
        description="Files Kard sends you, such as reconciliation reports.",
        epilog="examples:\n  kard-async files list\n  kard-async files download --latest .\n",
        formatter_class=formatter,
    )
    file_commands = files.add_subparsers(dest="files_command", metavar="COMMAND")
    listing = file_commands.add_parser(
        "list",
        help="list the files Kard sent (newest first)",
        description="List the files Kard sent you, newest first.",
        epilog=LIST_EPILOG,
        formatter_class=formatter,
    )
    _add_filters(listing)
    listing.add_argument("--limit", type=int, metavar="N", help="at most N files")
    listing.add_argument("--json", action="store_true", help="print JSON lines")
    listing.add_argument("--plain", action="store_true", help="plain tab-separated output")
    add_connection_arguments(listing)
    listing.set_defaults(run=run_list)

    download = file_commands.add_parser(
        "download",
        help="download a file by id, or the latest one",
        description="Download one file Kard sent you.",
        epilog=DOWNLOAD_EPILOG,
        formatter_class=formatter,
    )
    download.add_argument("id", nargs="?", metavar="ID", help="the file's id (see files list)")
    download.add_argument("dest", metavar="DEST", help="a directory, or the file to write")
    download.add_argument("--latest", action="store_true", help="the most recent file")
    _add_filters(download)
    download.add_argument("--plain", action="store_true", help="plain progress lines")
    add_connection_arguments(download)
    download.set_defaults(run=run_download)
    files.set_defaults(usage=files)


def add_transaction_parsers(commands: Any) -> None:
    """``upload-file``, in the ``transactions`` group (``_transactions``)."""
    upload = commands.add_parser(
        "upload-file",
        help="upload a daily transaction file (JSONL, plain or gzipped)",
        description="Upload a daily transaction file to Kard's object store, streaming, "
        "with a progress bar.",
        epilog=UPLOAD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    upload.add_argument("file", metavar="FILE", help=".jsonl or .jsonl.gz; - reads standard input")
    upload.add_argument(
        "--historical",
        action="store_true",
        help="historical transactions (historicalTransactionsFile), not the daily ones",
    )
    upload.add_argument(
        "--no-compress", action="store_true", help="send a .jsonl file as is, not gzipped"
    )
    upload.add_argument("--filename", metavar="NAME", help="the name Kard stores it under")
    upload.add_argument(
        "--max-part-bytes",
        type=_size,
        metavar="SIZE",
        help="roll over to a new file past this size (default 5GB)",
    )
    upload.add_argument("--plain", action="store_true", help="plain progress lines")
    add_connection_arguments(upload)
    upload.set_defaults(run=run_upload_file)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type", dest="file_type", metavar="TYPE", help="file type, e.g. " + FILE_TYPES[2]
    )
    parser.add_argument("--from", dest="date_from", type=_when, metavar="DATE", help="sent since")
    parser.add_argument("--to", dest="date_to", type=_when, metavar="DATE", help="sent until")


# --------------------------------------------------------------------------- upload


def _rate(done: int, started: float) -> str:
    elapsed = time.monotonic() - started
    return f"{done / MB / elapsed:,.1f} MB/s" if elapsed > 0 else ""


def run_upload_file(args: argparse.Namespace) -> int:
    kwargs = client_kwargs(args)
    output = make_output(plain=args.plain)
    if args.file != "-" and not Path(args.file).is_file():
        raise UsageError(f"cannot read {args.file}: no such file")
    # Standard input through a reader of our own: Python must not flush sys.stdin at exit.
    with (
        open(sys.stdin.fileno(), "rb", closefd=False)
        if args.file == "-"
        else contextlib.nullcontext(Path(args.file))
    ) as source:
        try:
            result = asyncio.run(_upload(kwargs, args, source, output))
        except FileUploadError as error:
            if error.uploaded:
                _parts_table(output, error.uploaded, title="Uploaded before the failure")
            raise
    _parts_table(output, result.parts, title="Uploaded")
    mb = result.bytes / MB
    output.summary(
        [
            ("files", f"{len(result.parts)}"),
            ("bytes", f"{result.bytes:,} ({mb:,.1f} MB)"),
            ("lines", "unknown (sent as is)" if result.lines is None else f"{result.lines:,}"),
            ("elapsed", f"{result.elapsed:.2f} s"),
            ("MB/s", f"{mb / result.elapsed if result.elapsed > 0 else 0:,.1f}"),
        ]
    )
    return 0


async def _upload(
    kwargs: dict[str, Any], args: argparse.Namespace, source: Path | IO[bytes], output: Output
) -> UploadResult:
    started = time.monotonic()
    with output.progress("uploading (bytes)", None, stderr=True) as bar:

        def on_progress(progress: UploadProgress) -> None:
            if progress.phase == "preparing":
                detail = f"preparing {progress.filename}: {progress.bytes / MB:,.1f} MB"
                bar.update(progress.sent, detail)
                return
            done = progress.sent + progress.bytes
            total = progress.sent + (progress.total or 0)
            detail = f"{progress.filename}, {_rate(done, started)}"
            if progress.attempt > 1:
                detail += f" (attempt {progress.attempt})"
            bar.update(done, detail, total=total)

        async with AsyncKard(**kwargs) as kard:
            options: dict[str, Any] = {}
            if args.max_part_bytes is not None:
                options["max_part_bytes"] = args.max_part_bytes
            result = await kard.transactions.upload_file(
                source,
                kind="historical" if args.historical else "incoming",
                filename=args.filename,
                compress=not args.no_compress,
                on_progress=on_progress,
                **options,
            )
        bar.update(result.bytes, _rate(result.bytes, started), total=result.bytes)
    return result


def _parts_table(output: Output, parts: Any, *, title: str) -> None:
    columns = [
        Column("upload id", no_wrap=True),
        Column("file name"),
        Column("bytes", "right"),
        Column("lines", "right"),
    ]
    rows = [
        [p.upload_id, p.filename, f"{p.bytes:,}", "-" if p.lines is None else f"{p.lines:,}"]
        for p in parts
    ]
    output.table(columns, rows, title=title)


# --------------------------------------------------------------------------- files


def _list_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"date_from": args.date_from, "date_to": args.date_to, "file_type": args.file_type}


def run_list(args: argparse.Namespace) -> int:
    kwargs = client_kwargs(args)
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    files = asyncio.run(_list(kwargs, args))
    if args.json:
        for file in files:
            sys.stdout.buffer.write(json_line(file))
        sys.stdout.flush()
        return 0
    output = make_output(plain=args.plain)
    columns = [
        Column("sent at", no_wrap=True),
        Column("type"),
        Column("file name"),
        Column("period"),
        Column("id", no_wrap=True),
    ]
    output.table(columns, [_row(file) for file in files], title=f"{len(files)} file(s)")
    return 0


def _row(file: FileMetadata) -> list[str]:
    period = ""
    if file.period_start is not None and file.period_end is not None:
        period = f"{file.period_start:%Y-%m-%d} to {file.period_end:%Y-%m-%d}"
    return [f"{file.sent_at:%Y-%m-%d %H:%M}Z", file.type, file.file_name, period, file.id]


async def _list(kwargs: dict[str, Any], args: argparse.Namespace) -> list[FileMetadata]:
    limit = args.limit
    page_size = min(100, limit) if limit else 100
    found: list[FileMetadata] = []
    async with AsyncKard(**kwargs) as kard:
        async for file in kard.files.list(page_size=page_size, **_list_options(args)):
            found.append(file)
            if limit is not None and len(found) >= limit:
                break
    return found


def run_download(args: argparse.Namespace) -> int:
    if args.latest == (args.id is not None):
        raise UsageError("give a file ID or --latest (not both)")
    kwargs = client_kwargs(args)
    destination = Path(args.dest)
    if not destination.is_dir() and not destination.parent.is_dir():
        raise UsageError(f"cannot write {args.dest}: {destination.parent} is not a directory")
    output = make_output(plain=args.plain)
    path = asyncio.run(_download(kwargs, args, destination, output))
    output.line(str(path))
    return 0


async def _download(
    kwargs: dict[str, Any], args: argparse.Namespace, destination: Path, output: Output
) -> Path:
    async with AsyncKard(**kwargs) as kard:
        file = await _find(kard, args)
        started = time.monotonic()
        with output.progress(f"downloading {file.file_name}", None, stderr=True) as bar:
            line: ProgressLine = bar

            def on_progress(progress: DownloadProgress) -> None:
                line.update(progress.bytes, _rate(progress.bytes, started), total=progress.total)

            return await kard.files.download(file, destination, on_progress=on_progress)


async def _find(kard: AsyncKard, args: argparse.Namespace) -> FileMetadata:
    options = _list_options(args)
    if args.latest:
        page = await kard.files.list(page_size=1, sort="-sentDate", **options)
        if not page.data:
            raise KardError("no file matches: nothing sent in that period (see --from)")
        return page.data[0]
    async for file in kard.files.list(page_size=100, **options):
        if file.id == args.id:
            return file
    raise KardError(
        f"no file with id {args.id!r} was sent in that period (default: the last month; "
        "use --from to look further back)"
    )
