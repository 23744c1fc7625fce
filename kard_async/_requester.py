"""What resources see of their client: where calls go, with which settings, for which
organization. The one small interface between resources and ``AsyncKard``."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ._call import Call
from ._errors import InvalidParameterError
from ._transport import RequestOptions, Transport

T = TypeVar("T")


@dataclass(frozen=True)
class Requester:
    transport: Transport
    options: RequestOptions
    organization_id: str | None

    def organization(self, override: str | None = None) -> str:
        """The organization of a call: its ``organization_id=``, else the client's."""
        organization = override or self.organization_id
        if not organization:
            raise InvalidParameterError(
                "organization_id",
                override,
                "no organization: pass organization_id= to this call or to the client "
                "(or set KARD_ORGANIZATION_ID)",
            )
        return organization

    def send(self, call: Call[T]) -> Coroutine[Any, Any, T]:
        return self.transport.send(call, self.options)

    def derive(self, *, organization_id: str | None = None, **options: Any) -> Requester:
        """A copy with some request options (and the default organization) changed."""
        return Requester(
            self.transport,
            replace(self.options, **options) if options else self.options,
            organization_id or self.organization_id,
        )
