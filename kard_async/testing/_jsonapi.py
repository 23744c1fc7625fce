"""JSON:API plumbing: error objects, query parameters, cursors and pagination links."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from ._constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

_TITLES = {400: "Invalid Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def error_object(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    pointer: str | None = None,
    parameter: str | None = None,
    header: str | None = None,
) -> dict[str, Any]:
    if title is None:
        title = _TITLES.get(status)
        if title is None:
            try:
                title = HTTPStatus(status).phrase
            except ValueError:
                title = "Error"
    error: dict[str, Any] = {"status": str(status), "title": title, "detail": detail}
    source = {
        key: value
        for key, value in (("pointer", pointer), ("parameter", parameter), ("header", header))
        if value is not None
    }
    if source:
        error["source"] = source
    return error


class ApiError(Exception):
    """Raised by endpoint code; turned into a JSON:API error response."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        header: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.errors = errors or [
            error_object(status, detail, pointer=pointer, parameter=parameter, header=header)
        ]
        self.headers = headers or {}


def invalid_parameter(name: str, detail: str) -> ApiError:
    return ApiError(400, detail, parameter=name)


class Params:
    """Decoded query parameters, keeping repeated keys."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items: dict[str, list[str]] = {}
        for key, value in items:
            self._items.setdefault(key, []).append(value)

    def single(self, name: str) -> str | None:
        values = self._items.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise invalid_parameter(name, f"{name} must be given at most once")
        return values[0]

    def csv(self, name: str, allowed: Sequence[str] | None = None) -> list[str]:
        """Values of a list parameter given as CSV, repeated keys, or both (deduplicated)."""
        out: list[str] = []
        for value in self._items.get(name, ()):
            for piece in value.split(","):
                item = piece.strip()
                if not item:
                    continue
                if allowed is not None and item not in allowed:
                    raise invalid_parameter(
                        name,
                        f"{name} value {item!r} is not allowed; allowed values: "
                        + ", ".join(allowed),
                    )
                if item not in out:
                    out.append(item)
        return out

    def boolean(self, name: str) -> bool | None:
        value = self.single(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise invalid_parameter(name, f"{name} must be 'true' or 'false', got {value!r}")
        return value == "true"

    def number(self, name: str) -> float | None:
        value = self.single(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise invalid_parameter(name, f"{name} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise invalid_parameter(name, f"{name} must be a finite number, got {value!r}")
        return number

    def integer(self, name: str) -> int | None:
        value = self.single(name)
        if value is None:
            return None
        if not re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
            raise invalid_parameter(name, f"{name} must be an integer, got {value!r}")
        return int(value)


def canonical_query(
    params: Params, names: Sequence[str], lists: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Request parameters ``names`` (not pagination) in a fixed order, ``lists`` as CSV.

    What list links carry, so that following ``links.next`` keeps every filter.
    """
    rest: list[tuple[str, str]] = []
    for name in names:
        if name in lists:
            values = params.csv(name)
            if values:
                rest.append((name, ",".join(values)))
        else:
            value = params.single(name)
            if value is not None:
                rest.append((name, value))
    return rest


def sort_by(items: list[Any], sorts: Sequence[str], keys: dict[str, Any]) -> list[Any]:
    """Sort in place by JSON:API ``sort`` fields (``-`` for descending), first field first."""
    # Stable sorts applied from the last key to the first give a multi-key ordering.
    for sort in reversed(sorts):
        items.sort(key=keys[sort.lstrip("-")], reverse=sort.startswith("-"))
    return items


# --------------------------------------------------------------------------- pagination


def query_string(items: Iterable[tuple[str, str]]) -> str:
    """Encode values but keep brackets in keys and commas in CSV values, like the API does."""
    return "&".join(f"{key}={quote(value, safe=',-._~')}" for key, value in items)


def encode_cursor(offset: int) -> str:
    raw = json.dumps({"offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(name: str, cursor: str, total: int) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        offset = payload["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid_parameter(name, f"{name} is not a valid cursor: {cursor!r}") from None
    if type(offset) is not int or not 0 <= offset <= total:
        raise invalid_parameter(name, f"{name} cursor is out of range: {cursor!r}")
    return offset


class Page:
    """The window of a result list selected by ``page[size]``/``page[after]``/``page[before]``."""

    __slots__ = ("cursor_param", "end", "size", "start", "total")

    def __init__(self, params: Params, total: int, *, max_size: int = MAX_PAGE_SIZE) -> None:
        size = params.integer("page[size]")
        if size is None:
            size = DEFAULT_PAGE_SIZE
        elif not 1 <= size <= max_size:
            raise invalid_parameter(
                "page[size]", f"page[size] must be between 1 and {max_size}, got {size}"
            )
        after = params.single("page[after]")
        before = params.single("page[before]")
        if after is not None and before is not None:
            raise invalid_parameter(
                "page[before]", "page[after] and page[before] cannot be used together"
            )
        self.size, self.total = size, total
        self.cursor_param: tuple[str, str] | None = None
        if after is not None:
            self.start = decode_cursor("page[after]", after, total)
            self.end = min(total, self.start + size)
            self.cursor_param = ("page[after]", after)
        elif before is not None:
            self.end = decode_cursor("page[before]", before, total)
            self.start = max(0, self.end - size)
            self.cursor_param = ("page[before]", before)
        else:
            self.start, self.end = 0, min(total, size)

    def links(self, path: str, rest: Sequence[tuple[str, str]]) -> dict[str, str | None]:
        """Relative ``self``/``prev``/``next`` links carrying every filter of the request."""

        def link(cursor: tuple[str, str] | None) -> str:
            items: list[tuple[str, str]] = [cursor] if cursor else []
            items.append(("page[size]", str(self.size)))
            items.extend(rest)
            return path + "?" + query_string(items)

        return {
            "self": link(self.cursor_param),
            "prev": link(("page[before]", encode_cursor(self.start))) if self.start > 0 else None,
            "next": link(("page[after]", encode_cursor(self.end)))
            if self.end < self.total
            else None,
        }


def format_datetime(moment: datetime) -> str:
    """UTC ISO-8601 with millisecond precision and a ``Z`` suffix."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
