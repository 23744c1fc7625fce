"""The ``kard-async`` command: argument parsing and dispatch, and how errors end a command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import InvalidParameterError, KardError
from .._version import __version__
from . import _demo, _files, _lookup, _serve, _transactions, _upload, _users, _webhooks
from ._output import printable
from ._settings import UsageError

EPILOG = """\
examples:
  kard-async demo                    # start here: everything working, no credentials needed
  kard-async serve --port 8080       # a local Kard emulator for your own tests
  kard-async locations user-123 --lat 39.9526 --lon -75.1652 --radius 2
  kard-async offers user-123 --category "Food & Beverage" --json
  kard-async attributions upload events.jsonl
  kard-async users upload users.csv       # enroll many users
  kard-async transactions upload transactions.jsonl
  kard-async transactions upload-file daily.jsonl   # a daily transaction file
  kard-async webhooks listen --port 8000   # verify and print Kard's notifications
  kard-async files download --latest .     # the latest reconciliation file

Run `kard-async COMMAND --help` for a command's options and examples.
Exit status: 0 on success, 1 when the work failed (or some events were not accepted),
2 for usage errors, 130 when interrupted (Ctrl-C).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kard-async",
        description="Command line for the Kard Rewards API, and a local emulator of it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kard-async {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _demo.add_parser(commands)
    _serve.add_parser(commands)
    _lookup.add_parsers(commands)
    attributions = commands.add_parser(
        "attributions",
        help="attribution events: upload",
        description="Attribution events.",
        epilog="example:\n  kard-async attributions upload events.jsonl\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    attribution_commands = attributions.add_subparsers(
        dest="attributions_command", metavar="COMMAND"
    )
    _upload.add_parser(attribution_commands)
    attributions.set_defaults(usage=attributions)
    _users.add_parser(commands)
    _transactions.add_parser(commands)
    _webhooks.add_parser(commands)
    _files.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kard-async`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(_attach_dash_values(arguments))
    run = getattr(args, "run", None)
    if run is None:  # no command (or no subcommand)
        getattr(args, "usage", parser).print_help(sys.stderr)
        return 2
    args.argv = arguments
    try:
        return int(run(args))
    except UsageError as error:
        _error(str(error))
        return 2
    except InvalidParameterError as error:
        _error(_describe_parameter(error))
        return 2
    except KardError as error:
        _error(str(error))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _attach_dash_values(arguments: list[str]) -> list[str]:
    """``--sort -name`` -> ``--sort=-name``: argparse would take ``-name`` for an option."""
    out: list[str] = []
    for argument in arguments:
        if (
            out
            and out[-1] in _DASH_VALUE_OPTIONS
            and argument[:1] == "-"
            and argument[1:2].isalpha()
        ):
            out[-1] = f"{out[-1]}={argument}"
        else:
            out.append(argument)
    return out


_DASH_VALUE_OPTIONS = frozenset({"--sort"})

# Library parameter -> the flag (or variable) that sets it, where the names differ.
_FLAGS = {
    "latitude": "--lat",
    "longitude": "--lon",
    "zip_code": "--zip",
    "purchase_channel": "--channel",
    "is_targeted": "--targeted",
    "environment": "KARD_ENVIRONMENT",
    "user_id": "USER",
}


def _describe_parameter(error: InvalidParameterError) -> str:
    """The library's message, in terms of the command line's flags."""
    name = _FLAGS.get(error.parameter, "--" + error.parameter.replace("_", "-"))
    value = "" if error.value is None else f" {error.value!r}"
    hint = str(error).rpartition(error.allowed)[2]  # " (hint)" or ""
    return f"invalid {name}{value}: {error.allowed}{hint}"


def _error(message: str) -> None:
    print(f"kard-async: error: {printable(message)}", file=sys.stderr)
