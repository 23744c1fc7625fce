"""``kard-async serve``: the bundled emulator, through ``python -m kard_async.testing``."""

from __future__ import annotations

import argparse
from typing import Any

from ..testing.__main__ import build_parser as emulator_parser
from ..testing.__main__ import main as emulator_main
from ..testing._faults import Fault
from ._settings import UsageError

EPILOG = """\
examples:
  kard-async serve --port 8080
  kard-async serve --port 0 --token-ttl 60 \\
      --fault 'status=429,retry_after=1,path=/attributions,times=5'

It prints the base URL and test credentials; point the library or the other commands at it:
  export KARD_BASE_URL=http://127.0.0.1:8080 KARD_CLIENT_ID=kard-test-client \\
         KARD_CLIENT_SECRET=kard-test-secret KARD_ORGANIZATION_ID=org-123
  kard-async locations user-123 --lat 39.9526 --lon -75.1652 --radius 2

Any user id works (with --strict-users, rewards and audits need a user enrolled with
POST .../users first); the data (offers, ~340 locations in ten US metros) is the same every run.
Stop it with Ctrl-C.
"""


def add_parser(commands: Any) -> None:
    # The emulator's own options, copied from its parser so both stay the same.
    parser = commands.add_parser(
        "serve",
        parents=[emulator_parser(prog="kard-async serve")],
        add_help=False,
        help="run the bundled Kard emulator (test credentials, seeded data, fault injection)",
        description="Run a local Kard Rewards API emulator for your own tests and demos.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    for spec in args.fault:
        try:
            Fault.parse(spec)
        except ValueError as error:
            raise UsageError(f"--fault {spec!r}: {error}") from None
    argv: list[str] = args.argv
    # The options were checked by our parser (a copy of the emulator's); hand them over as is.
    return emulator_main(argv[argv.index("serve") + 1 :])
