"""``kard.transactions``: card transactions and fraud markers (API reference §7.1, §7.2)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, Union

from .. import bulk
from .._errors import InvalidParameterError
from .._query import path as url_path
from ..bulk import BatchSpec, BulkProgress, BulkReport
from ..models.transactions import (
    AnyTransaction,
    CoreTransaction,
    FraudMarked,
    FraudMarker,
    Transaction,
    TransactionsCreated,
    as_fraud_marker,
    as_transaction,
    encode_fraud_markers,
    encode_transactions,
)
from .transaction_files import AsyncTransactionFiles

MAX_TRANSACTIONS_PER_REQUEST = 500
MAX_FRAUD_MARKERS_PER_REQUEST = 500

TransactionInput = Union[Transaction, CoreTransaction, Mapping[str, Any]]  # noqa: UP007
TransactionsInput = Union[Iterable[TransactionInput], AsyncIterable[TransactionInput]]  # noqa: UP007
FraudMarkerInput = Union[FraudMarker, Mapping[str, Any]]  # noqa: UP007
FraudMarkersInput = Union[Iterable[FraudMarkerInput], AsyncIterable[FraudMarkerInput]]  # noqa: UP007

T = TypeVar("T")


def _prepare(
    name: str,
    items: object,
    convert: Callable[[object], T],
    key: Callable[[T], str],
    key_name: str,
    limit: int,
    bulk_helper: str,
) -> list[T]:
    """Check a batch for one request: 1 to ``limit`` items, each ``key`` at most once."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise InvalidParameterError(name, items, f"must be a list of {name}")
    if not 1 <= len(items) <= limit:
        raise InvalidParameterError(
            name,
            f"<{len(items)} {name}>",
            f"one request takes 1 to {limit} {name}",
            hint=f"use kard.transactions.{bulk_helper}() to send any number",
        )
    prepared: list[T] = []
    first: dict[str, int] = {}
    for index, given in enumerate(items):
        try:
            item = convert(given)
        except InvalidParameterError as error:
            raise InvalidParameterError(
                f"{name}[{index}].{error.parameter}", error.value, error.allowed
            ) from None
        seen = first.setdefault(key(item), index)
        if seen != index:
            raise InvalidParameterError(
                f"{name}[{index}].{key_name}",
                key(item),
                f"duplicates {name}[{seen}].{key_name}: a request sends each at most once",
            )
        prepared.append(item)
    return prepared


def prepare_transactions(transactions: object) -> list[AnyTransaction]:
    """1 to 500 transactions (models or wire mappings) with distinct ids."""
    return _prepare(
        "transactions",
        transactions,
        as_transaction,
        lambda transaction: transaction.id,
        "id",
        MAX_TRANSACTIONS_PER_REQUEST,
        "bulk_create",
    )


def prepare_fraud_markers(markers: object) -> list[FraudMarker]:
    """1 to 500 fraud markers (models or wire mappings) with distinct transaction ids."""
    return _prepare(
        "markers",
        markers,
        as_fraud_marker,
        lambda marker: marker.transaction_id,
        "transaction_id",
        MAX_FRAUD_MARKERS_PER_REQUEST,
        "bulk_mark_fraud",
    )


# Batches are per organization (no key): one organization's upload.
TRANSACTIONS: BatchSpec[AnyTransaction, TransactionsCreated] = BatchSpec(
    max_batch=MAX_TRANSACTIONS_PER_REQUEST,
    check=as_transaction,
    built=frozenset((Transaction, CoreTransaction)),
    path=lambda organization, _: url_path("v2", "issuers", organization, "transactions"),
    encode=encode_transactions,
    result=TransactionsCreated,
    job_id=lambda result: result.job.id if result.job is not None else None,
    resend=lambda _, transaction: transaction,
    noun="transactions",
    item_errors=lambda result: result.errors,
    item_id=lambda transaction: transaction.id,
)

FRAUD_MARKERS: BatchSpec[FraudMarker, FraudMarked] = BatchSpec(
    max_batch=MAX_FRAUD_MARKERS_PER_REQUEST,
    check=as_fraud_marker,
    built=frozenset((FraudMarker,)),
    path=lambda organization, _: url_path("v2", "issuers", organization, "fraud"),
    encode=encode_fraud_markers,
    result=FraudMarked,
    job_id=lambda result: None,  # markers are recorded at once: there is no job
    resend=lambda _, marker: marker,
    noun="markers",
    item_errors=lambda result: result.errors,
    item_id=lambda marker: marker.transaction_id,
)


