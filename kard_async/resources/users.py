"""``kard.users``: the user-scoped API areas."""

from __future__ import annotations

from functools import cached_property

from ._base import AsyncResource
from .attributions import AsyncAttributions
from .rewards import AsyncRewards


class AsyncUsers(AsyncResource):
    """Calls about one of your users, addressed by your own user id."""

    @cached_property
    def rewards(self) -> AsyncRewards:
        return AsyncRewards(self._requester)

    @cached_property
    def attributions(self) -> AsyncAttributions:
        return AsyncAttributions(self._requester)
