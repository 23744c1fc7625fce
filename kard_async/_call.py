"""The description of one HTTP call: what resource methods build and the transport executes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .models._base import Decoder

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call.

    ``path`` is relative to the base URL (already percent-encoded) unless ``absolute`` is set.
    ``write`` marks a non-idempotent call, which is retried only when it surely was not
    processed. ``authenticated`` is False only for the token request itself.
    """

    method: str
    path: str
    decoder: Decoder[T]
    query: str = ""
    body: bytes | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    write: bool = False
    authenticated: bool = True
    absolute: bool = False
