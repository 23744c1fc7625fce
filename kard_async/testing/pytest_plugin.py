"""pytest fixtures serving the Kard emulator (registered through the ``pytest11`` entry point).

One server thread runs for the whole session; every test gets it with fresh state.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._emulator import KardEmulator
from ._server import EmulatorServer


@pytest.fixture(scope="session")
def kard_session_server() -> Iterator[EmulatorServer]:
    """The session-wide emulator server; state is NOT reset between tests."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def kard_server(kard_session_server: EmulatorServer) -> EmulatorServer:
    """A running emulator server with fresh state (records, faults, tokens, settings)."""
    # Close the previous test's connections and end the requests it left running, so that
    # nothing it sent can be recorded in this test's state (see EmulatorServer.quiesce).
    kard_session_server.quiesce()
    kard_session_server.emulator.reset()
    return kard_session_server


@pytest.fixture
def kard_emulator(kard_server: EmulatorServer) -> KardEmulator:
    """The freshly reset ``KardEmulator`` behind ``kard_server``."""
    return kard_server.emulator