class AsyncTransactions(AsyncTransactionFiles):
    """``kard.transactions``: the card transactions that earn rewards, fraud markers, and
    daily transaction files (``upload_urls``, ``upload_file``, inherited)."""

    async def create(
        self,
        transactions: Sequence[Transaction | CoreTransaction | Mapping[str, Any]],
        *,
        organization_id: str | None = None,
    ) -> TransactionsCreated:
        """Send 1 to 500 transactions (:class:`~kard_async.models.Transaction` or
        :class:`~kard_async.models.CoreTransaction` objects, or their wire form as
        mappings), each ``id`` at most once. They are queued for matching against offers.
        For more, use ``bulk_create``.

        Some transactions may be refused while the others are queued (HTTP 207): the
        result's ``errors`` has one entry per transaction refused, with its ``id``,
        ``status`` and ``detail``, ``data`` the ids of those accepted and ``job`` the job
        that queued them. Check ``result.ok`` or call ``result.raise_for_errors()``. When
        every transaction is refused the call raises (``BadRequestError``, or
        ``ConflictError`` when all were sent before).

        Retried only when it surely was not processed; otherwise an error with
        ``outcome_unknown=True`` says the transactions may have been queued.
        """
        prepared = prepare_transactions(transactions)
        result = await self._post(
            self._org_path("transactions", organization_id=organization_id),
            body=encode_transactions(prepared),
            cast_to=TransactionsCreated,
        )
        result.sent_ids = tuple(transaction.id for transaction in prepared)
        return result

    async def bulk_create(
        self,
        transactions: TransactionsInput,
        *,
        concurrency: int = 16,
        on_progress: Callable[[BulkProgress], None] | None = None,
        max_buffered_transactions: int = 50_000,
        max_retries: int = 8,
        organization_id: str | None = None,
    ) -> BulkReport:
        """Send any number of transactions, in requests of 500.

        ``transactions`` is an iterable or async iterable of transactions (models or wire
        mappings), consumed lazily: a generator of millions never sits in memory at once.
        Up to ``concurrency`` requests are in flight (at most 1,024); when the server
        pushes back (HTTP 429/503) the whole upload slows down (its ``Retry-After`` is
        honoured) and then ramps back up. A request is retried (up to ``max_retries``
        times) only when it surely was not processed.

        API errors never escape: every input transaction ends up in exactly one of
        ``report.jobs`` (accepted), ``report.failed`` or ``report.invalid`` (refused before
        sending, or by the server: each item of a 207 answer is filed by its ``id``, with
        the server's reason, and an accepted transaction is never sent again). Use
        ``report.failed_items()`` to send the failures again, or
        ``report.raise_for_failures()``. ``on_progress`` receives running totals a few
        times a second. Programming errors and cancellation propagate, with the partial
        report as the exception's ``kard_bulk_report``.
        """
        return await bulk.upload(
            TRANSACTIONS,
            self._requester.derive(organization_id=organization_id),
            _lazy("transactions", transactions),
            concurrency=concurrency,
            max_buffered=max_buffered_transactions,
            max_retries=max_retries,
            on_progress=on_progress,
        )

    async def mark_fraud(
        self,
        markers: Sequence[FraudMarker | Mapping[str, Any]],
        *,
        organization_id: str | None = None,
    ) -> FraudMarked:
        """Flag 1 to 500 transactions as fraudulent (``FraudMarker(transaction_id,
        user_id)`` objects or their wire form), each at most once: they will not be
        rewarded. For more, use ``bulk_mark_fraud``.

        Some markers may be refused while the others are recorded (HTTP 207): the result's
        ``data`` holds the markers recorded and ``errors`` one entry per marker refused,
        whose ``id`` is its transaction id. Check ``result.ok`` or call
        ``result.raise_for_errors()``.

        Retried only when it surely was not processed; otherwise an error with
        ``outcome_unknown=True`` says the markers may have been recorded.
        """
        return await self._post(
            self._org_path("fraud", organization_id=organization_id),
            body=encode_fraud_markers(prepare_fraud_markers(markers)),
            cast_to=FraudMarked,
        )

    async def bulk_mark_fraud(
        self,
        markers: FraudMarkersInput,
        *,
        concurrency: int = 16,
        on_progress: Callable[[BulkProgress], None] | None = None,
        max_buffered_markers: int = 50_000,
        max_retries: int = 8,
        organization_id: str | None = None,
    ) -> BulkReport:
        """Flag any number of transactions as fraudulent, in requests of 500.

        ``markers`` is an iterable or async iterable of fraud markers (models or wire
        mappings), consumed lazily. Concurrency, retries, progress and the report work as
        in ``bulk_create``: every marker ends up in exactly one of ``report.jobs``
        (accepted; these have no job id), ``report.failed`` or ``report.invalid``.
        """
        return await bulk.upload(
            FRAUD_MARKERS,
            self._requester.derive(organization_id=organization_id),
            _lazy("markers", markers),
            concurrency=concurrency,
            max_buffered=max_buffered_markers,
            max_retries=max_retries,
            on_progress=on_progress,
        )


def _lazy(
    name: str, items: Iterable[Any] | AsyncIterable[Any]
) -> Iterable[Any] | AsyncIterable[Any]:
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, (Iterable, AsyncIterable)):
        raise InvalidParameterError(name, items, "must be an iterable or async iterable")
    return items
