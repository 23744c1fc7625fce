"""``kard.notifications.subscriptions``: which notification types Kard POSTs, and where (§8)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _params as params
from .._errors import InvalidParameterError
from .._validate import require_id
from ..models.notifications import (
    NotificationType,
    Subscription,
    SubscriptionRequest,
    SubscriptionUpdate,
    as_subscription_request,
    encode_subscription_update,
    encode_subscriptions,
)
from ._base import AsyncResource


def prepare_subscriptions(
    subscriptions: Sequence[SubscriptionRequest | Mapping[str, Any]],
) -> builtins.list[SubscriptionRequest]:
    """Check a create: at least one subscription, each for a different event type."""
    if isinstance(subscriptions, (str, bytes, Mapping, SubscriptionRequest)) or not isinstance(
        subscriptions, Sequence
    ):
        raise InvalidParameterError(
            "subscriptions",
            subscriptions,
            "must be a list of SubscriptionRequest objects (or their wire mappings)",
            hint="wrap a single subscription in a list",
        )
    if not subscriptions:
        raise InvalidParameterError("subscriptions", subscriptions, "must not be empty")
    prepared: builtins.list[SubscriptionRequest] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(subscriptions):
        try:
            request = as_subscription_request(item)
        except InvalidParameterError as error:
            raise InvalidParameterError(
                f"subscriptions[{index}].{error.parameter}", error.value, error.allowed
            ) from None
        if request.event_name in seen:
            raise InvalidParameterError(
                f"subscriptions[{index}].event_name",
                request.event_name,
                f"is already in subscriptions[{seen[request.event_name]}]: Kard keeps one "
                "subscription per event type",
            )
        seen[request.event_name] = index
        prepared.append(request)
    return prepared


class AsyncSubscriptions(AsyncResource):
    """``kard.notifications.subscriptions``: which notification types Kard POSTs, and where.

    One subscription per event type. There is no delete endpoint in the Kard API: to stop a
    notification type, ``update(subscription_id, enabled=False)``.
    """

    async def list(
        self,
        event_name: NotificationType | None = None,
        *,
        organization_id: str | None = None,
    ) -> builtins.list[Subscription]:
        """Your subscriptions, or only the one for ``event_name`` (an empty list if none)."""
        return await self._get(
            self._org_path("subscriptions", organization_id=organization_id),
            query=[("filter[eventName]", params.text("event_name", event_name))],
            cast_to=builtins.list[Subscription],
            unwrap=True,
        )

    async def create(
        self,
        subscriptions: Sequence[SubscriptionRequest | Mapping[str, Any]],
        *,
        organization_id: str | None = None,
    ) -> builtins.list[Subscription]:
        """Subscribe webhook URLs to notification types; returns the new subscriptions.

        ``subscriptions`` holds :class:`~kard_async.models.SubscriptionRequest` objects (or
        their wire form as mappings), each for a different event type. An event type that
        already has a subscription is refused by Kard with a
        :class:`~kard_async.ConflictError` (HTTP 409) naming it, and nothing is created:
        change the existing one with ``update``. There is no delete endpoint.

        This write is retried only when it surely was not processed (connection refused,
        HTTP 429 or 503); otherwise the error says whether the outcome is unknown
        (``outcome_unknown=True``: ``list()`` shows what exists).
        """
        return await self._post(
            self._org_path("subscriptions", organization_id=organization_id),
            body=encode_subscriptions(prepare_subscriptions(subscriptions)),
            cast_to=builtins.list[Subscription],
            unwrap=True,
        )

    async def update(
        self,
        subscription_id: str,
        *,
        event_name: NotificationType | None = None,
        webhook_url: str | None = None,
        enabled: bool | None = None,
        organization_id: str | None = None,
    ) -> Subscription:
        """Change a subscription (PATCH): only the arguments given are changed.

        ``enabled=False`` pauses deliveries of its event type; there is no delete endpoint.
        An unknown ``subscription_id`` raises :class:`~kard_async.NotFoundError`.
        """
        return await self._patch(
            self._org_path(
                "subscriptions",
                require_id("subscription_id", subscription_id),
                organization_id=organization_id,
            ),
            body=encode_subscription_update(
                SubscriptionUpdate(event_name=event_name, webhook_url=webhook_url, enabled=enabled)
            ),
            cast_to=Subscription,
            unwrap=True,
        )
