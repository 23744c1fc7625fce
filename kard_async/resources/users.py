"""``kard.users``: the user-scoped API areas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import AsyncResource
from .attributions import AsyncAttributions
from .rewards import AsyncRewards

if TYPE_CHECKING:
    from .._client import AsyncKard


class AsyncUsers(AsyncResource):
    """Calls about one of your users, addressed by your own user id."""

    rewards: AsyncRewards
    attributions: AsyncAttributions

    def __init__(self, client: AsyncKard) -> None:
        super().__init__(client)
        self.rewards = AsyncRewards(client)
        self.attributions = AsyncAttributions(client)
