"""Checks on caller input, run before anything is sent. Each failure names the parameter."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TypeVar

from ._errors import InvalidParameterError

T = TypeVar("T")


def require_id(parameter: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(parameter, value, "must be a non-empty string")
    return value


def require_choice(parameter: str, value: T, allowed: Collection[T]) -> T:
    if value not in allowed:
        raise InvalidParameterError(
            parameter, value, "allowed values are " + ", ".join(repr(a) for a in allowed)
        )
    return value


def require_choices(parameter: str, values: str | Iterable[T], allowed: Collection[T]) -> list[T]:
    """A list parameter: a single string or an iterable of allowed values, at least one."""
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
