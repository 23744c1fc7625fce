"""``kard-async webhooks listen``: receive Kard's notifications, verify them, print them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from typing import Any

import msgspec
from aiohttp import web

from ..models.notifications import (
    AuditUpdate,
    EarnedRewardApproved,
    EarnedRewardRejected,
    EarnedRewardSettled,
    EmailNotificationPlacementFile,
    FileProcessingResult,
    Notification,
    PayoutReconciliationFile,
    PushNotificationPlacementFile,
)
from ..webhooks import SIGNATURE_HEADER, aiohttp_handler
from ._settings import UsageError, int_at_least

KEY_ENV = "KARD_WEBHOOK_KEY"

EPILOG = f"""\
examples:
  export {KEY_ENV}=...               # the webhook key Kard gave you (sandbox or production)
  kard-async webhooks listen --port 8000
  kard-async webhooks listen --port 8000 --json | jq -r .data.id

Every POST, to any path, is checked against the {SIGNATURE_HEADER} header. A verified
notification is answered 200 and printed: one JSON line ({{"data": ..., "meta": ...}}), or a
table row when rich is installed and the output is a terminal. A bad or missing signature is
answered 401, a body that is not a notification 400, and both are reported on stderr.
Stop with Ctrl-C.
"""


def add_parser(commands: Any) -> None:
    webhooks = commands.add_parser(
        "webhooks",
        help="webhook notifications: listen",
        description="Kard's webhook notifications.",
        epilog="example:\n  kard-async webhooks listen --port 8000\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", metavar="COMMAND")
    listen = webhook_commands.add_parser(
        "listen",
        help="receive notifications on a local port, verify and print them",
        description="Receive Kard's webhook notifications over HTTP, verify their signature "
        "and print each one.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listen.add_argument(
        "--port",
        type=int_at_least(0),
        default=8000,
        help="port to listen on; 0 picks a free one (default %(default)s)",
    )
    listen.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    listen.add_argument(
        "--key",
        metavar="KEY",
        help=f"the webhook key (env {KEY_ENV}; prefer the environment: command lines are "
        "visible to other users of the machine)",
    )
    listen.add_argument("--json", action="store_true", help="print JSON lines even on a terminal")
    listen.set_defaults(run=run_listen)
    webhooks.set_defaults(usage=webhooks)


def run_listen(args: argparse.Namespace) -> int:
    key = args.key or os.environ.get(KEY_ENV, "")
    if not key:
        raise UsageError(f"missing --key (or {KEY_ENV}): the webhook key Kard gave you")
    printer = _Printer(table=not args.json and sys.stdout.isatty())
    # Rejections and on_event failures are logged by the handler: show them on stderr.
    log = logging.getLogger("kard_async")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kard-async: %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.WARNING)
    try:
        asyncio.run(_listen(args.host, args.port, key, printer))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(
            f"kard-async: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 1
    return 0


async def _listen(host: str, port: int, key: str, printer: _Printer) -> None:
    app = web.Application()
    app.router.add_post("/{path:.*}", aiohttp_handler(key, printer.show))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        shown = f"[{shown}]" if ":" in shown else shown
        print(
            f"Listening for Kard webhooks on http://{shown}:{bound}/ (any path). "
            "Press Ctrl-C to stop.",
            file=sys.stderr,
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Not available on Windows, where Ctrl-C still raises KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


class _Printer:
    """One JSON line per notification, or a table row (rich, on a terminal)."""

    def __init__(self, *, table: bool) -> None:
        self._console: Any = None
        if table:
            with contextlib.suppress(ImportError):
                from rich.console import Console

                self._console = Console(highlight=False, markup=False)
        self._rows = 0

    def show(self, notification: Notification) -> None:
        if self._console is None:
            sys.stdout.buffer.write(json_line(notification))
            sys.stdout.flush()
            return
        from rich.table import Table
        from rich.text import Text

        # One table per row, with fixed widths and the header once: the columns line up.
        table = Table(box=None, show_header=self._rows == 0, header_style="bold")
        table.add_column("received", width=8, no_wrap=True)
        table.add_column("type", width=30, no_wrap=True)
        table.add_column("id", width=36, no_wrap=True)
        table.add_column("user", width=16, no_wrap=True)
        table.add_column("details")
        table.add_row(
            Text(time.strftime("%H:%M:%S")),
            Text(notification.type),
            Text(notification.id),
            Text(getattr(notification, "user_id", None) or ""),
            Text(details(notification)),
        )
        self._console.print(table)
        self._rows += 1


def json_line(notification: Notification) -> bytes:
    """The notification as Kard sends it, ``{"data": ..., "meta": ...}``, as this version
    reads it (fields it does not know are left out)."""
    envelope: dict[str, Any] = {"data": msgspec.structs.replace(notification, meta=None)}
    if notification.meta is not None:
        envelope["meta"] = notification.meta
    return msgspec.json.encode(envelope) + b"\n"


def details(notification: Notification) -> str:
    """A short human summary of a notification."""
    if isinstance(notification, EarnedRewardSettled):
        earned = notification.attributes.commission_earned
        return f"{earned.value} {earned.type} earned: {notification.attributes.message}"
    if isinstance(notification, EarnedRewardApproved):
        return notification.attributes.message
    if isinstance(notification, EarnedRewardRejected):
        return f"{notification.attributes.reason}: {notification.attributes.message}"
    if isinstance(notification, AuditUpdate):
        audit = notification.attributes
        text = f"{audit.status}, audit {audit.audit_code} at {audit.merchant_name}"
        if audit.resolution_code is not None:
            text += f", resolution {audit.resolution_code}"
        return text
    if isinstance(notification, FileProcessingResult):
        return notification.attributes.file_name
    if isinstance(notification, PushNotificationPlacementFile):
        return f"push placement {notification.attributes.placement_name!r} file ready"
    if isinstance(notification, EmailNotificationPlacementFile):
        return f"email placement {notification.attributes.name!r} file ready"
    if isinstance(notification, PayoutReconciliationFile):
        file = notification.attributes
        return f"{file.file_name} ({file.period_start} to {file.period_end})"
    return "a type this version of kard-async does not know"
