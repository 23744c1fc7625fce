"""The emulated API, one module per area (``auth``, ``rewards``, ``attributions``, ...).

Each handler carries its ``@route``. The router collects the routes of every module in this
package, so a new endpoint is one decorated handler in its area's module, and a new area is
one new module.
"""

import importlib
import pkgutil

from .._routing import Router

AREAS = tuple(
    importlib.import_module(f"{__name__}.{name}")
    for name in sorted(info.name for info in pkgutil.iter_modules(__path__))
    if not name.startswith("_")
)
ROUTER = Router(AREAS)
