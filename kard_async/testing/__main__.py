"""``python -m kard_async.testing``: run the Kard emulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from ._constants import MAX_UPLOAD_BYTES, TEST_WEBHOOK_KEY
from ._emulator import KardEmulator
from ._faults import FAULT_KINDS, Fault
from ._server import start_runner


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or "python -m kard_async.testing",
        description="Run a local Kard Rewards API emulator (test credentials, seeded data).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to bind; 0 picks a free one (default %(default)s)",
    )
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=3600.0,
        metavar="S",
        help="lifetime in seconds of issued access tokens (default %(default)s)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "inject a fault (repeatable), e.g. 'status=429,retry_after=1,path=/attributions,"
            "times=5' or 'latency,delay=0.2'; kinds: " + ", ".join(FAULT_KINDS)
        ),
    )
    parser.add_argument(
        "--cache-reads",
        action="store_true",
        help="answer repeated offers/locations requests from a cache of encoded bodies "
        "(for load tests and benchmarks)",
    )
    parser.add_argument(
        "--webhook-key",
        default=TEST_WEBHOOK_KEY,
        metavar="KEY",
        help="the key the emulator signs webhook notifications with (default %(default)s)",
    )
    parser.add_argument(
        "--strict-users",
        action="store_true",
        help="answer 404 to rewards and audits for a user never enrolled with POST .../users "
        "(default: any user id works)",
    )
    parser.add_argument(
        "--max-recorded-requests",
        type=int,
        default=10_000,
        metavar="N",
        help="keep only the last N requests in memory (default %(default)s)",
    )
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=MAX_UPLOAD_BYTES,
        metavar="N",
        help="largest daily transaction file a PUT may carry (default %(default)s)",
    )
    parser.add_argument(
        "--skip-file-checks",
        action="store_true",
        help="only count the bytes of received files, without decompressing or checking "
        "their lines (for upload throughput benchmarks)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    faults = []
    for spec in args.fault:
        try:
            faults.append(Fault.parse(spec))
        except ValueError as exc:
            parser.error(f"--fault {spec!r}: {exc}")
    emulator = KardEmulator(
        token_ttl=args.token_ttl,
        max_recorded_requests=args.max_recorded_requests,
        webhook_key=args.webhook_key,
        strict_users=args.strict_users,
        max_upload_bytes=args.max_upload_bytes,
        process_files=not args.skip_file_checks,
    )
    for fault in faults:
        emulator.inject(fault)
    try:
        asyncio.run(_serve(emulator, args.host, args.port, cache_reads=args.cache_reads))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(emulator: KardEmulator, host: str, port: int, *, cache_reads: bool) -> None:
    layer = None
    if cache_reads:
        from ._cache import ReadCache

        layer = ReadCache()
    runner, bound = await start_runner(emulator, host, port, shutdown_timeout=5.0, layer=layer)
    try:
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        shown = f"[{shown}]" if ":" in shown else shown
        base_url = f"http://{shown}:{bound}"
        print(f"Kard emulator listening on {base_url}")
        print(f"  client id:       {emulator.client_id}")
        print(f"  client secret:   {emulator.client_secret}")
        print(f"  organization id: {emulator.organization_id}")
        print(f"  webhook key:     {emulator.webhook_key}  (signs notify-signature)")
        print("Try:")
        print(
            f"  curl -s -X POST {base_url}/v2/auth/token -H 'Content-Type: application/json' "
            f'-d \'{{"client_id": "{emulator.client_id}", '
            f'"client_secret": "{emulator.client_secret}"}}\''
        )
        print(
            f"  then: curl -s -G {base_url}/v2/issuers/{emulator.organization_id}/users/user-123/"
            "locations -H 'Authorization: Bearer <access_token>' -d 'filter[latitude]=39.9526' "
            "-d 'filter[longitude]=-75.1652' -d 'page[size]=2'"
        )
        print(
            "Webhook deliveries to your subscriptions (POST .../subscriptions) are logged "
            "on stderr."
        )
        _log_deliveries()
        print("Press Ctrl-C to stop.")
        print(f"KARD_BASE_URL={base_url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Not available on Windows, where Ctrl-C still raises KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def _log_deliveries() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log = logging.getLogger("kard_async.testing")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


if __name__ == "__main__":
    sys.exit(main())
