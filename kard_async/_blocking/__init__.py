"""The hand-written runtime behind the generated blocking facade in ``kard_async._sync``:
the shared event-loop thread (``portal``), the resource base and the paginator."""

from .pagination import Paginator
from .portal import ClientHandle, SyncInAsyncWarning, connect, mirror_repr
from .raw import RawResponse, WithRawResponse
from .resource import SyncResource

__all__ = [
    "ClientHandle",
    "Paginator",
    "RawResponse",
    "SyncInAsyncWarning",
    "SyncResource",
    "WithRawResponse",
    "connect",
    "mirror_repr",
]
