"""Connection flags shared by the API commands, turned into ``AsyncKard`` keyword arguments.

Every flag falls back to the environment variable the library itself reads, so the same
settings work for scripts and for the command line. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import ENVIRONMENTS

CONNECTION_HELP = """\
connection settings (flags override the environment):
  KARD_BASE_URL, KARD_ENVIRONMENT (production|sandbox), KARD_ORGANIZATION_ID,
  KARD_CLIENT_ID, KARD_CLIENT_SECRET
"""


class UsageError(Exception):
    """A mistake in the command line or its inputs: reported as ``error: ...``, exit code 2."""


def positive_float(text: str) -> float:
    """A finite number > 0 (``inf`` and ``nan`` parse as floats but are no timeout)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL, e.g. an emulator's http://127.0.0.1:8080 (env KARD_BASE_URL; "
        "default: production, or KARD_ENVIRONMENT)",
    )
    where.add_argument(
        "--sandbox",
        action="store_true",
        help=f"use the sandbox, {ENVIRONMENTS['sandbox']} (env KARD_ENVIRONMENT=sandbox)",
    )
    group.add_argument(
        "--organization-id",
        metavar="ID",
        help="your issuer organization id (env KARD_ORGANIZATION_ID)",
    )
    group.add_argument("--client-id", metavar="ID", help="OAuth client id (env KARD_CLIENT_ID)")
    group.add_argument(
        "--client-secret",
        metavar="SECRET",
        help="OAuth client secret (env KARD_CLIENT_SECRET; prefer the environment: "
        "command lines are visible to other users of the machine)",
    )
    group.add_argument(
        "--token-url", metavar="URL", help="token endpoint (default: BASE_URL/v2/auth/token)"
    )
    group.add_argument(
        "--token-style",
        choices=("json", "basic"),
        default="json",
        help="token request style: JSON body (default) or Basic auth + form, as in Kard's "
        "authentication guide (use with --token-url)",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="per-attempt timeout in seconds (default %(default)s)",
    )
    group.add_argument(
        "--max-retries",
        type=int_at_least(0),
        metavar="N",
        help="retries of a failed request (default: 2; 8 for uploads). Writes are retried "
        "only when they surely were not processed",
    )


def client_kwargs(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``AsyncKard`` keyword arguments from the connection flags; settings left out are read
    from the environment by ``AsyncKard`` itself."""
    env = os.environ if environ is None else environ
    missing = [
        f"{flag} (or {variable})"
        for flag, variable, value in (
            ("--client-id", "KARD_CLIENT_ID", args.client_id),
            ("--client-secret", "KARD_CLIENT_SECRET", args.client_secret),
            ("--organization-id", "KARD_ORGANIZATION_ID", args.organization_id),
        )
        if not (value or env.get(variable))
    ]
    if missing:
        raise UsageError(
            "missing " + ", ".join(missing) + "; to try the commands without an account, "
            "run `kard-async serve` and use the settings it prints"
        )
    kwargs: dict[str, Any] = {
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "organization_id": args.organization_id,
        "base_url": ENVIRONMENTS["sandbox"] if args.sandbox else args.base_url,
        "token_url": args.token_url,
        "token_style": args.token_style,
        "timeout": args.timeout,
    }
    if args.max_retries is not None:
        kwargs["max_retries"] = args.max_retries
    return kwargs
