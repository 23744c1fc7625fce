"""Attribution writes for a user: events, offer activation and boost, slot activation (§2)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from typing import Any, Union, get_args

from .. import _params as params
from .. import bulk
from .._errors import InvalidParameterError
from .._query import path as url_path
from .._validate import require_id
from ..bulk import BatchSpec, BulkProgress, BulkReport
from ..models.attributions import (
    ActivationInclude,
    AttributionEvent,
    OfferActivation,
    PlacementSlotActivation,
    as_event,
    encode_events,
)
from ..models.common import Job
from ..models.rewards import ComponentType
from ._base import AsyncResource

MAX_EVENTS_PER_REQUEST = 100

EventInput = Union[AttributionEvent, Mapping[str, Any]]  # noqa: UP007
EventsInput = Union[  # noqa: UP007
    Iterable[tuple[str, EventInput]],
    AsyncIterable[tuple[str, EventInput]],
    Mapping[str, Iterable[EventInput]],
]


def prepare_events(
    events: Sequence[AttributionEvent | Mapping[str, Any]],
) -> list[AttributionEvent]:
    """Check a batch for one request: 1 to 100 events, each an event or its wire mapping."""
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Sequence):
        raise InvalidParameterError("events", events, "must be a list of attribution events")
    if not 1 <= len(events) <= MAX_EVENTS_PER_REQUEST:
        raise InvalidParameterError(
            "events",
            f"<{len(events)} events>",
            f"one request takes 1 to {MAX_EVENTS_PER_REQUEST} events",
            hint="use kard.users.attributions.bulk_create() to upload any number of events",
        )
    prepared: list[AttributionEvent] = []
    for index, event in enumerate(events):
        try:
            prepared.append(as_event(event))
        except InvalidParameterError as error:
            raise InvalidParameterError(
                f"events[{index}].{error.parameter}", error.value, error.allowed
            ) from None
    return prepared


ATTRIBUTIONS: BatchSpec[AttributionEvent, Job] = BatchSpec(
    max_batch=MAX_EVENTS_PER_REQUEST,
    key="user_id",
    check=as_event,
    built=frozenset(get_args(AttributionEvent)),
    path=lambda org, user: url_path("v2", "issuers", org, "users", user, "attributions"),
    encode=encode_events,
    result=Job,
    unwrap=True,
    job_id=lambda job: job.id,
    resend=lambda user_id, event: (user_id, event),
    noun="events",
)


class AsyncAttributions(AsyncResource):
    """``kard.users.attributions``: report what users saw and did."""

    async def create(
        self,
        user_id: str,
        events: Sequence[AttributionEvent | Mapping[str, Any]],
        *,
        organization_id: str | None = None,
    ) -> Job:
        """Send 1 to 100 attribution events of one user; they are queued for processing.

        ``events`` holds :class:`~kard_async.models.OfferAttribution`,
        :class:`~kard_async.models.NotificationAttribution` or
        :class:`~kard_async.models.PlacementSlotAttribution` objects, or their wire form as
        mappings. For more events, or many users, use ``bulk_create``.

        This write is retried only when it surely was not processed (connection refused,
        HTTP 429 or 503). When it may have been processed anyway (the connection broke while
        waiting for the answer, or HTTP 5xx other than 503), the error has
        ``outcome_unknown=True``.
        """
        return await self._post(
            self._user_path(user_id, "attributions", organization_id=organization_id),
            body=encode_events(prepare_events(events)),
            cast_to=Job,
            unwrap=True,
        )

    async def activate(
        self,
        user_id: str,
        offer_id: str,
        *,
        include: Sequence[ActivationInclude] | None = None,
        supported_components: Sequence[ComponentType] | None = None,
        organization_id: str | None = None,
    ) -> OfferActivation:
        """Record that the user activated an offer (the server writes an ACTIVATE/CTA event).

        ``include=["offer"]`` returns the offer in ``result.included``.
        """
        return await self._post(
            self._user_path(
                user_id,
                "offers",
                require_id("offer_id", offer_id),
                "activate",
                organization_id=organization_id,
            ),
            query=params.side_loads(include, supported_components),
            cast_to=OfferActivation,
        )

    async def boost(
        self,
        user_id: str,
        offer_id: str,
        *,
        include: Sequence[ActivationInclude] | None = None,
        supported_components: Sequence[ComponentType] | None = None,
        organization_id: str | None = None,
    ) -> OfferActivation:
        """Record that the user boosted an offer (the server writes a BOOST/CTA event).

        ``include=["offer"]`` returns the offer in ``result.included``.
        """
        return await self._post(
            self._user_path(
                user_id,
                "offers",
                require_id("offer_id", offer_id),
                "boost",
                organization_id=organization_id,
            ),
            query=params.side_loads(include, supported_components),
            cast_to=OfferActivation,
        )

    async def activate_placement_slot(
        self,
        user_id: str,
        placement_id: str,
        slot_id: str,
        *,
        organization_id: str | None = None,
    ) -> PlacementSlotActivation:
        """Activate one slot of a batch-activation placement, and with it every offer the
        slot resolves to (their ids are in ``result.data.attributes.offer_ids``)."""
        return await self._post(
            self._user_path(
                user_id,
                "placements",
                require_id("placement_id", placement_id),
                "slot",
                require_id("slot_id", slot_id),
                "activate",
                organization_id=organization_id,
            ),
            cast_to=PlacementSlotActivation,
        )

    async def bulk_create(
        self,
        events: EventsInput,
        *,
        concurrency: int = 16,
        on_progress: Callable[[BulkProgress], None] | None = None,
        max_buffered_events: int = 50_000,
        max_retries: int = 8,
        organization_id: str | None = None,
    ) -> BulkReport:
        """Upload any number of attribution events, for any number of users.

        ``events`` is an iterable or async iterable of ``(user_id, event)`` pairs in any
        order, or a mapping ``user_id -> iterable of events``; each event is an attribution
        model or its wire-format mapping. It is consumed lazily, so a generator of millions
        of events never sits in memory at once.

        Events are grouped per user into requests of at most 100 and sent with up to
        ``concurrency`` requests in flight (at most 1,024); when the server pushes back
        (HTTP 429/503) the whole upload slows down (its ``Retry-After`` is honoured) and
        then ramps back up. A request is retried (up to ``max_retries`` times) only when it
        surely was not processed. Partial batches are sent early, largest first, when more
        than ``max_buffered_events`` events wait for their batch to fill.

        API errors never escape: every input event ends up in exactly one of
        ``report.jobs`` (accepted), ``report.failed`` or ``report.invalid``; use
        ``report.failed_events()`` to send the failures again, or
        ``report.raise_for_failures()``. ``on_progress`` receives running totals a few
        times a second. Programming errors and cancellation propagate, with the partial
        report as the exception's ``kard_bulk_report``.
        """
        return await bulk.upload(
            ATTRIBUTIONS,
            self._requester.derive(organization_id=organization_id),
            _pairs(events),
            concurrency=concurrency,
            max_buffered=max_buffered_events,
            max_retries=max_retries,
            on_progress=on_progress,
        )


def _pairs(events: EventsInput) -> Iterable[Any] | AsyncIterable[Any]:
    if isinstance(events, Mapping):
        return bulk.InMemory(
            (user_id, event) for user_id, user_events in events.items() for event in user_events
        )
    return events
