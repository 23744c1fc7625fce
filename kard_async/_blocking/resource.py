"""What every generated blocking resource shares: its client handle, and the way to its
async twin (the attribute path from the client, re-resolved after a fork)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from .portal import ClientHandle

T = TypeVar("T")


class SyncResource(Generic[T]):
    """Base of a generated blocking resource; ``T`` is its async twin's class."""

    __slots__ = ("__dict__", "_handle", "_path")

    def __init__(self, handle: ClientHandle, path: tuple[str, ...]) -> None:
        self._handle = handle
        self._path = path

    def _target(self) -> T:
        target: Any = self._handle.client()
        for name in self._path:
            target = getattr(target, name)
        resolved: T = target
        return resolved
