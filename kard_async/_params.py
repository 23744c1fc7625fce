"""Query parameters shared by several API areas, checked before anything is sent.

Enum-like values are open: Kard adds values often, so a value this version has never heard
of is passed through (the ``Literal`` annotations are for editors and type checkers). What
is checked is structure: types, ranges, pairs that go together, exclusive cursors.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import InvalidParameterError
from ._query import QueryValue
from ._validate import require_int, require_number

Query = list[tuple[str, QueryValue]]


def text(parameter: str, value: str | None) -> str | None:
    """A single string value (an open enum, a search term); None leaves it out."""
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidParameterError(parameter, value, "must be a non-empty string")
    return value


def csv(parameter: str, value: str | Sequence[str] | None) -> list[str] | None:
    """A list value, sent as CSV: one string (``"a,b"`` is split) or a sequence of them."""
    if value is None:
        return None
    items = [p.strip() for p in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) and (
        isinstance(items, (bytes, bytearray)) or not isinstance(items, Sequence)
    ):  # the ABC check (slow) only for what is neither a list nor a tuple
        raise InvalidParameterError(parameter, value, "must be a non-empty list of strings")
    if not items:
        raise InvalidParameterError(parameter, value, "must be a non-empty list of strings")
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidParameterError(parameter, value, "must be a non-empty list of strings")
    return list(items)


def flag(parameter: str, value: bool | None) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidParameterError(parameter, value, "must be True or False")
    return value


def side_loads(
    include: str | Sequence[str] | None, supported_components: str | Sequence[str] | None
) -> Query:
    """``include`` (related resources to side-load) and ``supportedComponents`` (UI hints)."""
    return [
        ("include", csv("include", include)),
        ("supportedComponents", csv("supported_components", supported_components)),
    ]


def paging(
    page_size: int | None,
    after: str | None,
    before: str | None = None,
    *,
    max_size: int | None = None,
) -> Query:
    if page_size is not None:
        require_int("page_size", page_size, low=1, high=max_size)
    if after is not None and before is not None:
        raise InvalidParameterError("before", before, "pass either after= or before=, not both")
    return [
        ("page[size]", page_size),
        ("page[after]", text("after", after)),
        ("page[before]", text("before", before)),
    ]


def geo(latitude: float | None, longitude: float | None, radius: int | None) -> Query:
    """A search around a point: latitude and longitude together, radius (miles) with them."""
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        given = "latitude" if longitude is None else "longitude"
        raise InvalidParameterError(missing, None, f"required together with {given}")
    if latitude is not None:
        require_number("latitude", latitude, low=-90, high=90)
    if longitude is not None:
        require_number("longitude", longitude, low=-180, high=180)
    if radius is not None:
        require_int("radius", radius, low=1)
        if latitude is None:
            raise InvalidParameterError(
                "radius", radius, "only applies to a search by latitude and longitude"
            )
    return [
        ("filter[latitude]", latitude),
        ("filter[longitude]", longitude),
        ("filter[radius]", radius),
    ]
