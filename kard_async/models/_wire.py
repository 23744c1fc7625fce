"""Building a request model from its wire mapping, with msgspec's errors turned into
:class:`~kard_async.InvalidParameterError` naming the field (shared by every area)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from .._errors import InvalidParameterError

S = TypeVar("S", bound=msgspec.Struct)
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def from_wire(name: str, obj: Mapping[str, Any], cls: type[S]) -> S:
    """``msgspec.convert`` with its errors as :class:`InvalidParameterError` naming the
    field (prefixed with ``name`` when given)."""
    try:
        return msgspec.convert(obj, cls)
    except msgspec.ValidationError as error:
        message, at, where = str(error).rpartition(" - at `$")
        if not at:
            message, where = where, ""
        field = where.rstrip("`").lstrip(".")
        cause = error.__cause__
        if isinstance(cause, InvalidParameterError):  # from a __post_init__, maybe nested
            parameter = ".".join(part for part in (name, field, cause.parameter) if part)
            tail = str(cause).rpartition(cause.allowed)[2]  # " (hint)" or ""
            hint = tail[2:-1] if tail.startswith(" (") else ""
            raise InvalidParameterError(parameter, cause.value, cause.allowed, hint=hint) from None
        missing = _MISSING.match(message)
        if missing:  # name the missing field itself, not the object that lacks it
            field = ".".join(part for part in (field, missing.group(1)) if part)
            message = "is required"
        elif message == "Expected `int`, got `float`":
            message = "must be an integer (a float is refused, never rounded)"
        path = ".".join(part for part in (name, field) if part) or cls.__name__
        raise InvalidParameterError(path, _lookup(obj, field), message) from None


def _lookup(obj: Any, field: str) -> Any:
    """The value at ``field`` (``merchant.latitude``, ``cardLastFours[1]``) in ``obj``."""
    for part in re.findall(r"[^.\[\]]+", field):
        if isinstance(obj, Mapping):
            obj = obj.get(part)
        elif isinstance(obj, Sequence) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj
