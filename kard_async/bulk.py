"""The batch engine behind every ``bulk_*`` helper: any number of items, in as few requests
as the API allows, with every input item accounted for exactly once.

A helper is a :class:`BatchSpec`: how to check an input item and find its batch key (a user
id, or the organization), how many items one request takes, how to encode a batch and where
to send it. The engine does the rest, the same way for every helper:

* the input is consumed lazily (a blocking iterator a chunk at a time in a worker thread),
  grouped by key into batches, and memory stays bounded: full batches wait in a short queue
  and partial ones are sent early, largest first, when too many items wait;
* up to ``concurrency`` requests are in flight; when the server pushes back (429/503) the
  limit halves and grows back, and ``Retry-After`` pauses the whole client;
* a request is retried only when it surely was not processed;
* per-item outcomes: a 400 (or 409) whose errors point at items (``/data/N``, or an item's
  ``id``) makes those items invalid and sends the rest again; a 207 multi-status files each
  failed item under invalid (4xx) or failed (otherwise) and never re-sends what was accepted;
* every item ends up in exactly one of ``report.jobs`` (accepted), ``report.failed`` or
  ``report.invalid``, also when the upload is cancelled or a callback raises (the partial
  report is then attached to the exception as ``kard_bulk_report``).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import repeat
from typing import Any, Generic, TypeVar

import msgspec

from ._call import Call
from ._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorObject,
    InvalidParameterError,
    KardError,
    ResponseValidationError,
)
from ._requester import Requester
from ._validate import require_id, require_int
from .models._base import decoder_for

__all__ = [
    "AcceptedBatch",
    "BatchSpec",
    "BulkProgress",
    "BulkReport",
    "BulkUploadError",
    "FailedBatch",
    "InvalidEvent",
    "InvalidItem",
]

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

MAX_CONCURRENCY = 1024
_PROGRESS_INTERVAL = 0.1
_READ_CHUNK = 1024  # input items read per worker-thread hop from a (possibly blocking) iterator
_POINTER = re.compile(r"^/data/(\d+)(?:/|$)")
_UNCHECKED = object()  # stands for an item the hot path could not take


@dataclass(frozen=True)
class BatchSpec(Generic[ItemT, ResultT]):
    """One bulk helper, as configuration of the engine.

    ``check(item)`` turns one input item (a model, or its wire mapping) into the item sent,
    raising ``InvalidParameterError`` for a bad one; an item whose type is in ``built`` was
    checked when it was built and is taken as it is. With ``key`` (e.g. ``"user_id"``) the
    input items are ``(key, item)`` pairs, batched per key; otherwise every batch is for
    the organization. A batch holds at most ``max_batch`` items.
    ``path(organization, key)`` is where a batch goes, as ``encode(items)``; the answer
    decodes as ``result`` (``unwrap``: from its ``data``). ``job_id(result)`` names an
    accepted batch; ``item_errors(result)`` lists the items a 207 multi-status refused,
    matched to items by ``item_id`` (or ``/data/N`` pointers). ``resend(key, item)`` is
    the input form of an item, for ``failed_items()``; ``noun`` names the items in
    messages (``max_buffered_<noun>``).
    """

    max_batch: int
    check: Callable[[object], ItemT]
    built: frozenset[type]
    path: Callable[[str, str], str]
    encode: Callable[[list[ItemT]], bytes]
    result: type[ResultT]
    job_id: Callable[[ResultT], str | None]
    resend: Callable[[str, ItemT], object]
    key: str | None = None
    noun: str = "items"
    unwrap: bool = False
    item_errors: Callable[[ResultT], Sequence[ErrorObject]] = lambda result: ()
    item_id: Callable[[ItemT], str] | None = None


# A Struct, not a frozen dataclass: one is made per accepted request, and a frozen
# dataclass sets each field through object.__setattr__ (0.57 against 0.1 us).
class AcceptedBatch(msgspec.Struct, frozen=True, gc=False):
    """One accepted request: ``count`` items of batch ``key`` (a user id, or the
    organization), e.g. queued as job ``job_id``. ``job_id`` is None when the server
    accepted the request (2xx) but named no job, or its answer could not be read."""

    key: str
    job_id: str | None
    count: int

    @property
    def user_id(self) -> str:
        return self.key

    @property
    def event_count(self) -> int:
        return self.count


@dataclass(frozen=True)
class FailedBatch:
    """Items of one request that did not get through.

    ``outcome_unknown`` is True when the server may have processed them anyway (the
    connection broke while waiting for the answer, or a 5xx other than 503): re-sending
    them may duplicate them. Otherwise the server surely did not record them; ``sent`` is
    False when they were never sent at all (the upload stopped first).
    """

    key: str
    items: tuple[Any, ...]
    error: KardError
    outcome_unknown: bool
    sent: bool = True

    @property
    def user_id(self) -> str:
        return self.key

    @property
    def events(self) -> tuple[Any, ...]:
        return self.items


@dataclass(frozen=True)
class InvalidItem:
    """An input item rejected before sending (or by the server's validation), with why.

    ``index`` is its position in the input (0-based); ``key`` and ``item`` are what was
    given, as given.
    """

    index: int
    key: object
    item: object
    reason: str

    @property
    def user_id(self) -> object:
        return self.key

    @property
    def event(self) -> object:
        return self.item


InvalidEvent = InvalidItem


@dataclass(frozen=True)
class BulkProgress:
    """Running totals, in items, passed to ``on_progress``."""

    accepted: int
    failed: int
    invalid: int

    @property
    def done(self) -> int:
        return self.accepted + self.failed + self.invalid


def _as_pair(key: str, item: object) -> object:
    return (key, item)


@dataclass
class BulkReport:
    """The outcome of a bulk upload: every input item is in exactly one of
    ``jobs`` (accepted), ``failed`` or ``invalid``."""

    jobs: list[AcceptedBatch] = field(default_factory=list)
    failed: list[FailedBatch] = field(default_factory=list)
    invalid: list[InvalidItem] = field(default_factory=list)
    elapsed: float = 0.0
    resend: Callable[[str, Any], object] = field(default=_as_pair, repr=False, compare=False)

    @property
    def accepted(self) -> int:
        """Number of items in accepted requests."""
        return sum(job.count for job in self.jobs)

    @property
    def failed_count(self) -> int:
        """Number of items in failed requests."""
        return sum(len(batch.items) for batch in self.failed)

    @property
    def ok(self) -> bool:
        """True when every input item was accepted."""
        return not self.failed and not self.invalid

    def failed_items(self, *, include_unknown: bool = True) -> list[Any]:
        """The failed items, in the form the same bulk helper takes, ready to send again.
        ``include_unknown=False`` leaves out items the server may have processed, so that
        re-sending cannot duplicate anything."""
        return [
            self.resend(batch.key, item)
            for batch in self.failed
            if include_unknown or not batch.outcome_unknown
            for item in batch.items
        ]

    def failed_events(self, *, include_unknown: bool = True) -> list[Any]:
        """``failed_items()``; for attributions, ``(user_id, event)`` pairs."""
        return self.failed_items(include_unknown=include_unknown)

    def raise_for_failures(self) -> None:
        """Raise :class:`BulkUploadError` unless every item was accepted."""
        if not self.ok:
            raise BulkUploadError(self)

    def progress(self) -> BulkProgress:
        return BulkProgress(self.accepted, self.failed_count, len(self.invalid))

    def __str__(self) -> str:
        unknown = sum(len(b.items) for b in self.failed if b.outcome_unknown)
        unsent = sum(len(b.items) for b in self.failed if not b.sent)
        return (
            f"{self.accepted} accepted in {len(self.jobs)} requests, "
            f"{self.failed_count} failed ({unknown} with unknown outcome, {unsent} never sent), "
            f"{len(self.invalid)} invalid, in {self.elapsed:.2f}s"
        )


class BulkUploadError(KardError):
    """Raised by ``BulkReport.raise_for_failures()``; ``report`` has the details."""

    def __init__(self, report: BulkReport) -> None:
        super().__init__(f"bulk upload incomplete: {report}")
        self.report = report


class _AdaptiveLimit:
    """Concurrency limit that halves when the server pushes back (429/503) and grows back
    by one request per round of successes (additive increase, multiplicative decrease).

    A freed slot is handed to the longest waiter directly: one wake-up per release, not one
    per waiting worker (a condition's notify_all woke all 31 others on every response).
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        """Take a slot if one is free at once (no waiter is ahead)."""
        if not self._waiters and self.active < max(1, int(self.limit)):
            self.active += 1
            return True
        return False

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        granted = asyncio.get_running_loop().create_future()
        self._waiters.append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # a slot handed over just as the waiter was cancelled
            raise

    def release(self) -> None:
        self.active -= 1
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        while self._waiters and self.active < max(1, int(self.limit)):
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter gave up its place
                self.active += 1
                waiter.set_result(None)

    def pushed_back(self) -> None:
        self.limit = max(1.0, self.limit / 2)

    def succeeded(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
        if self._waiters:
            self._wake()


class _Batch:
    __slots__ = ("indexes", "items", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self.items: list[Any] = []
        self.indexes: list[int] = []


def check_bulk_arguments(noun: str, concurrency: int, max_buffered: int, max_retries: int) -> None:
    require_int("concurrency", concurrency, low=1, high=MAX_CONCURRENCY)
    require_int(f"max_buffered_{noun}", max_buffered, low=1)
    require_int("max_retries", max_retries, low=0)


async def upload(
    spec: BatchSpec[ItemT, ResultT],
    requester: Requester,
    items: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int,
    max_buffered: int,
    max_retries: int,
    on_progress: Callable[[BulkProgress], None] | None,
) -> BulkReport:
    """Run one bulk upload of ``items`` as ``spec`` describes, through ``requester``."""
    check_bulk_arguments(spec.noun, concurrency, max_buffered, max_retries)
    organization = requester.organization()
    engine: _Engine[ItemT, ResultT] = _Engine(
        spec, organization, concurrency, max_buffered, on_progress
    )
    policy = requester.options.retry_policy
    engine.send = requester.derive(
        retry_policy=type(policy)(**{**policy.__dict__, "max_retries": max_retries}),
        on_pushback=engine.pushed_back,
    ).send
    return await engine.run(items)


class _Engine(Generic[ItemT, ResultT]):
    """One upload. Not reusable."""

    send: Callable[[Call[ResultT]], Awaitable[ResultT]]

    def __init__(
        self,
        spec: BatchSpec[ItemT, ResultT],
        organization: str,
        concurrency: int,
        max_buffered: int,
        on_progress: Callable[[BulkProgress], None] | None,
    ) -> None:
        self._spec = spec
        self._built = spec.built
        self._keyed = spec.key is not None
        self._max_batch = spec.max_batch
        self._organization = organization
        self._decoder = decoder_for(spec.result, unwrap=spec.unwrap)
        # A key's batches all go to one path: built once while the key keeps coming.
        self._path = lru_cache(maxsize=1024)(partial(spec.path, organization))
        self._limit = _AdaptiveLimit(concurrency)
        self._concurrency = concurrency
        self._max_buffered = max_buffered
        self._on_progress = on_progress
        self._report = BulkReport(resend=spec.resend)
        self._accepted = 0
        self._failed = 0
        self._last_progress = 0.0
        # Set when the credentials are refused (401 even with a fresh token): every later
        # batch would fail the same way, so it is reported failed without being sent.
        self._refused: KardError | None = None
        self._buffers: dict[str, _Batch] = {}
        self._in_flight: set[_Batch] = set()  # on the wire: outcome unknown if interrupted
        self._held: set[_Batch] = set()  # taken by a worker, not sent yet
        self._ready: list[_Batch] = []
        self._taken = 0  # items taken from the input; the next one's index
        self._unbuffered = 0  # of those, items invalid or handed to the workers
        self._queue: asyncio.Queue[_Batch | None] = asyncio.Queue(maxsize=concurrency)
        self._workers: list[asyncio.Future[None]] = []
        self._idle = 0  # workers started and waiting for a batch
        self._crashed: asyncio.Future[BaseException]

    def pushed_back(self) -> None:
        """The server said 429 or 503: fewer requests in flight for a while."""
        self._limit.pushed_back()

    async def run(self, items: Iterable[Any] | AsyncIterable[Any]) -> BulkReport:
        started = time.monotonic()
        self._crashed = asyncio.get_running_loop().create_future()
        producer = asyncio.ensure_future(self._produce(items))
        try:
            # Whichever fails first ends the upload: a producer blocked on a full queue must
            # not wait forever for workers that died.
            first: list[asyncio.Future[Any]] = [producer, self._crashed]
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            if self._crashed.done():
                raise self._crashed.result()
            producer.result()
            while self._workers:
                done, _ = await asyncio.wait(self._workers, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    self._workers.remove(task)
                    task.result()
        except BaseException as error:
            tasks = [producer, *self._workers]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._settle_unfinished(error)
            self._report.elapsed = time.monotonic() - started
            # Every item taken from the input so far, accounted for: what not to resend.
            error.kard_bulk_report = self._report  # type: ignore[attr-defined]
            raise
        self._report.elapsed = time.monotonic() - started
        self._progress(force=True)
        return self._report

    def _settle_unfinished(self, cause: BaseException) -> None:
        """After a failure or cancellation: requests on the wire may have been processed;
        batches held by workers, queued or buffered were never sent."""
        self._on_progress = None
        stopped = KardError(f"the upload stopped ({type(cause).__name__}) first")
        for batch in self._in_flight:
            self._fail(batch, stopped, outcome_unknown=True)
        unsent = [*self._held, *self._ready, *self._buffers.values()]
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if queued is not None:
                unsent.append(queued)
        for batch in unsent:
            self._fail(batch, stopped, outcome_unknown=False, sent=False)
        self._in_flight.clear()
        self._held.clear()
        self._ready.clear()
        self._buffers.clear()

    # --- producer: check, group by key, hand out batches ---

    async def _produce(self, items: Iterable[Any] | AsyncIterable[Any]) -> None:
        fill = self._fill
        if isinstance(items, AsyncIterable):
            async for item in items:
                if fill(self._pairs((item,))):
                    await self._drain()
        elif isinstance(items, (Sequence, InMemory)):  # already in memory: read inline
            rest = self._pairs(items)
            while fill(rest):
                await self._drain()
        else:
            # An iterator may block (a file, a pipe, a database cursor): read it a chunk at a
            # time in a worker thread, so the event loop (for Kard, every caller) runs on.
            reader = _ChunkReader(iter(items))
            while True:
                try:
                    chunk, failure = await reader.next_chunk()
                except _Interrupted as stopped:
                    self._take_all(self._pairs(stopped.chunk))  # taken from the input
                    raise
                rest = self._pairs(chunk)
                try:
                    while fill(rest):
                        await self._drain()
                except BaseException:
                    self._take_all(rest)  # taken from the input: reported as unsent
                    raise
                if failure is not None:  # after the items read before it: they count
                    raise failure
                if not chunk:
                    break
        for key in list(self._buffers):
            await self._dispatch(self._buffers[key])
            del self._buffers[key]
        for _ in self._workers:
            await self._queue.put(None)

    def _pairs(self, items: Iterable[Any]) -> Iterator[Any]:
        """``(key, item)`` pairs: the input itself, or each item with the organization."""
        return iter(items) if self._keyed else zip(repeat(self._organization), items)

    def _fill(self, pairs: Iterator[Any]) -> bool:
        """Take ``(key, item)`` pairs into their batches until a batch is full or too many
        items wait (True: drain, then call again with the same iterator), or to the end.

        The per-item hot path, inlined because a call per item cost more than the rest of
        the engine's bookkeeping: an item of a type checked when built, for a key that
        already has a batch (so was checked too), is only appended. ``_check`` takes the
        rest: a new key, an item to check, anything that is not a pair."""
        buffers = self._buffers
        built = self._built
        kind: type | None = None  # the built type last seen: one identity test per item
        max_batch = self._max_batch
        start = self._taken
        # Past this position too many items wait: the range ends the loop there. At least
        # one item per call, so that taking without draining (_take_all) still advances.
        last = max(start, self._max_buffered + self._unbuffered)
        position = start - 1
        for position, pair in zip(range(start, last + 1), pairs, strict=False):
            try:
                key, item = pair
                batch = buffers[key]
            except Exception:
                item = _UNCHECKED
            if type(item) is not kind:
                if type(item) in built:
                    kind = type(item)
                else:
                    self._taken = position
                    checked = self._check(position, pair)
                    if checked is None:  # invalid, and reported
                        continue
                    batch, item = checked
            batch_items = batch.items
            batch_items.append(item)
            batch.indexes.append(position)
            if len(batch_items) == max_batch:
                del buffers[batch.key]
                self._ready.append(batch)
                self._taken = position + 1
                return True
        self._taken = position + 1
        return position == last

    def _take_all(self, pairs: Iterator[Any]) -> None:
        """Take every pair left in ``pairs``, ready batches and all (the upload stopped)."""
        while self._fill(pairs):
            pass

    def _check(self, index: int, pair: Any) -> tuple[_Batch, Any] | None:
        """Check one input item in full and find its batch (a new one for a new key); None
        when the item is invalid, which is then reported."""
        spec = self._spec
        given_key: object = None
        item: object = pair
        try:
            if spec.key is None:  # an (organization, item) pair made by _pairs
                key, item = pair
            elif isinstance(pair, (tuple, list)) and len(pair) == 2:
                given_key, item = pair
                key = require_id(spec.key, given_key)
            else:
                noun = spec.noun.rstrip("s")
                raise InvalidParameterError("item", pair, f"must be a ({spec.key}, {noun}) pair")
            checked = spec.check(item)  # a built model comes back as it is
        except KardError as error:
            self._unbuffered += 1
            self._invalid(index, given_key, item, str(error))
            return None
        batch = self._buffers.get(key)
        if batch is None:
            batch = self._buffers[key] = _Batch(key)
        return batch, checked

    @property
    def _buffered(self) -> int:
        return self._taken - self._unbuffered

    async def _drain(self) -> None:
        while self._ready:
            await self._dispatch(self._ready[0])
            del self._ready[0]
        if self._buffered > self._max_buffered:
            await self._flush_largest()

    async def _flush_largest(self) -> None:
        # Largest partial batches first: they cost the fewest extra requests.
        target = self._max_buffered // 2
        for batch in sorted(self._buffers.values(), key=lambda b: len(b.items), reverse=True):
            if self._buffered <= target:
                break
            await self._dispatch(batch)
            del self._buffers[batch.key]  # only once queued: a cancelled put keeps it here

    async def _dispatch(self, batch: _Batch) -> None:
        if self._queue.qsize() >= self._idle and len(self._workers) < self._concurrency:
            # One more worker while batches outnumber idle workers: the work is sized by the
            # input, and a burst of batches gets every worker it may have at once.
            self._idle += 1
            self._workers.append(asyncio.ensure_future(self._worker()))
        if self._queue.full():
            await self._queue.put(batch)
        else:
            self._queue.put_nowait(batch)
        self._unbuffered += len(batch.items)

    # --- workers: send batches, account for every item ---

    async def _worker(self) -> None:
        try:
            queue = self._queue
            # The awaits are skipped when they would not wait: a coroutine per batch each.
            while (batch := queue.get_nowait() if queue.qsize() else await queue.get()) is not None:
                self._idle -= 1
                self._held.add(batch)
                if not self._limit.try_acquire():
                    await self._limit.acquire()
                try:
                    await self._send(batch)  # settles the batch, unless interrupted
                finally:
                    self._limit.release()
                self._idle += 1
        except BaseException as error:
            if not self._crashed.done():
                self._crashed.set_result(error)
            raise

    async def _send(self, batch: _Batch) -> None:
        if self._refused is not None:
            self._held.discard(batch)
            self._fail(batch, self._refused, outcome_unknown=False, sent=False)
            return
        spec = self._spec
        call = Call(
            "POST",
            self._path(batch.key),
            self._decoder,
            body=spec.encode(batch.items),
            write=True,
        )
        self._held.discard(batch)
        self._in_flight.add(batch)
        try:
            result = await self.send(call)
        except ResponseValidationError as error:
            self._in_flight.discard(batch)
            if error.before_send:  # the token response was unreadable: nothing was sent
                self._fail(batch, error, outcome_unknown=False)
            elif 200 <= error.status < 300:  # accepted; only the answer was unreadable
                self._accept(batch, None)
            else:
                self._fail(batch, error, outcome_unknown=True)
        except (BadRequestError, ConflictError) as error:
            self._in_flight.discard(batch)
            await self._rejected(batch, error)
        except AuthenticationError as error:  # even after a fresh token: stop sending
            self._in_flight.discard(batch)
            self._refused = error
            self._fail(batch, error, outcome_unknown=False)
        except (APIStatusError, APIConnectionError) as error:
            self._in_flight.discard(batch)
            self._fail(batch, error, outcome_unknown=error.outcome_unknown)
        else:
            self._in_flight.discard(batch)
            self._limit.succeeded()
            self._accepted_with_errors(batch, result)

    def _accepted_with_errors(self, batch: _Batch, result: ResultT) -> None:
        """A 2xx, possibly a 207 multi-status: file refused items, accept the rest."""
        errors = self._spec.item_errors(result)
        if not errors:  # nearly always
            self._accept(batch, self._spec.job_id(result))
            return
        refused = self._match(batch, errors)
        for position, error in sorted(refused.items()):
            reason = f"server: {_describe(error)}"
            status = _status(error)
            if status is not None and 400 <= status < 500:
                self._invalid(batch.indexes[position], batch.key, batch.items[position], reason)
            else:
                item = batch.items[position]
                self._record_failed(
                    FailedBatch(batch.key, (item,), KardError(reason), outcome_unknown=False)
                )
        if refused:
            keep = [i for i in range(len(batch.items)) if i not in refused]
            batch.items = [batch.items[i] for i in keep]
            batch.indexes = [batch.indexes[i] for i in keep]
        if batch.items:
            self._accept(batch, self._spec.job_id(result))
        else:
            self._progress()

    async def _rejected(self, batch: _Batch, error: APIStatusError) -> None:
        """The server refused the whole batch (nothing recorded). If its errors point at
        items, those become invalid and the rest are sent again."""
        bad = self._match(batch, error.errors)
        if not bad:
            self._fail(batch, error, outcome_unknown=False)
            return
        for position, item_error in sorted(bad.items()):
            self._invalid(
                batch.indexes[position],
                batch.key,
                batch.items[position],
                f"server: {_describe(item_error) or error}",
            )
        keep = [i for i in range(len(batch.items)) if i not in bad]
        # The same batch object, trimmed: whatever happens next accounts for these items once.
        batch.items = [batch.items[i] for i in keep]
        batch.indexes = [batch.indexes[i] for i in keep]
        if keep:
            await self._send(batch)

    def _match(self, batch: _Batch, errors: Sequence[ErrorObject]) -> dict[int, ErrorObject]:
        """Positions in ``batch`` that ``errors`` point at (``/data/N`` or the item's id)."""
        if not errors:
            return {}
        item_id = self._spec.item_id
        positions: dict[str, int] = {}
        if item_id is not None:
            positions = {item_id(item): n for n, item in enumerate(batch.items)}
        found: dict[int, ErrorObject] = {}
        for error in errors:
            pointer = error.source.pointer if error.source is not None else None
            match = _POINTER.match(pointer or "")
            if match and int(match.group(1)) < len(batch.items):
                found.setdefault(int(match.group(1)), error)
            elif error.id is not None and error.id in positions:
                found.setdefault(positions[error.id], error)
        return found

    def _accept(self, batch: _Batch, job_id: str | None) -> None:
        self._report.jobs.append(AcceptedBatch(batch.key, job_id, len(batch.items)))
        self._accepted += len(batch.items)
        if self._on_progress is not None:  # once per request: no call when nobody listens
            self._progress()

    def _fail(
        self, batch: _Batch, error: KardError, *, outcome_unknown: bool, sent: bool = True
    ) -> None:
        self._record_failed(
            FailedBatch(batch.key, tuple(batch.items), error, outcome_unknown, sent)
        )

    def _record_failed(self, failed: FailedBatch) -> None:
        self._report.failed.append(failed)
        self._failed += len(failed.items)
        self._progress()

    def _invalid(self, index: int, key: object, item: object, reason: str) -> None:
        self._report.invalid.append(InvalidItem(index, key, item, reason))
        self._progress()

    def _progress(self, *, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= _PROGRESS_INTERVAL:
            self._last_progress = now
            self._on_progress(BulkProgress(self._accepted, self._failed, len(self._report.invalid)))


class InMemory(Iterable[ItemT]):
    """Marks an iterable over data already in memory: read inline, not in a worker thread."""

    def __init__(self, items: Iterable[ItemT]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self._items)


class _ChunkReader:
    """Reads a blocking iterator in a worker thread, a chunk per hop. When the upload is
    cancelled, the thread stops after the item it is reading, and every item it took from
    the iterator is still handed back (so the report covers it); it never reads on."""

    def __init__(self, iterator: Iterator[Any]) -> None:
        self._iterator = iterator
        self._stop = threading.Event()

    def _read(self) -> tuple[list[Any], Exception | None]:
        chunk: list[Any] = []
        try:
            for item in self._iterator:
                chunk.append(item)
                if len(chunk) == _READ_CHUNK or self._stop.is_set():
                    break
        except Exception as error:
            return chunk, error
        return chunk, None

    async def next_chunk(self) -> tuple[list[Any], Exception | None]:
        if self._stop.is_set():
            return [], None
        future = asyncio.get_running_loop().run_in_executor(None, self._read)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self._stop.set()
            chunk, _ = await _uncancellable(future)
            # Handed back through the cancellation: the producer takes these items first.
            raise _Interrupted(chunk) from None


class _Interrupted(asyncio.CancelledError):
    def __init__(self, chunk: list[Any]) -> None:
        super().__init__()
        self.chunk = chunk


async def _uncancellable(
    future: asyncio.Future[tuple[list[Any], Exception | None]],
) -> tuple[list[Any], Exception | None]:
    while True:
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            continue


def _describe(error: ErrorObject) -> str:
    return error.detail or error.title or ""


def _status(error: ErrorObject) -> int | None:
    try:
        return int(error.status) if error.status is not None else None
    except ValueError:
        return None
