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


@lru_cache(maxsize=4096)
def _quote(value: str) -> str:
    # The same few values recur on every call: the version, the organization, a user's id,
    # an include list's items. Only plain strings come here (see _plain): a cached str
    # subclass (an enum member) would come back for an equal plain string.
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def _plain(value: str) -> str:
    """``value`` as an exact ``str`` (an enum member's value, not its name)."""
    return value if type(value) is str else str.__str__(value)


@lru_cache(maxsize=4096)
def path(*segments: str) -> str:
    """``path("v2", "issuers", org)`` -> ``/v2/issuers/<org, encoded>``."""
    if not DOT_SEGMENTS.isdisjoint(segments):
        # Ids are checked by name before; this catches the rest.
        segment = next(s for s in segments if s in DOT_SEGMENTS)
        raise InvalidParameterError(
            "id", segment, "'.' and '..' are not ids: they would change the URL's path"
        )
    return "/" + "/".join(map(_quote, map(_plain, segments)))


def _encode_value(key: str, value: object) -> str:
    # The exact types first (nearly every value): one test each instead of the chain below.
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return str(value)
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return repr(value)
    if isinstance(value, str):
        return _quote(_plain(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return ",".join(map(_quote, map(_plain, value)))
    raise InvalidParameterError(
        key, value, "query values must be strings, finite numbers, booleans or lists of strings"
    )


def encode(params: Iterable[tuple[str, QueryValue]]) -> str:
    """Encode ``(key, value)`` pairs, skipping ``None`` values. Returns '' for no parameters.

    A value of any other type (bytes, a set, NaN) is refused with InvalidParameterError
    naming the query key, before anything is sent.
    """
    return "&".join(
        [f"{key}={_encode_value(key, value)}" for key, value in params if value is not None]
    )


def cursor_from_link(link: str | None, key: str = "page[after]") -> str | None:
    """Pull a cursor such as ``page[after]`` out of a relative ``links.next`` URL."""
    if not link:
        return None
    for name, value in parse_qsl(urlsplit(link).query, keep_blank_values=True):
        if name == key:
            return value or None
    return None
