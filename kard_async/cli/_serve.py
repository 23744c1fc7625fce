"""``kard-async serve``: the bundled emulator in the foreground, with settings to paste."""

from __future__ import annotations

import argparse
import shlex
import signal
import time
from types import FrameType
from typing import Any

from .._version import __version__
from ..testing import EmulatorServer, Fault, KardEmulator
from ._settings import UsageError, int_at_least, positive_float

EPILOG = """\
examples:
  kard-async serve --port 8080
  kard-async serve --port 0 --token-ttl 60 \\
      --fault 'status=429,retry_after=1,path=/attributions,times=5'

It prints the settings to paste into another shell, which point the library and the other
commands at it:
  export KARD_BASE_URL=http://127.0.0.1:8080
  export KARD_CLIENT_ID=kard-test-client
  export KARD_CLIENT_SECRET=kard-test-secret
  export KARD_ORGANIZATION_ID=org-123

Any user id works; the data (offers, ~340 locations in ten US metros) is the same every run.
Stop it with Ctrl-C.
"""

TRY = "kard-async locations user-123 --lat 39.9526 --lon -75.1652 --radius 2"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the bundled Kard emulator (test credentials, seeded data, fault injection)",
        description="Run a local Kard Rewards API emulator for your own tests and demos.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int_at_least(0),
        default=8080,
        help="port to bind; 0 picks a free one (default %(default)s)",
    )
    parser.add_argument(
        "--token-ttl",
        type=positive_float,
        default=3600.0,
        metavar="S",
        help="lifetime in seconds of issued access tokens (default %(default)s)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault (repeatable), e.g. 'status=429,retry_after=1,path=/attributions,"
        "times=5' or 'latency,delay=0.2'",
    )
    parser.add_argument(
        "--max-recorded-requests",
        type=int_at_least(0),
        default=10_000,
        metavar="N",
        help="keep only the last N requests in memory (default %(default)s)",
    )
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    faults = []
    for spec in args.fault:
        try:
            faults.append(Fault.parse(spec))
        except ValueError as error:
            raise UsageError(f"--fault {spec!r}: {error}") from None
    emulator = KardEmulator(
        token_ttl=args.token_ttl, max_recorded_requests=args.max_recorded_requests
    )
    for fault in faults:
        emulator.inject(fault)
    server = EmulatorServer(emulator, host=args.host, port=args.port)
    try:
        server.start()
    except RuntimeError as error:  # the address is taken, say; the cause tells
        raise UsageError(
            f"cannot serve on {args.host}:{args.port}: {error.__cause__ or error}"
        ) from None
    try:
        print(settings_block(server), flush=True)
        _wait_for_stop()
    finally:
        server.stop()
    return 0


def settings_block(server: EmulatorServer) -> str:
    """What to paste into a shell to use the emulator: one ``export`` line per setting."""
    emulator = server.emulator
    base_url = server.base_url
    if server.host in ("", "0.0.0.0"):  # every interface: this machine's is one of them
        base_url = f"http://127.0.0.1:{server.port}"
    elif server.host == "::":
        base_url = f"http://[::1]:{server.port}"
    settings = {
        "KARD_BASE_URL": base_url,
        "KARD_CLIENT_ID": emulator.client_id,
        "KARD_CLIENT_SECRET": emulator.client_secret,
        "KARD_ORGANIZATION_ID": emulator.organization_id,
    }
    exports = "\n".join(f"export {name}={shlex.quote(value)}" for name, value in settings.items())
    return (
        f"kard-async {__version__}: a Kard emulator is listening on {base_url} "
        "(test credentials, seeded data).\n"
        "To point the library and the other commands at it, paste into another shell:\n"
        f"\n{exports}\n\n"
        f"then try: {TRY}\n"
        "Press Ctrl-C to stop."
    )


def _wait_for_stop() -> None:
    """Until Ctrl-C or SIGTERM (which ends the command like Ctrl-C, with status 0)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)  # a sleep, unlike a lock, is interrupted by signals everywhere
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
