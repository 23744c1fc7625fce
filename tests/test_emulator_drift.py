"""The emulator and the client agree on the API's closed value sets, without sharing code.

The emulator validates requests on its own, so that it cannot mirror a client bug: the value
sets live twice, as the client's ``Literal`` types (``kard_async/models``, ``resources``) and
as the emulator's tuples (``kard_async/testing/_constants.py``). These tests fail when one
side gains or loses a value, and when the emulator starts importing the client.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import aiohttp
import pytest

import kard_async
import kard_async.models
import kard_async.resources
from kard_async.testing import TEST_CLIENT_ID, TEST_CLIENT_SECRET, EmulatorServer
from kard_async.testing import _constants as emulator

TESTING = Path(kard_async.__file__).parent / "testing"
USER = f"/v2/issuers/{emulator.TEST_ORGANIZATION_ID}/users/user-1"
SEED_OFFER = "5e27318c9b346f00087fbb5c"

# client Literal name -> the emulator's value set
PAIRS: list[tuple[str, Iterable[str]]] = [
    ("CategoryOption", emulator.CATEGORY_NAMES),
    ("State", emulator.STATES),
    ("PurchaseChannel", emulator.PURCHASE_CHANNELS),
    ("ComponentType", emulator.COMPONENT_TYPES),
    ("OfferSort", emulator.OFFER_SORTS),
    ("LocationSort", emulator.LOCATION_SORTS),
    ("EventCode", emulator.EVENT_CODES),
    ("OfferMedium", emulator.MEDIUMS["offerAttribution"]),
    ("NotificationMedium", emulator.MEDIUMS["notificationAttribution"]),
    ("PlacementSlotMedium", emulator.MEDIUMS["placementSlotAttribution"]),
    ("LocationInclude", emulator.LOCATION_INCLUDES),
    ("OfferInclude", emulator.OFFER_INCLUDES),
    ("OfferInclude", emulator.PLACEMENT_INCLUDES),  # placement_content takes OfferInclude
    ("ActivationInclude", emulator.ACTIVATION_INCLUDES),
]
PAIRS += [  # transactions and earned rewards
    ("TransactionStatus", emulator.TRANSACTION_STATUSES),
    ("TransactionStatus", emulator.TRANSACTION_DATES),
    ("Direction", emulator.DIRECTIONS),
    ("PaymentType", emulator.PAYMENT_TYPES),
    ("CardNetwork", emulator.CARD_NETWORKS),
    ("Processor", emulator.PROCESSORS),
    ("EarnedRewardStatus", emulator.EARNED_REWARD_STATUSES),
    ("EarnedRewardsRange", emulator.EARNED_REWARDS_RANGES),
    ("EarnedRewardInclude", emulator.EARNED_REWARD_INCLUDES),
]


def _client_modules() -> list[ModuleType]:
    modules: list[ModuleType] = []
    for package in (kard_async.models, kard_async.resources):
        modules.append(package)
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    return modules


def _values(alias: Any) -> set[str]:
    """The strings of a ``Literal`` (also inside ``Literal[...] | str``, an open enum)."""
    found: set[str] = set()
    for arg in get_args(alias):
        if isinstance(arg, str):
            found.add(arg)
        else:
            found |= _values(arg)
    return found


def client_literal(name: str) -> set[str]:
    """A client ``Literal`` by name, wherever models/ or resources/ define it."""
    for module in _client_modules():
        alias = getattr(module, name, None)
        if alias is not None and _values(alias):
            return _values(alias)
    pytest.fail(f"the client defines no Literal named {name} in kard_async.models/resources")


@pytest.mark.parametrize(
    ("name", "values"), PAIRS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(PAIRS)]
)
def test_value_sets_match(name: str, values: Iterable[str]) -> None:
    client, ours = client_literal(name), set(values)
    assert (sorted(client - ours), sorted(ours - client)) == ([], []), (
        f"{name}: (only in the client, only in the emulator)"
    )


def test_event_types_and_their_mediums_match() -> None:
    """Every event class's type and allowed mediums against the emulator's table. (The
    ``medium`` fields are typed ``str`` at runtime, so that values Kard adds decode; the
    mediums known per type are the classes' ``MEDIUMS``.)"""
    events = get_args(kard_async.models.AttributionEvent)
    client = {cls.TYPE: set(cls.MEDIUMS) for cls in events}
    assert client == {kind: set(mediums) for kind, mediums in emulator.MEDIUMS.items()}


def test_the_emulator_never_imports_the_client() -> None:
    outside: list[str] = []
    for path in sorted(TESTING.rglob("*.py")):
        package = ".".join(("kard_async", *path.relative_to(TESTING.parent).parent.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")
                if node.level:
                    base = base[: len(base) - node.level + 1]
                    names = [".".join([*base, node.module]) if node.module else ".".join(base)]
                else:
                    names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            outside += [
                f"{path.relative_to(TESTING)}:{node.lineno} imports {name}"
                for name in names
                if name.split(".")[0] == "kard_async" and not name.startswith("kard_async.testing")
            ]
    assert outside == []


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
async def http(kard_server: EmulatorServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(kard_server.base_url) as session:
        credentials = {"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET}
        async with session.post("/v2/auth/token", json=credentials) as response:
            token = (await response.json())["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        yield session


async def _status(session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> int:
    async with session.request(method, path, **kwargs) as response:
        await response.read()
        return response.status


async def test_the_emulator_accepts_every_client_value_and_only_those(
    http: aiohttp.ClientSession,
) -> None:
    """The constants above are the ones the emulator's validation really uses."""
    checks: list[tuple[str, str, str, set[str]]] = [
        ("offers", "filter[category]", "CategoryOption", set()),
        ("locations", "filter[state]", "State", set()),
        ("offers", "filter[purchaseChannel]", "PurchaseChannel", set()),
        ("offers", "supportedComponents", "ComponentType", set()),
        ("offers", "sort", "OfferSort", set()),
        ("locations", "sort", "LocationSort", set()),
        ("locations", "include", "LocationInclude", set()),
        ("offers", "include", "OfferInclude", set()),
        ("placements/placement-1/content", "include", "OfferInclude", set()),
        (f"offers/{SEED_OFFER}/activate", "include", "ActivationInclude", set()),
    ]
    for endpoint, parameter, name, refused in checks:
        method = "POST" if endpoint.endswith("/activate") else "GET"
        for value in [*sorted(client_literal(name)), "NotAValue"]:
            status = await _status(http, method, f"{USER}/{endpoint}", params={parameter: value})
            if status != 200:
                refused.add(value)
        assert refused == {"NotAValue"}, f"{endpoint} {parameter}"

    events = [
        {
            "type": kind,
            "attributes": {
                "entityId": "entity-1",
                "eventCode": code,
                "medium": medium,
                "eventDate": "2025-01-01T00:00:00Z",
            },
        }
        for kind, name in (
            ("offerAttribution", "OfferMedium"),
            ("notificationAttribution", "NotificationMedium"),
            ("placementSlotAttribution", "PlacementSlotMedium"),
        )
        for medium in sorted(client_literal(name))
        for code in sorted(client_literal("EventCode"))
    ]
    assert await _status(http, "POST", f"{USER}/attributions", json={"data": events}) == 201
    for bad in ({"eventCode": "NotAValue"}, {"medium": "NotAValue"}):
        event = {**events[0], "attributes": {**events[0]["attributes"], **bad}}
        assert await _status(http, "POST", f"{USER}/attributions", json={"data": [event]}) == 400


async def test_the_emulator_takes_every_earned_rewards_filter_value_and_only_those(
    http: aiohttp.ClientSession,
) -> None:
    for parameter, name in (
        ("filter[status]", "EarnedRewardStatus"),
        ("filter[range]", "EarnedRewardsRange"),
        ("include", "EarnedRewardInclude"),
    ):
        refused = set()
        for value in [*sorted(client_literal(name)), "NotAValue"]:
            path = f"{USER}/earned-rewards"
            if await _status(http, "GET", path, params={parameter: value}) != 200:
                refused.add(value)
        assert refused == {"NotAValue"}, parameter
