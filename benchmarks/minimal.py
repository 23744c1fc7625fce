"""Variant "minimal": a hand-written aiohttp + msgspec client, the practical limit.

No retries, no validation, no forward compatibility: one ``aiohttp.ClientSession``, a
prebuilt URL and headers, and the plain ``gc=False`` Structs of
:mod:`benchmarks._minimal_models`. With ``decode=False`` (module :mod:`benchmarks.raw`) it
only reads the bytes: the transport ceiling.

Bulk uses the same straightforward code as the official-SDK variant: group per user, chunks
of 100, ``asyncio.gather`` under a semaphore of 16; bodies are encoded with msgspec.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from yarl import URL

from kard_async.testing import (
    BENCHMARK_QUERY,
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
)

from . import _minimal_models as m
from ._common import (
    EVENT_DATE,
    GET_USER_ID,
    WorkerArgs,
    async_load,
    bulk_plan,
    bulk_rounds,
    check_page,
    entity_id,
    event_code,
    group_chunks,
    worker_main,
)

MEASURES = ("get", "bulk")
BULK_CONCURRENCY = 16  # unless --concurrency says otherwise


async def _token(session: aiohttp.ClientSession, base_url: str) -> str:
    payload = {"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET}
    async with session.post(f"{base_url}/v2/auth/token", json=payload) as response:
        response.raise_for_status()
        token: str = (await response.json())["access_token"]
    return token


def _user_url(base_url: str, user_id: str, tail: str) -> str:
    return f"{base_url}/v2/issuers/{TEST_ORGANIZATION_ID}/users/{user_id}/{tail}"


async def locations_fetcher(
    session: aiohttp.ClientSession, base_url: str, *, decode: bool = True
) -> Callable[[], Awaitable[Any]]:
    """Token, prebuilt URL and headers; then each call GETs the benchmark's locations page
    (decoded into the plain Structs, or only read with ``decode=False``)."""
    query = "&".join(f"{key}={value}" for key, value in BENCHMARK_QUERY.items())
    url = URL(_user_url(base_url, GET_USER_ID, "locations") + "?" + query, encoded=True)
    decoder = m.LOCATIONS_DECODER
    headers = {
        "Authorization": "Bearer " + await _token(session, base_url),
        "Accept": "application/json",
    }

    async def fetch() -> Any:
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"GET locations: HTTP {response.status}")
        return decoder.decode(body) if decode else body

    check_page(len(decoder.decode(await _raw(session, url, headers)).data), "minimal")
    return fetch


async def get(args: WorkerArgs, *, decode: bool) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        fetch = await locations_fetcher(session, args.base_url, decode=decode)
        for _ in range(2):
            await asyncio.gather(*(fetch() for _ in range(args.concurrency)))
        load = await async_load(
            fetch,
            concurrency=args.concurrency,
            duration=args.duration,
            min_requests=args.min_requests,
            max_time=args.max_time,
        )
    return {"concurrency": args.concurrency, **load.as_dict()}


async def _raw(session: aiohttp.ClientSession, url: URL, headers: dict[str, str]) -> bytes:
    async with session.get(url, headers=headers) as response:
        return await response.read()


def event(n: int) -> m.OfferAttributionEvent:
    return m.OfferAttributionEvent(
        m.EventAttributes(entity_id(n), event_code(n), "BROWSE", EVENT_DATE)
    )


async def bulk(args: WorkerArgs, *, decode: bool) -> dict[str, Any]:
    """Straightforward chunk-and-gather upload. ``decode=False`` (raw) posts bodies encoded
    before the clock starts and does not decode the answers: the server's ceiling."""
    pairs = [(user_id, event(n)) for user_id, n in bulk_plan(args.events, args.users)]
    concurrency = args.concurrency if args.concurrency > 1 else BULK_CONCURRENCY
    async with aiohttp.ClientSession() as session:
        upload = await bulk_uploader(
            session, args.base_url, pairs, concurrency, decode=decode, max_time=args.max_time
        )
        rounds = await bulk_rounds(upload, min_time=args.duration)
    requests = len(group_chunks(pairs))
    return {"events": args.events, "users": args.users, "requests": requests, **rounds}


async def bulk_uploader(
    session: aiohttp.ClientSession,
    base_url: str,
    pairs: list[tuple[str, m.OfferAttributionEvent]],
    concurrency: int,
    *,
    decode: bool = True,
    max_time: float = 30.0,
) -> Callable[[], Awaitable[int]]:
    """Token and warm-up; then each call is one whole upload of ``pairs``: group per user,
    chunks of 100, ``asyncio.gather`` under a semaphore of ``concurrency``."""
    encode = m.ENCODER.encode
    prebuilt = (
        []
        if decode
        else [
            (user_id, encode(m.AttributionsBody(events)), len(events))
            for user_id, events in group_chunks(pairs)
        ]
    )
    headers = {
        "Authorization": "Bearer " + await _token(session, base_url),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }

    async def post(user_id: str, body: bytes, count: int) -> int:
        url = _user_url(base_url, user_id, "attributions")
        async with session.post(url, data=body, headers=headers) as response:
            answer = await response.read()
            if response.status >= 300:
                raise RuntimeError(f"POST attributions: HTTP {response.status}: {answer!r}")
        if decode:
            m.JOB_DECODER.decode(answer)
        return count

    warm = encode(m.AttributionsBody([event(0)]))
    await asyncio.gather(*(post("warm-user", warm, 1) for _ in range(BULK_CONCURRENCY)))

    async def upload() -> int:
        deadline = time.perf_counter() + max_time
        semaphore = asyncio.Semaphore(concurrency)

        async def send(user_id: str, body: bytes | None, events: list[Any]) -> int:
            async with semaphore:
                if time.perf_counter() > deadline:
                    return 0
                if body is None:
                    body = encode(m.AttributionsBody(events))
                return await post(user_id, body, len(events))

        if decode:
            chunks = [(u, None, events) for u, events in group_chunks(pairs)]
        else:
            chunks = [(u, body, [None] * count) for u, body, count in prebuilt]
        return sum(await asyncio.gather(*(send(*chunk) for chunk in chunks)))

    return upload


def run(args: WorkerArgs, *, decode: bool = True) -> dict[str, Any]:
    name = "minimal" if decode else "raw"
    if args.measure == "get":
        return {"variant": name, **asyncio.run(get(args, decode=decode))}
    return {"variant": name, **asyncio.run(bulk(args, decode=decode))}


def main(argv: Sequence[str] | None = None) -> int:
    return worker_main(argv, prog="python -m benchmarks.minimal", measures=MEASURES, run=run)


if __name__ == "__main__":
    sys.exit(main())
