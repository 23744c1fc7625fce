"""Attribution writes for a user: events, offer activation and boost, slot activation (§2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, get_args

from .. import _query
from .._call import Call
from .._errors import InvalidParameterError
from .._transport import ResponseInfo
from .._validate import require_id, require_int
from ..bulk import BulkProgress, BulkReport, BulkUploader, EventsInput
from ..models.attributions import (
    JOB_DECODER,
    OFFER_ACTIVATION_DECODER,
    PLACEMENT_SLOT_ACTIVATION_DECODER,
    AttributionEvent,
    OfferActivation,
    PlacementSlotActivation,
    as_event,
    encode_events,
)
from ..models.common import Job
from ..models.rewards import ComponentType
from ._base import AsyncResource
from .rewards import _side_loads

MAX_EVENTS_PER_REQUEST = 100
ActivationInclude = Literal["offer"]


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
        return await self._create_checked(user_id, prepare_events(events), organization_id)

    async def _create_checked(
        self, user_id: str, events: list[AttributionEvent], organization_id: str | None = None
    ) -> Job:
        """``create`` for events already checked (by ``prepare_events`` or ``bulk_create``)."""
        path = self._user_path(user_id, "attributions", organization_id=organization_id)
        body = encode_events(events)
        return await self._send(Call("POST", path, JOB_DECODER, body=body, write=True))

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
        return await self._offer_action(
            "activate", user_id, offer_id, include, supported_components, organization_id
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
        return await self._offer_action(
            "boost", user_id, offer_id, include, supported_components, organization_id
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
        path = self._user_path(
            user_id,
            "placements",
            require_id("placement_id", placement_id),
            "slot",
            require_id("slot_id", slot_id),
            "activate",
            organization_id=organization_id,
        )
        return await self._send(Call("POST", path, PLACEMENT_SLOT_ACTIVATION_DECODER, write=True))

    async def _offer_action(
        self,
        action: str,
        user_id: str,
        offer_id: str,
        include: Sequence[str] | None,
        supported_components: Sequence[str] | None,
        organization_id: str | None,
    ) -> OfferActivation:
        path = self._user_path(
            user_id,
            "offers",
            require_id("offer_id", offer_id),
            action,
            organization_id=organization_id,
        )
        query = _side_loads(include, get_args(ActivationInclude), supported_components)
        return await self._send(
            Call("POST", path, OFFER_ACTIVATION_DECODER, query=_query.encode(query), write=True)
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
        ``concurrency`` requests in flight; when the server pushes back (HTTP 429/503) the
        whole upload slows down (its ``Retry-After`` is honoured) and then ramps back up.
        A request is retried (up to ``max_retries`` times) only when it surely was not
        processed. Partial batches are sent early, largest first, when more than
        ``max_buffered_events`` events wait for their batch to fill.

        API errors never escape: every input event ends up in exactly one of
        ``report.jobs`` (accepted), ``report.failed`` or ``report.invalid``; use
        ``report.failed_events()`` to send the failures again, or
        ``report.raise_for_failures()``. ``on_progress`` receives running totals a few
        times a second. Programming errors and cancellation propagate.
        """
        require_int("concurrency", concurrency, low=1)
        require_int("max_buffered_events", max_buffered_events, low=1)
        require_int("max_retries", max_retries, low=0)
        self._client._organization(organization_id)
        user_hook = self._client._options.on_response

        def on_response(info: ResponseInfo) -> None:
            uploader.on_response(info)
            if user_hook is not None:
                user_hook(info)

        client = self._client.with_options(
            max_retries=max_retries, on_response=on_response, organization_id=organization_id
        )
        uploader = BulkUploader(
            client.users.attributions,
            concurrency=concurrency,
            max_buffered_events=max_buffered_events,
            on_progress=on_progress,
        )
        return await uploader.run(events)
