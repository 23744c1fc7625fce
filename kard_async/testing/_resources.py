"""Wire resources built from the seed that more than one API area serves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._components import offer_components
from ._constants import CATEGORY_NAMES
from ._jsonapi import ApiError
from ._seed import CATEGORY_RESOURCES, OFFERS_BY_ID, PLACEMENTS, SeedOffer, SeedPlacement

_CATEGORY_ORDER = {name: index for index, name in enumerate(CATEGORY_NAMES)}


def offer_resource(offer: SeedOffer, wanted: list[str], user_path: str) -> dict[str, Any]:
    """A ``standardOffer`` with the ``supportedComponents`` asked for (``wanted``)."""
    if not wanted:
        return offer.resource
    resource = dict(offer.resource)
    resource["attributes"] = {
        **offer.resource["attributes"],
        "components": offer_components(offer, wanted, user_path),
    }
    return resource


def categories(names: Iterable[str]) -> list[dict[str, Any]]:
    """``category`` resources for a set of names, in the API's category order."""
    return [
        CATEGORY_RESOURCES[name] for name in sorted(set(names), key=_CATEGORY_ORDER.__getitem__)
    ]


def seed_offer(offer_id: str) -> SeedOffer:
    offer = OFFERS_BY_ID.get(offer_id)
    if offer is None:
        raise ApiError(404, f"offer {offer_id!r} does not exist")
    return offer


def seed_placement(placement_id: str) -> SeedPlacement:
    placement = PLACEMENTS.get(placement_id)
    if placement is None:
        raise ApiError(404, f"placement {placement_id!r} does not exist")
    return placement
