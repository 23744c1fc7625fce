"""The ``kard-async`` command line (``python -m kard_async``). ``rich`` is optional."""

from ._app import build_parser, main

__all__ = ["build_parser", "main"]
