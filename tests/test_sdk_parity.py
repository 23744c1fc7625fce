"""Every operation of the official SDK has a counterpart here (issue 14's migration table).

``data/sdk_operations.json`` lists the SDK's operations (made by ``tools/sdk_operations.py``
from the installed kard-financial-sdk); ``data/sdk_counterparts.json`` names the counterpart
of each: an attribute path on ``AsyncKard`` and ``Kard``. ``PENDING`` holds the operations
whose counterpart is not built yet. It may only shrink: when you build one, remove it here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from kard_async import AsyncKard, Kard

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TOOL = ROOT / "tools" / "sdk_operations.py"

PENDING: frozenset[str] = frozenset()
"""SDK operations whose counterpart (named in sdk_counterparts.json) does not exist yet."""


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


INVENTORY: dict[str, Any] = load("sdk_operations.json")
OPERATIONS: list[dict[str, str]] = INVENTORY["operations"]
COUNTERPARTS: dict[str, str] = load("sdk_counterparts.json")
CLIENT_SETTINGS: dict[str, Any] = {
    "token": "unused",  # nothing is sent: the tests only look attributes up
    "organization_id": "org-1",
    "base_url": "http://127.0.0.1:9",
}


def resolve(client: object, path: str) -> object | None:
    target: object | None = client
    for name in path.split("."):
        target = getattr(target, name, None)
        if target is None:
            return None
    return target


def check_counterparts(client: object) -> None:
    missing = {
        operation: COUNTERPARTS[operation]
        for operation in COUNTERPARTS.keys() - PENDING
        if not callable(resolve(client, COUNTERPARTS[operation]))
    }
    assert not missing, f"no callable counterpart on {type(client).__name__}: {missing}"
    built = sorted(o for o in PENDING if resolve(client, COUNTERPARTS[o]) is not None)
    assert not built, f"built on {type(client).__name__}: remove from PENDING: {built}"


def test_the_inventory_is_well_formed() -> None:
    assert INVENTORY["sdk"] == "kard-financial-sdk"
    names = [operation["operation"] for operation in OPERATIONS]
    assert names == sorted(set(names)), "operations are unique and sorted"
    for operation in OPERATIONS:
        assert operation["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}, operation
        assert operation["path"].startswith("/v2/"), operation


def test_every_sdk_operation_is_mapped_to_one_counterpart() -> None:
    names = {operation["operation"] for operation in OPERATIONS}
    assert sorted(names - COUNTERPARTS.keys()) == [], "SDK operations without a counterpart"
    assert sorted(COUNTERPARTS.keys() - names) == [], "counterparts of operations the SDK lacks"
    assert sorted(PENDING - names) == [], "PENDING names operations the SDK lacks"
    targets = list(COUNTERPARTS.values())
    assert len(set(targets)) == len(targets), "two SDK operations share one counterpart"


async def test_counterparts_exist_on_async_kard() -> None:
    async with AsyncKard(**CLIENT_SETTINGS) as kard:
        check_counterparts(kard)


def test_counterparts_exist_on_kard() -> None:
    with Kard(**CLIENT_SETTINGS) as kard:
        check_counterparts(kard)


def test_the_inventory_matches_the_installed_sdk() -> None:
    pytest.importorskip(
        "kard", reason="kard-financial-sdk is not installed (pip install --group bench)"
    )
    spec = importlib.util.spec_from_file_location("sdk_operations", TOOL)
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.collect() == OPERATIONS, "stale: run python tools/sdk_operations.py"
