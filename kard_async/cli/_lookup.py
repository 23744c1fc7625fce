"""``kard-async locations`` and ``kard-async offers``: a table, or JSON lines with ``--json``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, get_args

from .. import AsyncKard
from ..models import CategoryOption, LocationInclude, LocationsPage, OffersPage, State
from ._output import make_output
from ._render import (
    OFFER_COLUMNS,
    category_map,
    json_line,
    location_columns,
    location_row,
    offer_category_ids,
    offer_row,
)
from ._settings import CONNECTION_HELP, add_connection_arguments, client_kwargs, int_at_least

DEFAULT_PAGE_SIZE = 100

LOCATIONS_EPILOG = f"""\
examples:
  kard-async locations user-123 --lat 39.9526 --lon -75.1652 --radius 2
  kard-async locations user-123 --lat 39.9526 --lon -75.1652 --category "Food & Beverage" \\
      --limit 20 --json | jq -r .attributes.name

The table lists each location's offers with their reward. --json prints one location per
line in the API's own fields; with --include, each side-loaded offer and category follows,
once, the first location that refers to it (tell the lines apart by "type").

{CONNECTION_HELP}"""

OFFERS_EPILOG = f"""\
examples:
  kard-async offers user-123 --category "Food & Beverage" --sort -startDate
  kard-async offers user-123 --search pizza --channel ONLINE --targeted --json

--json prints one offer per line in the API's own fields; with --include categories, each
category follows, once, the first offer in it (tell the lines apart by "type").

