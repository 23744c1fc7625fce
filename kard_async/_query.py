"""Encoding of URLs and JSON:API query strings, byte for byte as the API documents them.

Path segments are percent-encoded completely (an id containing ``/``, ``?`` or ``#`` keeps
the URL's shape), and ``.`` or ``..`` is refused as a segment. Query values encode a space
as ``%20`` (never ``+``); list values are sent as CSV, each item encoded on its own so a
comma inside an item cannot split it. Bracketed keys such as ``page[size]`` are written
as-is, as in the API's own ``links``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlsplit

from ._errors import InvalidParameterError
from ._validate import DOT_SEGMENTS

QueryValue = str | int | float | bool | Iterable[str] | None

# Ids are nearly always plain; skipping quote() for them saves most of a call's URL work.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quote(value: str) -> str:
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


# The same few segments (the version, the organization, a user's id) recur on every call.
_quote_segment = lru_cache(maxsize=4096)(_quote)


def path(*segments: str) -> str:
    """``path("v2", "issuers", org)`` -> ``/v2/issuers/<org, encoded>``."""
    if not DOT_SEGMENTS.isdisjoint(segments):
        # Ids are checked by name before; this catches the rest.
        segment = next(s for s in segments if s in DOT_SEGMENTS)
        raise InvalidParameterError(
            "id", segment, "'.' and '..' are not ids: they would change the URL's path"
        )
    return "/" + "/".join(map(_quote_segment, segments))


def _encode_value(key: str, value: object) -> str:
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return ",".join(_quote(item) for item in value)
    raise InvalidParameterError(
        key, value, "query values must be strings, finite numbers, booleans or lists of strings"
    )


def encode(params: Iterable[tuple[str, QueryValue]]) -> str:
    """Encode ``(key, value)`` pairs, skipping ``None`` values. Returns '' for no parameters.

    A value of any other type (bytes, a set, NaN) is refused with InvalidParameterError
    naming the query key, before anything is sent.
    """
    return "&".join(
        f"{key}={_encode_value(key, value)}" for key, value in params if value is not None
    )


def cursor_from_link(link: str | None, key: str = "page[after]") -> str | None:
    """Pull a cursor such as ``page[after]`` out of a relative ``links.next`` URL."""
    if not link:
        return None
    for name, value in parse_qsl(urlsplit(link).query, keep_blank_values=True):
        if name == key:
            return value or None
    return None
