"""``kard-async demo``: the main jobs, against the bundled emulator. No credentials, no network."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .. import AsyncKard
from .._version import __version__
from ..bulk import BulkProgress
from ..models import CategoryOption, Offer
from ._output import Column, Output, make_output
from ._render import channels_text, location_columns, location_row, reward_text
from ._settings import int_at_least
from ._synthetic import synthetic_events
from ._upload import summary_rows

USER = "demo-user"
CITY_HALL = (39.9526, -75.1652)  # Philadelphia City Hall
RADIUS = 2
CATEGORY: CategoryOption = "Food & Beverage"
SHOWN_LOCATIONS = 8
DEFAULT_EVENTS = 50_000
DEFAULT_USERS = 2_000

OFFER_COLUMNS = (
    Column("name"),
    Column("reward", justify="right", no_wrap=True),
    Column("channels"),
    Column("targeted"),
    Column("expires", no_wrap=True),
)

EPILOG = """\
example:
  kard-async demo

It starts the bundled Kard emulator on a free 127.0.0.1 port (test credentials, seeded
data) and, with the library's async client: lists locations near a point with their offers,
lists the offers of a category, activates an offer, and uploads 50,000 synthetic
attribution events from 2,000 users with bulk_create. It takes a few seconds.
"""


def add_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="see the library work end to end against the bundled emulator (start here)",
        description="Walk through the main jobs against a local Kard emulator: no "
        "credentials, no network.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--plain", action="store_true", help="plain text output, even if rich is installed"
    )
    # For tests and quick looks: the size of the bulk upload.
    demo.add_argument(
        "--events", type=int_at_least(1), default=DEFAULT_EVENTS, help=argparse.SUPPRESS
    )
    demo.add_argument(
        "--users", type=int_at_least(1), default=DEFAULT_USERS, help=argparse.SUPPRESS
    )
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ..testing import EmulatorServer, KardEmulator

    output = make_output(plain=args.plain)
    # Keep only a few recorded requests: the demo never looks at them.
    with EmulatorServer(KardEmulator(max_recorded_requests=100)) as server:
        demo = Demo(output, server.base_url, lambda: server.emulator.attribution_event_count)
        return asyncio.run(demo.run(events=args.events, users=args.users))


class Demo:
    def __init__(self, output: Output, base_url: str, recorded: Callable[[], int]) -> None:
        self._out = output
        self._base_url = base_url
        self._recorded = recorded

    async def run(self, *, events: int, users: int) -> int:
        from ..testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_ORGANIZATION_ID

        out = self._out
        out.line(f"kard-async {__version__} demo")
        out.note(
            f"A Kard emulator is running at {self._base_url} with test credentials and seeded "
            "data; nothing leaves this machine."
        )
        out.note(
            f'kard = AsyncKard("{TEST_CLIENT_ID}", "<secret>", '
            f'organization_id="{TEST_ORGANIZATION_ID}", base_url="{self._base_url}")'
        )
        async with AsyncKard(
            TEST_CLIENT_ID,
            TEST_CLIENT_SECRET,
            organization_id=TEST_ORGANIZATION_ID,
            base_url=self._base_url,
        ) as kard:
            await self._locations(kard)
            offers = await self._offers(kard)
            await self._activate(kard, offers[0])
            ok = await self._bulk(kard, events=events, users=users)
        self._next_steps()
        return 0 if ok else 1

    async def _locations(self, kard: AsyncKard) -> None:
        out = self._out
        latitude, longitude = CITY_HALL
        out.heading(f"1. Locations within {RADIUS} miles of Philadelphia City Hall, with offers")
        out.note(
            f'await kard.users.rewards.locations("{USER}", latitude={latitude}, '
            f'longitude={longitude}, radius={RADIUS}, include=["offers", "categories"])'
        )
        pager = kard.users.rewards.locations(
            USER,
            latitude=latitude,
            longitude=longitude,
            radius=RADIUS,
            include=["offers", "categories"],
            supported_components=["baseReward"],
            page_size=SHOWN_LOCATIONS,
        )
        page = await pager
        rows = [location_row(page, item, CITY_HALL, category=False) for item in page.data]
        out.table(location_columns(distance=True, category=False), rows)
        total = 0
        async for _ in pager:  # every page, fetched as the loop goes
            total += 1
        out.note(
            f"The {len(page.data)} nearest of {total} locations in the radius "
            f"({-(-total // SHOWN_LOCATIONS)} pages of {SHOWN_LOCATIONS}, walked by 'async for')."
        )

    async def _offers(self, kard: AsyncKard) -> list[Offer]:
        out = self._out
        out.heading(f'2. Offers in "{CATEGORY}"')
        out.note(
            f'[offer async for offer in kard.users.rewards.offers("{USER}", '
            f'category="{CATEGORY}", sort=["-startDate"])]'
        )
        offers = [
            offer
            async for offer in kard.users.rewards.offers(
                USER,
                category=CATEGORY,
                sort=["-startDate"],
                supported_components=["baseReward"],
                page_size=5,
            )
        ]
        rows = [
            [
                offer.name,
                reward_text(offer),
                channels_text(offer),
                "yes" if offer.attributes.is_targeted else "",
                offer.attributes.expiration_date.date().isoformat()
                if offer.attributes.expiration_date
                else "",
            ]
            for offer in offers
        ]
        out.table(OFFER_COLUMNS, rows)
        return offers

    async def _activate(self, kard: AsyncKard, offer: Offer) -> None:
        out = self._out
        out.heading("3. Activating an offer")
        out.note(
            f'await kard.users.attributions.activate("{USER}", "{offer.id}", include=["offer"])'
        )
        result = await kard.users.attributions.activate(USER, offer.id, include=["offer"])
        attributes = result.data.attributes
        when = f" at {attributes.event_date:%Y-%m-%d %H:%M:%S %Z}" if attributes.event_date else ""
        out.line(
            f'Activated "{offer.name}" ({reward_text(offer)} back) for {USER}: the server '
            f"recorded an {attributes.event_code} event via {attributes.medium}{when} "
            f"(attribution id {result.data.id})."
        )

    async def _bulk(self, kard: AsyncKard, *, events: int, users: int) -> bool:
        out = self._out
        out.heading(f"4. Bulk upload: {events:,} attribution events from {users:,} users")
        out.note(
            "report = await kard.users.attributions.bulk_create(events, on_progress=...)  "
            "# any number of (user_id, event) pairs"
        )
        offer_ids = [offer.id async for offer in kard.users.rewards.offers(USER, page_size=100)]
        mix: Counter[tuple[str, str]] = Counter()
        source = synthetic_events(
            events, users=users, offer_ids=offer_ids, now=datetime.now(timezone.utc), mix=mix
        )
        recorded_before = self._recorded()
        loop = asyncio.get_running_loop()
        started = loop.time()

        with out.progress("uploading", events) as bar:

            def on_progress(progress: BulkProgress) -> None:
                elapsed = loop.time() - started
                rate = progress.done / elapsed if elapsed > 0 else 0.0
                bar.update(progress.done, f"{rate:,.0f} events/s")

            report = await kard.users.attributions.bulk_create(source, on_progress=on_progress)
            rate = report.progress().done / report.elapsed if report.elapsed > 0 else 0.0
            bar.update(report.progress().done, f"{rate:,.0f} events/s")

        out.summary(summary_rows(report), title="Report")
        kinds = "; ".join(
            f"{kind} "
            + ", ".join(f"{code} {count:,}" for (k, code), count in mix.most_common() if k == kind)
            for kind in sorted({kind for kind, _ in mix}, reverse=True)
        )
        out.note(f"Mix: {kinds}.")
        recorded = self._recorded() - recorded_before
        out.line(
            f"The emulator recorded {recorded:,} events: each accepted event exactly once."
            if recorded == report.accepted
            else f"The emulator recorded {recorded:,} events; {report.accepted:,} were accepted."
        )
        return report.ok and recorded == report.accepted

    def _next_steps(self) -> None:
        out = self._out
        out.heading("Next")
        for command, what in (
            (
                "kard-async serve",
                "run this emulator for your own tests; prints its URL and credentials",
            ),
            (
                "kard-async locations USER --lat 39.9526 --lon -75.1652",
                "locations and offers near a point (table, or --json)",
            ),
            ('kard-async offers USER --category "Food & Beverage"', "a user's offers"),
            ("kard-async attributions upload events.jsonl", "upload a JSONL or CSV file of events"),
        ):
            out.line(f"  {command}")
            out.note(f"      {what}")
        out.note("Every command has --help with examples.")
