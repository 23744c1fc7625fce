"""Checks on caller input, run before anything is sent. Each failure names the parameter."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from ssl import SSLContext
from typing import TypeVar

from ._errors import InvalidParameterError

T = TypeVar("T")

# "." and ".." are dot-segments: URL normalisation (RFC 3986 §5.2.4) removes them, so as an
# id they would address another resource, whatever the percent-encoding.
DOT_SEGMENTS = frozenset({".", ".."})
# A header name is an RFC 9110 token; a value must not hold CR, LF or NUL (header injection).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")


def require_id(parameter: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(parameter, value, "must be a non-empty string")
    if value in DOT_SEGMENTS:
        raise InvalidParameterError(
            parameter, value, "'.' and '..' are not ids: they would change the URL's path"
        )
    return value


def _shown(value: object, hidden: bool) -> object:
    return f"<hidden {type(value).__name__}>" if hidden else value


def require_str(parameter: str, value: object, *, hidden: bool = False) -> str:
    """A non-empty string (``hidden``: a secret, never shown in the error)."""
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(parameter, _shown(value, hidden), "must be a non-empty string")
    return value


def require_header_value(parameter: str, value: object, *, hidden: bool = False) -> str:
    """A string that can be sent as an HTTP header value (``hidden``: never shown)."""
    if not isinstance(value, str) or _HEADER_VALUE_FORBIDDEN.search(value):
        shown = _shown(value, hidden)
        raise InvalidParameterError(
            parameter, shown, "must be a string without CR, LF or NUL (an HTTP header value)"
        )
    return value


def require_headers(parameter: str, headers: Mapping[str, str]) -> dict[str, str]:
    """Extra headers: token names, values safe to send. Values are never shown (they may be
    credentials)."""
    if not isinstance(headers, Mapping):
        raise InvalidParameterError(
            parameter, headers, "must be a mapping of header names to values"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidParameterError(
                parameter, name, "header names must be HTTP tokens (letters, digits, -, ...)"
            )
        checked[name] = require_header_value(f"{parameter}[{name!r}]", value, hidden=True)
    return checked


def require_http_url(parameter: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InvalidParameterError(parameter, value, "must be an http(s) URL")
    return value


def require_connection_options(
    proxy: object, trust_env: object, ssl: object, session: object | None
) -> None:
    """``proxy``, ``trust_env`` and ``ssl`` of a client (``session``: the caller's, if any)."""
    if proxy is not None:
        require_http_url("proxy", proxy)
    if not isinstance(trust_env, bool):
        raise InvalidParameterError("trust_env", trust_env, "must be True or False")
    if not isinstance(ssl, (bool, SSLContext)):
        raise InvalidParameterError(
            "ssl", ssl, "must be an ssl.SSLContext, or False to skip certificate checks"
        )
    if trust_env and session is not None:
        raise InvalidParameterError(
            "trust_env", trust_env, "applies to the client's own session", hint="set it on yours"
        )


def require_choice(parameter: str, value: T, allowed: Collection[T]) -> T:
    if value not in allowed:
        raise InvalidParameterError(
            parameter, value, "allowed values are " + ", ".join(repr(a) for a in allowed)
        )
    return value


def require_choices(parameter: str, values: str | Iterable[T], allowed: Collection[T]) -> list[T]:
    """A list parameter: a single string or an iterable of allowed values, at least one."""
    if isinstance(values, (bytes, bytearray)) or not isinstance(values, (str, Iterable)):
        raise InvalidParameterError(parameter, values, "must be a string or a list of strings")
    items: list[T] = [values] if isinstance(values, str) else list(values)  # type: ignore[list-item]
    if not items:
        raise InvalidParameterError(parameter, values, "must not be empty")
    for item in items:
        require_choice(parameter, item, allowed)
    return items


def require_aware(parameter: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidParameterError(parameter, value, "must be a datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidParameterError(
            parameter,
            value,
            "must be timezone-aware",
            hint="a naive datetime would silently mean the wrong time; "
            "use e.g. datetime.now(timezone.utc)",
        )
    return value


def require_number(parameter: str, value: object, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidParameterError(parameter, value, f"must be a number from {low:g} to {high:g}")
    return float(value)


def require_positive(parameter: str, value: object) -> float:
    """A finite number of seconds (or bytes) above zero."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidParameterError(parameter, value, "must be a finite number above 0")
    return float(value)


def require_int(parameter: str, value: object, *, low: int, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InvalidParameterError(parameter, value, f"must be an integer {bound}")
    return value


def nested(prefix: str, error: InvalidParameterError, whole: str = "") -> InvalidParameterError:
    """``error`` about an item, renamed to its place in the call: ``users[3].email``. An
    error about the item as a whole (its parameter is ``whole``) becomes ``users[3]``."""
    parameter = prefix if error.parameter == whole else f"{prefix}.{error.parameter}"
    return InvalidParameterError(parameter, error.value, error.allowed)
