"""``kard.notifications``: where Kard sends its webhook notifications (API reference §8).

Receiving them is :mod:`kard_async.webhooks`.
"""

from __future__ import annotations

from functools import cached_property

from ._base import AsyncResource
from .subscriptions import AsyncSubscriptions


class AsyncNotifications(AsyncResource):
    """``kard.notifications``: webhook notification settings."""

    @cached_property
    def subscriptions(self) -> AsyncSubscriptions:
        return AsyncSubscriptions(self._requester)
