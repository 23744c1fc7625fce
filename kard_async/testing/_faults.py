"""Fault injection: what can go wrong, for which requests, and how often."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast

FaultKind = Literal[
    "latency",
    "status",
    "drop_before",
    "drop_after",
    "truncate",
    "malformed",
    "extras",
    "drop_mid_body",
]
FAULT_KINDS: tuple[str, ...] = (
    "latency",
    "status",
    "drop_before",
    "drop_after",
    "truncate",
    "malformed",
    "extras",
    "drop_mid_body",
)
_INT_KEYS = ("skip", "seed", "status")
_FLOAT_KEYS = ("probability", "delay")
_STR_KEYS = ("method", "path", "retry_after")
_SPEC_KEYS = ("kind", "times", *_INT_KEYS, *_FLOAT_KEYS, *_STR_KEYS)
_KEY_ALIASES = {"retry-after": "retry_after"}


@dataclass
class Fault:
    """A misbehaviour applied to matching requests.

    ``path`` is a regular expression searched in the decoded request path. ``times=None``
    means unlimited. ``applied`` counts how often the fault actually fired.

    On the object store's presigned URLs (``/kard-files/...``), ``drop_mid_body`` closes
    the connection after reading about half of a PUT's body, ``latency`` pauses reading
    it after the first chunk (a slow store) and ``truncate`` cuts a download short; on
    API routes ``drop_mid_body`` acts like ``drop_before``.
    """

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    skip: int = 0
    probability: float = 1.0
    seed: int = 0
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    applied: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _skipped: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be >= 1 or None, got {self.times}")
        if self.skip < 0:
            raise ValueError(f"skip must be >= 0, got {self.skip}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {self.probability}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {self.status}")
        if self.delay < 0:
            raise ValueError(f"delay must be >= 0, got {self.delay}")
        if self.path is not None:
            try:
                self._pattern = re.compile(self.path)
            except re.error as exc:
                raise ValueError(f"invalid path regex {self.path!r}: {exc}") from None
        if self.method is not None:
            self.method = self.method.upper()
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Build a fault from CLI syntax, e.g. ``"status=429,retry_after=1,times=5"``.

        The first bare word (or ``kind=...``) names the kind; ``status=...`` alone implies
        ``kind=status`` and ``delay=...`` alone implies ``kind=latency``. ``times=None``
        means unlimited.
        """
        values: dict[str, str] = {}
        kind: str | None = None
        last_key: str | None = None
        for token in spec.split(","):
            key, sep, value = token.partition("=")
            key = _KEY_ALIASES.get(key.strip(), key.strip())
            if not sep and key in FAULT_KINDS:
                if kind is not None:
                    raise ValueError(f"fault spec {spec!r} names more than one kind")
                kind, last_key = key, None
                continue
            if sep and key in _SPEC_KEYS:
                if key in values:
                    raise ValueError(f"fault spec {spec!r} repeats {key!r}")
                values[key], last_key = value.strip(), key
                continue
            if last_key in ("path", "retry_after"):
                # A comma inside a regex (e.g. "{1,3}") or an HTTP date belongs to the value.
                values[last_key] += "," + token
                continue
            raise ValueError(
                f"bad fault spec item {token!r} in {spec!r}; expected a kind "
                f"({', '.join(FAULT_KINDS)}) or key=value with key in {', '.join(_SPEC_KEYS)}"
            )
        if "kind" in values:
            if kind is not None:
                raise ValueError(f"fault spec {spec!r} names more than one kind")
            kind = values.pop("kind")
        if kind is None:
            if "status" in values:
                kind = "status"
            elif "delay" in values:
                kind = "latency"
            else:
                raise ValueError(f"fault spec {spec!r} does not name a kind ({FAULT_KINDS})")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        return cls(kind=cast(FaultKind, kind), **_convert(values, spec))

    def _matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def _try_fire(self, method: str, path: str) -> bool:
        """Decide whether this fault applies to a request; update counters if it does."""
        if self.times is not None and self.applied >= self.times:
            return False
        if not self._matches(method, path):
            return False
        if self._skipped < self.skip:
            self._skipped += 1
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.applied += 1
        return True


def _convert(values: dict[str, str], spec: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in values.items():
        try:
            if key == "times":
                out[key] = None if raw.lower() in ("none", "unlimited", "inf") else int(raw)
            elif key in _INT_KEYS:
                out[key] = int(raw)
            elif key in _FLOAT_KEYS:
                out[key] = float(raw)
            else:
                out[key] = raw
        except ValueError:
            raise ValueError(f"bad value {raw!r} for {key!r} in fault spec {spec!r}") from None
    return out
