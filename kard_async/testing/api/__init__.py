"""The emulated API, one module per area; each handler carries its ``@route``.

A new endpoint is one decorated handler in its area's module. A new area is a new module
listed here.
"""

from .._routing import Router
from . import attributions, auth, files, rewards

ROUTER = Router((auth, rewards, attributions, files))
