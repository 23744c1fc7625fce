"""What every generated blocking resource shares: its client handle, and the way to its
async twin (the attribute path from the client, re-resolved after a fork)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from .portal import ClientHandle
from .raw import WithRawResponse

T = TypeVar("T")


class SyncResource(Generic[T]):
    """Base of a generated blocking resource; ``T`` is its async twin's class."""

    __slots__ = ("__dict__", "_handle", "_path")

    def __init__(self, handle: ClientHandle, path: tuple[str, ...]) -> None:
        self._handle = handle
        self._path = path

    @property
    def with_raw_response(self) -> WithRawResponse:
        """The same API methods, answering with the HTTP response of the call: ``status``,
        ``headers``, ``request_id``, ``content``, and ``parse()`` for the decoded value
        (``kard.users.rewards.with_raw_response.offers("u1")``; a list method answers with
        its first page). Errors raise as usual."""
        return WithRawResponse(self._handle, (*self._path, "with_raw_response"))

    def _target(self) -> T:
        target: Any = self._handle.client()
        for name in self._path:
            target = getattr(target, name)
        resolved: T = target
        return resolved
