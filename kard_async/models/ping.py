"""Ping (API reference §11): is the API reachable from here, with these credentials?"""

from __future__ import annotations

from ._base import Model

__all__ = ["Ping"]


class Ping(Model):
    """The answer to ``kard.ping()``, e.g. ``Ping successful`` / ``OK``."""

    message: str
    status: str
    timestamp: str
    """As the server wrote it: an access-log style time such as
    ``02/Oct/2025:17:52:43 +0000``, not ISO 8601 (so it is kept as text)."""