{CONNECTION_HELP}"""


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_common(parser: argparse.ArgumentParser, include_help: str) -> None:
    parser.add_argument(
        "--include", type=_csv, metavar="LIST", help=include_help + " (comma-separated)"
    )
    parser.add_argument(
        "--page-size",
        type=int_at_least(1),
        metavar="N",
        help=f"items per request (default: {DEFAULT_PAGE_SIZE}, or --limit if smaller)",
    )
    parser.add_argument(
        "--limit", type=int_at_least(1), metavar="N", help="stop after N items (default: all)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON lines (one object per line)"
    )
    parser.add_argument(
        "--plain", action="store_true", help="plain tab-separated output, even if rich is installed"
    )
    add_connection_arguments(parser)


def add_parsers(commands: Any) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    locations = commands.add_parser(
        "locations",
        help="locations where a user has in-store offers, near a point",
        description="List the merchant locations where USER has eligible in-store offers, "
        "page by page, nearest first.",
        epilog=LOCATIONS_EPILOG,
        formatter_class=formatter,
    )
    locations.add_argument("user", metavar="USER", help="the user's id (your id for the user)")
    locations.add_argument("--lat", "--latitude", dest="latitude", type=float, metavar="X")
    locations.add_argument("--lon", "--longitude", dest="longitude", type=float, metavar="Y")
    locations.add_argument(
        "--radius",
        type=int_at_least(1),
        metavar="R",
        help="miles around --lat/--lon (server default 10)",
    )
    locations.add_argument("--name", help="merchant name contains")
    locations.add_argument("--city", help="city contains (narrows a radius search)")
    locations.add_argument("--zip", dest="zip_code", metavar="ZIP", help="zip code")
    locations.add_argument(
        "--state", choices=get_args(State), metavar="XX", help="state code, e.g. PA"
    )
    locations.add_argument(
        "--category",
        choices=get_args(CategoryOption),
        metavar="NAME",
        help='e.g. "Food & Beverage"',
    )
    locations.add_argument(
        "--sort", type=_csv, metavar="KEYS", help="locationName or -locationName"
    )
    _add_common(locations, "side-load offers and/or categories (table: always both)")
    locations.set_defaults(run=run_locations)

    offers = commands.add_parser(
        "offers",
        help="national offers a user is eligible for",
        description="List the offers USER is eligible for, page by page.",
        epilog=OFFERS_EPILOG,
        formatter_class=formatter,
    )
    offers.add_argument("user", metavar="USER", help="the user's id (your id for the user)")
    offers.add_argument("--search", metavar="TEXT", help="offer or category name contains")
    offers.add_argument(
        "--channel",
        type=_csv,
        action="extend",
        metavar="CHANNEL",
        help="INSTORE and/or ONLINE (repeatable, or comma-separated)",
    )
    offers.add_argument(
        "--category",
        choices=get_args(CategoryOption),
        metavar="NAME",
        help='e.g. "Food & Beverage"',
    )
    targeted = offers.add_mutually_exclusive_group()
    targeted.add_argument(
        "--targeted",
        dest="is_targeted",
        action="store_const",
        const=True,
        help="only targeted offers",
    )
    targeted.add_argument(
        "--not-targeted",
        dest="is_targeted",
        action="store_const",
        const=False,
        help="only offers that are not targeted",
    )
    offers.add_argument(
        "--sort",
        type=_csv,
        metavar="KEYS",
        help="startDate, expirationDate or name; prefix - for descending (comma-separated)",
    )
    _add_common(offers, "side-load categories")
    offers.set_defaults(run=run_offers)


def _page_size(args: argparse.Namespace) -> int:
    if args.page_size is not None:
        return int(args.page_size)
    return min(DEFAULT_PAGE_SIZE, args.limit or DEFAULT_PAGE_SIZE)


def _remaining(args: argparse.Namespace, count: int) -> int | None:
    return None if args.limit is None else args.limit - count


def run_locations(args: argparse.Namespace) -> int:
    return asyncio.run(_locations(args))


def run_offers(args: argparse.Namespace) -> int:
    return asyncio.run(_offers(args))


class _JsonLines:
    """Writes models as JSON lines to stdout; included resources once each."""

    def __init__(self) -> None:
        self._out = sys.stdout.buffer
        self._seen: set[tuple[str, str]] = set()

    def write(self, model: Any) -> None:
        self._out.write(json_line(model))

    def write_included(self, resources: Sequence[Any]) -> None:
        """Side-loaded resources, each the first time it is referenced."""
        for resource in resources:
            key = (getattr(resource, "type", ""), getattr(resource, "id", ""))
            if key not in self._seen:
                self._seen.add(key)
                self.write(resource)

    def flush(self) -> None:
        self._out.flush()


async def _locations(args: argparse.Namespace) -> int:
    table = not args.json
    include: list[LocationInclude] = ["offers", "categories"] if table else args.include
    origin = (args.latitude, args.longitude) if args.latitude is not None else None
    output = make_output(plain=args.plain) if table else None
    lines = None if table else _JsonLines()
    rows: list[list[str]] = []
    count = 0
    async with AsyncKard(**client_kwargs(args)) as kard:
        page: LocationsPage | None = await kard.users.rewards.locations(
            args.user,
            latitude=args.latitude,
            longitude=args.longitude,
            radius=args.radius,
            name=args.name,
            city=args.city,
            zip_code=args.zip_code,
            state=args.state,
            category=args.category,
            sort=args.sort,
            include=include,
            supported_components=["baseReward"] if table else None,
            page_size=_page_size(args),
        )
        while page is not None and _remaining(args, count) != 0:
            remaining = _remaining(args, count)
            locations = page.data if remaining is None else page.data[:remaining]
            count += len(locations)
            if lines is not None:
                for location in locations:
                    lines.write(location)
                    lines.write_included([*page.offers_of(location), *page.categories_of(location)])
                lines.flush()
            else:
                rows.extend(location_row(page, location, origin) for location in locations)
            page = await page.next_page() if _remaining(args, count) != 0 else None
    if output is not None:
        if rows:
            output.table(location_columns(distance=origin is not None), rows)
        else:
            output.warn("no locations found")
    return 0


async def _offers(args: argparse.Namespace) -> int:
    table = not args.json
    output = make_output(plain=args.plain) if table else None
    lines = None if table else _JsonLines()
    rows: list[list[str]] = []
    count = 0
    async with AsyncKard(**client_kwargs(args)) as kard:
        offers_page: OffersPage | None = await kard.users.rewards.offers(
            args.user,
            search=args.search,
            purchase_channel=args.channel,
            category=args.category,
            is_targeted=args.is_targeted,
            sort=args.sort,
            include=args.include,
            page_size=_page_size(args),
        )
        while (page := offers_page) is not None and _remaining(args, count) != 0:
            remaining = _remaining(args, count)
            offers = page.data if remaining is None else page.data[:remaining]
            count += len(offers)
            if lines is not None:
                for offer in offers:
                    lines.write(offer)
                    wanted = set(offer_category_ids(offer))
                    lines.write_included(
                        [c for c in page.included if getattr(c, "id", "") in wanted]
                    )
                lines.flush()
            else:
                categories = category_map(page.meta.available_categories, page.included)
                rows.extend(offer_row(offer, categories) for offer in offers)
            offers_page = await page.next_page() if _remaining(args, count) != 0 else None
    if output is not None:
        if rows:
            output.table(OFFER_COLUMNS, rows)
        else:
            output.warn("no offers found")
    return 0
