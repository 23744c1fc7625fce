"""Retry policy: which failures are retried, and how long to wait before the next attempt.

The retry loop itself is ``backoff.on_exception`` in the transport; this module gives it
the decision (:func:`should_retry`) and the waits (:func:`wait_times`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from ._errors import APIConnectionError, APIStatusError, KardError

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A write answered with one of these was surely not processed, so resending cannot duplicate it.
NOT_PROCESSED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried.

    Waits are exponential with full jitter (``uniform(0, min(max_delay, base_delay * 2**n))``)
    unless the server sends ``Retry-After``, which is honoured up to ``max_retry_after``.
    A retry whose wait would end after ``budget`` seconds from the first attempt is not made.
    """

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    budget: float = 120.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")


def may_have_processed(status: int) -> bool:
    """Whether a write answered with ``status`` may have taken effect (2xx: it did)."""
    return 200 <= status < 300 or (status >= 500 and status not in NOT_PROCESSED_STATUSES)


def should_retry(error: BaseException, *, write: bool, retry_writes: bool) -> bool:
    """Reads retry every transient failure; writes only those that surely were not processed,
    unless the caller opted in to at-least-once delivery with ``retry_writes``."""
    if getattr(error, "before_send", False):
        write = False
    if isinstance(error, APIStatusError):
        if write and not retry_writes:
            return error.status in NOT_PROCESSED_STATUSES
        return error.status in RETRYABLE_STATUSES
    if isinstance(error, APIConnectionError):
        return error.transient and (not error.outcome_unknown or retry_writes)
    return False


def wait_times(policy: RetryPolicy) -> Generator[float, KardError | None, None]:
    """backoff wait generator, started at each call's first attempt: it is sent each failure
    and yields the next wait in seconds. Returning makes backoff give up and re-raise.
    """
    deadline = time.monotonic() + policy.budget
    attempt = 0
    error = yield 0.0
    while True:
        hint = getattr(error, "retry_after", None)
        if hint is not None:
            delay = min(float(hint), policy.max_retry_after)
        else:
            delay = random.uniform(0.0, min(policy.max_delay, policy.base_delay * 2**attempt))
        if time.monotonic() + delay > deadline:
            return
        attempt += 1
        error = yield delay


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP-date) or ``retry-after-ms``."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
