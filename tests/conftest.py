# The emulator fixtures (kard_server, kard_emulator) come from kard_async's pytest plugin,
# registered through its pytest11 entry point when the package is installed
# (`pip install -e .`), as the README's test command does.


# --- async core fixtures (test_client*, test_auth, test_retries, test_errors, ...) ---
import collections.abc
from typing import Any

import pytest

from kard_async import AsyncKard, RetryPolicy
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
)

FAST_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
async def make_kard(
    kard_server: EmulatorServer,
) -> collections.abc.AsyncIterator[collections.abc.Callable[..., AsyncKard]]:
    """Build AsyncKard clients against the emulator (fast retries); all closed afterwards."""
    clients: list[AsyncKard] = []

    def make(**overrides: Any) -> AsyncKard:
        settings: dict[str, Any] = {
            "client_id": TEST_CLIENT_ID,
            "client_secret": TEST_CLIENT_SECRET,
            "organization_id": TEST_ORGANIZATION_ID,
            "base_url": kard_server.base_url,
            "retry_policy": FAST_RETRIES,
        }
        settings.update(overrides)
        client = AsyncKard(**settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def kard(make_kard: collections.abc.Callable[..., AsyncKard]) -> AsyncKard:
    """An AsyncKard talking to the emulator, with tiny retry delays."""
    return make_kard()


# --- end of async core fixtures ---
