"""A local Kard Rewards API emulator for tests, demos and benchmarks.

It speaks the wire format on its own (plain JSON shaped by the API reference) and never
uses the client's models, so a client bug cannot be mirrored by the server testing it.
"""

from ._constants import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    TEST_WEBHOOK_KEY,
)
from ._emulator import KardEmulator
from ._faults import Fault
from ._records import (
    DeliveryAttempt,
    EmittedNotification,
    ReceivedAudit,
    ReceivedEvent,
    ReceivedFile,
    ReceivedFraudMarker,
    ReceivedTransaction,
    RecordedRequest,
    TokenRequest,
)
from ._seed import BENCHMARK_QUERY
from ._server import EmulatorServer, serve
from ._webhooks import DeliveryPolicy

__all__ = [
    "BENCHMARK_QUERY",
    "TEST_CLIENT_ID",
    "TEST_CLIENT_SECRET",
    "TEST_ORGANIZATION_ID",
    "EmulatorServer",
    "Fault",
    "KardEmulator",
    "ReceivedAudit",
    "ReceivedEvent",
    "RecordedRequest",
    "TokenRequest",
    "serve",
]
__all__ += [  # notifications
    "TEST_WEBHOOK_KEY",
    "DeliveryAttempt",
    "DeliveryPolicy",
    "EmittedNotification",
]
__all__ += ["ReceivedFraudMarker", "ReceivedTransaction"]  # transactions
__all__ += ["ReceivedFile"]  # files
