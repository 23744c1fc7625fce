"""The blocking facade: ``Kard``, generated from the async source by ``tools/gen_sync.py``,
and the small hand-written runtime it calls through (``_portal``, ``_pagination``)."""

from ._client import Kard
from ._pagination import Pager
from ._portal import SyncInAsyncWarning

__all__ = ["Kard", "Pager", "SyncInAsyncWarning"]
