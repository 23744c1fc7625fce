"""A local Kard Rewards API emulator for tests, demos and benchmarks.

It speaks the wire format on its own (plain JSON shaped by the API reference) and never
uses the client's models, so a client bug cannot be mirrored by the server testing it.
"""

from ._constants import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID
from ._emulator import KardEmulator
from ._faults import Fault
from ._records import ReceivedEvent, ReceivedFile, RecordedRequest, TokenRequest
from ._seed import BENCHMARK_QUERY
from ._server import EmulatorServer, serve

__all__ = [
    "BENCHMARK_QUERY",
    "TEST_CLIENT_ID",
    "TEST_CLIENT_SECRET",
    "TEST_ORGANIZATION_ID",
    "EmulatorServer",
    "Fault",
    "KardEmulator",
    "ReceivedEvent",
    "ReceivedFile",
    "RecordedRequest",
    "TokenRequest",
    "serve",
]
