"""Fan-out bulk attribution uploads: any number of events, for any number of users.

Events are grouped by user into requests of at most 100, sent with bounded, adaptive
concurrency, and every input event is accounted for in exactly one of
``report.jobs`` (accepted), ``report.failed`` or ``report.invalid``.

Memory stays bounded whatever the input size: the input is consumed lazily, full batches
wait in a short queue (the producer pauses when it is full), and partial batches are sent
early, largest first, whenever more than ``max_buffered_events`` are waiting for their
batch to fill.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import anyio.to_thread

from ._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InvalidParameterError,
    KardError,
    ResponseValidationError,
)
from ._transport import ResponseInfo
from ._validate import require_id
from .models.attributions import AttributionEvent, as_event

if TYPE_CHECKING:
    from .resources.attributions import AsyncAttributions

__all__ = [
    "AcceptedBatch",
    "BulkProgress",
    "BulkReport",
    "BulkUploadError",
    "EventInput",
    "EventsInput",
    "FailedBatch",
    "InvalidEvent",
]

BATCH_SIZE = 100
_PROGRESS_INTERVAL = 0.1
_READ_CHUNK = 1024  # input items read per worker-thread hop from a (possibly blocking) iterator
_POINTER = re.compile(r"^/data/(\d+)(?:/|$)")

EventInput = Union[AttributionEvent, Mapping[str, Any]]  # noqa: UP007
EventsInput = Union[  # noqa: UP007
    Iterable[tuple[str, EventInput]],
    AsyncIterable[tuple[str, EventInput]],
    Mapping[str, Iterable[EventInput]],
]


@dataclass(frozen=True)
class AcceptedBatch:
    """One accepted request: ``event_count`` events of ``user_id``, queued as ``job_id``.

    ``job_id`` is None when the server accepted the request (2xx) but its answer could not
    be read.
    """

    user_id: str
    job_id: str | None
    event_count: int


@dataclass(frozen=True)
class FailedBatch:
    """One request that did not get through.

    ``outcome_unknown`` is True when the server may have processed it anyway (the connection
    broke while waiting for the answer, or a 5xx other than 503): re-sending those events
    may duplicate them. Otherwise the server surely did not record them.
    """

    user_id: str
    events: tuple[AttributionEvent, ...]
    error: KardError
    outcome_unknown: bool


@dataclass(frozen=True)
class InvalidEvent:
    """An input item rejected before sending (or by the server's validation), with why.

    ``index`` is its position in the input (0-based); ``user_id`` and ``event`` are what was
    given, as given.
    """

    index: int
    user_id: object
    event: object
    reason: str


@dataclass(frozen=True)
class BulkProgress:
    """Running totals, in events, passed to ``on_progress``."""

    accepted: int
    failed: int
    invalid: int

    @property
    def done(self) -> int:
        return self.accepted + self.failed + self.invalid


@dataclass
class BulkReport:
    """The outcome of ``bulk_create``: every input event is in exactly one of
    ``jobs`` (accepted), ``failed`` or ``invalid``."""

    jobs: list[AcceptedBatch] = field(default_factory=list)
    failed: list[FailedBatch] = field(default_factory=list)
    invalid: list[InvalidEvent] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def accepted(self) -> int:
        """Number of events in accepted requests."""
        return sum(job.event_count for job in self.jobs)

    @property
    def failed_count(self) -> int:
        """Number of events in failed requests."""
        return sum(len(batch.events) for batch in self.failed)

    @property
    def ok(self) -> bool:
        """True when every input event was accepted."""
        return not self.failed and not self.invalid

    def failed_events(self, *, include_unknown: bool = True) -> list[tuple[str, AttributionEvent]]:
        """The ``(user_id, event)`` pairs of failed requests, ready to pass to ``bulk_create``
        again. ``include_unknown=False`` leaves out requests the server may have processed,
        so that re-sending cannot duplicate anything."""
        return [
            (batch.user_id, event)
            for batch in self.failed
            if include_unknown or not batch.outcome_unknown
            for event in batch.events
        ]

    def raise_for_failures(self) -> None:
        """Raise :class:`BulkUploadError` unless every event was accepted."""
        if not self.ok:
            raise BulkUploadError(self)

    def progress(self) -> BulkProgress:
        return BulkProgress(self.accepted, self.failed_count, len(self.invalid))

    def __str__(self) -> str:
        unknown = sum(len(b.events) for b in self.failed if b.outcome_unknown)
        return (
            f"{self.accepted} events accepted in {len(self.jobs)} requests, "
            f"{self.failed_count} failed ({unknown} with unknown outcome), "
            f"{len(self.invalid)} invalid, in {self.elapsed:.2f}s"
        )


class BulkUploadError(KardError):
    """Raised by ``BulkReport.raise_for_failures()``; ``report`` has the details."""

    def __init__(self, report: BulkReport) -> None:
        super().__init__(f"bulk upload incomplete: {report}")
        self.report = report


class _AdaptiveLimit:
    """Concurrency limit that halves when the server pushes back (429/503) and grows back
    by one request per round of successes (additive increase, multiplicative decrease)."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.active = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.active < max(1, int(self.limit)))
            self.active += 1

    async def release(self) -> None:
        async with self._changed:
            self.active -= 1
            self._changed.notify_all()

    def pushed_back(self) -> None:
        self.limit = max(1.0, self.limit / 2)

    def succeeded(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)


@dataclass
class _Batch:
    user_id: str
    events: list[AttributionEvent]
    indexes: list[int]


class BulkUploader:
    """One ``bulk_create`` run. Not reusable."""

    def __init__(
        self,
        attributions: AsyncAttributions,
        *,
        concurrency: int,
        max_buffered_events: int,
        on_progress: Callable[[BulkProgress], None] | None,
    ) -> None:
        self._attributions = attributions
        self._limit = _AdaptiveLimit(concurrency)
        self._concurrency = concurrency
        self._max_buffered = max_buffered_events
        self._on_progress = on_progress
        self._report = BulkReport()
        self._accepted = 0
        self._failed = 0
        self._last_progress = 0.0
        # Set when the credentials are refused (401 even with a fresh token): every later
        # batch would fail the same way, so it is reported failed without being sent.
        self._refused: KardError | None = None
        self._buffers: dict[str, _Batch] = {}
        self._in_flight: dict[int, _Batch] = {}
        self._ready: list[_Batch] = []
        self._buffered = 0
        self._queue: asyncio.Queue[_Batch | None] = asyncio.Queue(maxsize=concurrency)

    def on_response(self, info: ResponseInfo) -> None:
        if info.status in (429, 503):
            self._limit.pushed_back()

    async def run(self, events: EventsInput) -> BulkReport:
        started = time.monotonic()
        workers = [asyncio.ensure_future(self._worker()) for _ in range(self._concurrency)]
        producer = asyncio.ensure_future(self._produce(events, len(workers)))
        tasks = [producer, *workers]
        try:
            # Whichever fails first ends the upload: a producer blocked on a full queue must
            # not wait forever for workers that died.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        except BaseException as error:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._settle_unfinished(error)
            # Every event taken from the input so far, accounted for: what not to resend.
            error.kard_bulk_report = self._report  # type: ignore[attr-defined]
            raise
        self._report.elapsed = time.monotonic() - started
        self._progress(force=True)
        return self._report

    def _settle_unfinished(self, cause: BaseException) -> None:
        """After a failure or cancellation: requests in flight may have been processed;
        batches still queued or buffered were never sent."""
        self._on_progress = None
        stopped = KardError(f"the upload stopped ({type(cause).__name__}) first")
        for batch in self._in_flight.values():
            self._fail(batch, stopped, outcome_unknown=True)
        unsent = [*self._ready, *self._buffers.values()]
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if queued is not None:
                unsent.append(queued)
        for batch in unsent:
            self._fail(batch, stopped, outcome_unknown=False)

    # --- producer: validate, group by user, hand out batches ---

    async def _produce(self, events: EventsInput, workers: int) -> None:
        # Per item only a plain call: a coroutine per event cost more than all the rest of
        # the bookkeeping. Only a full batch (or a full buffer) awaits.
        take = self._take
        index = 0
        if isinstance(events, AsyncIterable):
            async for item in events:
                if take(index, item):
                    await self._drain()
                index += 1
        elif isinstance(events, (Sequence, Mapping)):  # already in memory: read inline
            for index, item in enumerate(_pairs(events)):
                if take(index, item):
                    await self._drain()
        else:
            # An iterator may block (a file, a pipe, a database cursor): read it a chunk at a
            # time in a worker thread, so the event loop (for Kard, every caller) runs on.
            iterator = iter(events)
            while True:
                chunk, failure = await anyio.to_thread.run_sync(
                    _next_chunk, iterator, abandon_on_cancel=True
                )
                for item in chunk:
                    if take(index, item):
                        await self._drain()
                    index += 1
                if failure is not None:  # after the items read before it: they count
                    raise failure
                if not chunk:
                    break
        for user_id in list(self._buffers):
            await self._dispatch(self._buffers[user_id])
            del self._buffers[user_id]
        for _ in range(workers):
            await self._queue.put(None)

    def _take(self, index: int, item: object) -> bool:
        """Buffer one input item; True when a batch is ready or the buffer is over its limit."""
        try:
            user_id, event = _validate(item)
        except InvalidParameterError as error:
            pair = item if isinstance(item, tuple) and len(item) == 2 else (None, item)
            self._invalid(index, pair[0], pair[1], str(error))
            return False
        batch = self._buffers.get(user_id)
        if batch is None:
            batch = self._buffers[user_id] = _Batch(user_id, [], [])
        batch.events.append(event)
        batch.indexes.append(index)
        self._buffered += 1
        if len(batch.events) == BATCH_SIZE:
            del self._buffers[user_id]
            self._ready.append(batch)
            return True
        return self._buffered > self._max_buffered

    async def _drain(self) -> None:
        while self._ready:
            await self._dispatch(self._ready[0])
            del self._ready[0]
        if self._buffered > self._max_buffered:
            await self._flush_largest()

    async def _flush_largest(self) -> None:
        # Largest partial batches first: they cost the fewest extra requests.
        target = self._max_buffered // 2
        for batch in sorted(self._buffers.values(), key=lambda b: len(b.events), reverse=True):
            if self._buffered <= target:
                break
            await self._dispatch(batch)
            del self._buffers[batch.user_id]  # only once queued: a cancelled put keeps it here

    async def _dispatch(self, batch: _Batch) -> None:
        self._buffered -= len(batch.events)
        await self._queue.put(batch)

    # --- workers: send batches, account for every event ---

    async def _worker(self) -> None:
        while (batch := await self._queue.get()) is not None:
            self._in_flight[id(batch)] = batch
            await self._limit.acquire()
            try:
                await self._send(batch)
            finally:
                await self._limit.release()
            del self._in_flight[id(batch)]  # not reached when cancelled mid-request

    async def _send(self, batch: _Batch) -> None:
        if self._refused is not None:
            self._fail(batch, self._refused, outcome_unknown=False)
            return
        try:
            job = await self._attributions._create_checked(batch.user_id, batch.events)
        except ResponseValidationError as error:
            if error.before_send:  # the token response was unreadable: nothing was sent
                self._fail(batch, error, outcome_unknown=False)
            elif 200 <= error.status < 300:  # accepted; only the answer was unreadable
                self._accept(batch, None)
            else:
                self._fail(batch, error, outcome_unknown=True)
        except BadRequestError as error:
            await self._rejected(batch, error)
        except AuthenticationError as error:  # even after a fresh token: stop sending
            self._refused = error
            self._fail(batch, error, outcome_unknown=False)
        except (APIStatusError, APIConnectionError) as error:
            self._fail(batch, error, outcome_unknown=error.outcome_unknown)
        else:
            self._limit.succeeded()
            self._accept(batch, job.id)

    async def _rejected(self, batch: _Batch, error: BadRequestError) -> None:
        """The server refused the whole batch (nothing recorded). If its errors point at
        events, those become invalid and the rest are sent again."""
        bad: dict[int, str] = {}
        for item in error.errors:
            match = _POINTER.match(item.source.pointer or "") if item.source else None
            if match and int(match.group(1)) < len(batch.events):
                bad.setdefault(int(match.group(1)), item.detail or item.title or str(error))
        if not bad:
            self._fail(batch, error, outcome_unknown=False)
            return
        for position, reason in sorted(bad.items()):
            self._invalid(
                batch.indexes[position], batch.user_id, batch.events[position], f"server: {reason}"
            )
        keep = [i for i in range(len(batch.events)) if i not in bad]
        # The same batch object, trimmed: whatever happens next accounts for these events once.
        batch.events = [batch.events[i] for i in keep]
        batch.indexes = [batch.indexes[i] for i in keep]
        if keep:
            await self._send(batch)

    def _accept(self, batch: _Batch, job_id: str | None) -> None:
        self._report.jobs.append(AcceptedBatch(batch.user_id, job_id, len(batch.events)))
        self._accepted += len(batch.events)
        self._progress()

    def _fail(self, batch: _Batch, error: KardError, *, outcome_unknown: bool) -> None:
        self._report.failed.append(
            FailedBatch(batch.user_id, tuple(batch.events), error, outcome_unknown)
        )
        self._failed += len(batch.events)
        self._progress()

    def _invalid(self, index: int, user_id: object, event: object, reason: str) -> None:
        self._report.invalid.append(InvalidEvent(index, user_id, event, reason))
        self._progress()

    def _progress(self, *, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= _PROGRESS_INTERVAL:
            self._last_progress = now
            self._on_progress(BulkProgress(self._accepted, self._failed, len(self._report.invalid)))


def _next_chunk(iterator: Iterator[Any]) -> tuple[list[Any], Exception | None]:
    """Up to ``_READ_CHUNK`` items, and the error that stopped the iterator early, if any."""
    chunk: list[Any] = []
    try:
        chunk.extend(itertools.islice(iterator, _READ_CHUNK))
    except Exception as error:
        return chunk, error
    return chunk, None


def _pairs(events: Iterable[Any] | Mapping[str, Iterable[Any]]) -> Iterable[Any]:
    if isinstance(events, Mapping):
        return (
            (user_id, event) for user_id, user_events in events.items() for event in user_events
        )
    return events


def _validate(item: object) -> tuple[str, AttributionEvent]:
    if not isinstance(item, tuple) or len(item) != 2:
        raise InvalidParameterError("item", item, "must be a (user_id, event) pair")
    user_id, event = item
    require_id("user_id", user_id)
    return user_id, as_event(event)
