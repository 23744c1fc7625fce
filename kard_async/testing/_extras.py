"""The "extras" fault: decorate a response with members a future API version might add.

A forward-compatible client must ignore unknown members, tolerate unknown enum values and
skip side-loaded resources of unknown types.
"""

from __future__ import annotations

from typing import Any

import msgspec

_UNKNOWN_ENUMS = {
    "purchaseChannel": "CRYPTO",
    "buttonStyle": "GHOST",
    "borderColor": "TERTIARY",
    "position": "CENTER",
}


def _resource(node: dict[str, Any]) -> None:
    node["x-future-resource-member"] = {"since": "2099-01-01"}
    attributes = node.get("attributes")
    if isinstance(attributes, dict):
        attributes["futureAttribute"] = "ignored by old clients"
        reward = attributes.get("userReward")
        if isinstance(reward, dict):
            reward["type"] = "TIERED"
            reward["tiers"] = [{"threshold": 0, "value": reward.get("value")}]
        assets = attributes.get("assets")
        if isinstance(assets, list):
            assets.append(
                {
                    "type": "VIDEO_VIEW",
                    "url": "https://attribution.getkard.com/v/clip.mp4",
                    "alt": "",
                }
            )
        if node.get("type") == "job":
            attributes["status"] = "processing"
    relationships = node.get("relationships")
    if isinstance(relationships, dict):
        relationships["brand"] = {"data": {"type": "brand", "id": "brand-1"}}


def _walk(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in list(node.items()):
        if key in _UNKNOWN_ENUMS:
            if isinstance(value, list):
                value.append(_UNKNOWN_ENUMS[key])
            elif isinstance(value, str):
                node[key] = _UNKNOWN_ENUMS[key]
        _walk(value)
    if isinstance(node.get("type"), str) and isinstance(node.get("attributes"), dict):
        _resource(node)


def with_extras(body: dict[str, Any]) -> dict[str, Any]:
    """A decorated deep copy of a successful response body."""
    body = msgspec.json.decode(msgspec.json.encode(body))
    _walk(body)
    body["x-future-top-level"] = {"apiVersion": "2099-01-01"}
    if "data" in body:
        included = body.setdefault("included", [])
        included.append(
            {
                "type": "merchantPromo",
                "id": "promo-1",
                "attributes": {
                    "headline": "Double points weekend",
                    "endsAt": "2099-01-01T00:00:00Z",
                },
            }
        )
        included.append(
            {
                "type": "premiumOffer",
                "id": "premium-offer-1",
                "attributes": {
                    "name": "Premium Lounge Access",
                    "purchaseChannel": ["ONLINE"],
                    "userReward": {"type": "PERCENT", "value": 12},
                    "isTargeted": True,
                },
                "relationships": {
                    "category": {"data": [{"type": "category", "id": "premium-category"}]}
                },
            }
        )
    return body
