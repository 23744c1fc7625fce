"""An opt-in layer for load tests and benchmarks: repeated reads served from encoded bytes.

Not part of the emulator's behaviour: ``python -m kard_async.testing --cache-reads`` (which
the benchmark harness uses) puts it in front of the handlers, so the emulator answers the
benchmark's 100-location page as fast as the clients under test can ask.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._routing import Call, Handler, Respond, Route
from .api import rewards

_MAX_BYTES = 64 * 1024 * 1024

# Reads whose body depends only on the request (path and query) and the immutable seed.
SEED_ONLY_READS: tuple[Handler, ...] = (rewards.offers, rewards.locations)


class ReadCache:
    """Caches successful bodies of ``handlers`` by raw path and query (one app, one loop)."""

    def __init__(
        self, handlers: Iterable[Handler] = SEED_ONLY_READS, *, max_bytes: int = _MAX_BYTES
    ) -> None:
        self._handlers = frozenset(handlers)
        self._max_bytes = max_bytes
        self._bodies: dict[tuple[str, str], bytes] = {}
        self._size = 0

    def __call__(self, found: Route, call: Call, respond: Respond) -> bytes:
        if found.handler not in self._handlers or call.extras:
            return respond(found, call)
        key = (call.raw_path, call.raw_query)
        body = self._bodies.get(key)
        if body is None:
            body = respond(found, call)  # an ApiError is never cached
            if self._size + len(body) > self._max_bytes:
                self._bodies.clear()
                self._size = 0
            self._bodies[key] = body
            self._size += len(body)
        return body
