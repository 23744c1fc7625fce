"""Resource classes: thin methods that describe API calls and hand them to the transport."""

from .attributions import AsyncAttributions
from .rewards import AsyncRewards
from .transactions import AsyncTransactions
from .users import AsyncUsers

__all__ = ["AsyncAttributions", "AsyncRewards", "AsyncUsers"]
__all__ += ["AsyncTransactions"]
