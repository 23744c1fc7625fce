"""Ping (API reference §11): the client's own call, not an API area."""

from __future__ import annotations

from .._errors import NetworkBlockedError, PermissionDeniedError
from ..models.ping import Ping
from ._base import AsyncResource


class AsyncPing(AsyncResource):
    """Behind ``kard.ping()`` and ``kard.with_raw_response.ping()``."""

    async def ping(self) -> Ping:
        """Check that the API answers (with the client's token); see ``AsyncKard.ping``."""
        try:
            return await self._get("/v2/ping", cast_to=Ping)
        except PermissionDeniedError as error:
            raise NetworkBlockedError.from_error(error) from None
