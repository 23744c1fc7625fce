"""Encoding of URLs and JSON:API query strings, byte for byte as the API documents them.

Path segments are percent-encoded completely (an id containing ``/``, ``?`` or ``#`` keeps
the URL's shape). Query values encode a space as ``%20`` (never ``+``); list values are
sent as CSV, each item encoded on its own so a comma inside an item cannot split it.
Bracketed keys such as ``page[size]`` are written as-is, as in the API's own ``links``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlsplit

QueryValue = str | int | float | bool | Iterable[str] | None

# Ids are nearly always plain; skipping quote() for them saves most of a call's URL work.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quote(value: str) -> str:
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def path(*segments: str) -> str:
    """``path("v2", "issuers", org)`` -> ``/v2/issuers/<org, encoded>``."""
    return "/" + "/".join(_quote(s) for s in segments)


def _encode_value(value: str | int | float | bool | Iterable[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return _quote(value)
    return ",".join(_quote(item) for item in value)


def encode(params: Iterable[tuple[str, QueryValue]]) -> str:
    """Encode ``(key, value)`` pairs, skipping ``None`` values. Returns '' for no parameters."""
    return "&".join(f"{key}={_encode_value(value)}" for key, value in params if value is not None)


def cursor_from_link(link: str | None, key: str = "page[after]") -> str | None:
    """Pull a cursor such as ``page[after]`` out of a relative ``links.next`` URL."""
    if not link:
        return None
    for name, value in parse_qsl(urlsplit(link).query, keep_blank_values=True):
        if name == key:
            return value or None
    return None
