"""API uploads sharded by user across 4 processes, each with its own client, against the
emulator: every event is accounted for exactly once."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from kard_async import AsyncKard, InvalidParameterError
from kard_async.sharding import Shard, run_sharded, shard_of
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
)

EVENTS = 3_000
USERS = 97


def events() -> Iterator[tuple[str, dict[str, Any]]]:
    """The same input in every process: events round-robin over the users."""
    for n in range(EVENTS):
        yield (
            f"user-{n % USERS:03d}",
            {
                "type": "offerAttribution",
                "attributes": {
                    "entityId": f"offer-{n:05d}",
                    "eventCode": "VIEW",
                    "medium": "SEARCH",
                    "eventDate": "2025-01-31T12:00:00Z",
                },
            },
        )


def upload_shard(shard: Shard, *, base_url: str) -> dict[str, Any]:
    """One process: its own client, its own users."""

    async def main() -> dict[str, Any]:
        async with AsyncKard(
            TEST_CLIENT_ID,
            TEST_CLIENT_SECRET,
            organization_id=TEST_ORGANIZATION_ID,
            base_url=base_url,
        ) as kard:
            report = await kard.users.attributions.bulk_create(shard.select(events()))
        users = sorted({job.user_id for job in report.jobs})
        return {
            "shard": shard.index,
            "accepted": report.accepted,
            "failed": report.failed_count,
            "invalid": len(report.invalid),
            "users": users,
        }

    return asyncio.run(main())


def test_four_processes_account_for_every_event_exactly_once(
    kard_server: EmulatorServer,
) -> None:
    results = run_sharded(functools.partial(upload_shard, base_url=kard_server.base_url), 4)
    assert [r["shard"] for r in results] == [0, 1, 2, 3]
    assert all(r["failed"] == 0 and r["invalid"] == 0 for r in results)
    assert sum(r["accepted"] for r in results) == EVENTS
    assert all(r["accepted"] for r in results)  # every process had work
    owners = Counter(user for r in results for user in r["users"])
    assert sorted(owners) == [f"user-{u:03d}" for u in range(USERS)]
    assert set(owners.values()) == {1}  # each user in exactly one process
    for r in results:
        assert all(shard_of(user, 4) == r["shard"] for user in r["users"])
    received = Counter(
        (event.user_id, event.attributes["entityId"])
        for event in kard_server.emulator.attribution_events
    )
    assert len(received) == EVENTS
    assert set(received.values()) == {1}  # each event received exactly once


def test_shards_are_stable_and_cover_every_key() -> None:
    keys = [f"user-{n}" for n in range(1000)]
    shards = [Shard(index, 4) for index in range(4)]
    owned = [[key for key in keys if shard.owns(key)] for shard in shards]
    assert sorted(key for share in owned for key in share) == sorted(keys)
    assert all(len(share) > 150 for share in owned)
    pairs = [(key, n) for n, key in enumerate(keys)]
    assert [key for key, _ in shards[2].select(pairs)] == owned[2]
    assert shard_of("user-1", 4) == 0  # CRC-32 of the UTF-8 bytes: the same in every process


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda: Shard(4, 4), "index"),
        (lambda: Shard(0, 0), "count"),
        (lambda: run_sharded(print, 0), "shards"),
        (lambda: shard_of(7, 2), "key"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments(build: Any, parameter: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        build()
    assert caught.value.parameter == parameter
