"""Variant "raw": aiohttp reading the page bytes without decoding them, the transport
ceiling. Same code as :mod:`benchmarks.minimal` with the decode step left out."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from . import minimal
from ._common import WorkerArgs, worker_main


def run(args: WorkerArgs) -> dict[str, Any]:
    return minimal.run(args, decode=False)


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.raw", measures=("get", "bulk"), run=run)


if __name__ == "__main__":
    sys.exit(main())
