"""Ping (API reference §11): ``GET /v2/ping``, and its 403 when the network is blocked."""

from __future__ import annotations

from datetime import datetime, timezone

from .._routing import Call, Document, route

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _access_log_time(moment: datetime) -> str:
    """``02/Oct/2025:17:52:43 +0000``: what the API sends (not ISO 8601)."""
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


@route("GET", "/v2/ping", auth=False)
def ping(call: Call) -> Document:
    """A token is not required (the SDK sends one anyway). With ``network_blocked`` set on
    the emulator, the answer is the documented 403 ``{message}``."""
    blocked = call.emulator.network_blocked
    if blocked is not None:
        call.status = 403
        return {"message": blocked}
    now = datetime.now(timezone.utc)
    return {"message": "Ping successful", "status": "OK", "timestamp": _access_log_time(now)}
