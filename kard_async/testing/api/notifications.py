"""Notification subscriptions (API reference §8): list, create, update. No delete exists.

Event names are checked for shape only: the emulator takes types newer than the library
testing it, so forward compatibility can be exercised end to end.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .._jsonapi import ApiError, error_object, invalid_parameter
from .._routing import Call, Document, route

_SUBSCRIPTIONS = "/v2/issuers/{org}/subscriptions"
_EVENT_NAME = re.compile(r"[a-z][A-Za-z0-9]*")
_FIELDS = ("eventName", "webhookUrl", "enabled")


@route("GET", _SUBSCRIPTIONS)
def list_subscriptions(call: Call) -> Document:
    event_name = call.params.single("filter[eventName]")
    if event_name is not None and not _EVENT_NAME.fullmatch(event_name):
        raise invalid_parameter(
            "filter[eventName]",
            f"filter[eventName] {event_name!r} is not a notification type "
            "(e.g. earnedRewardSettled)",
        )
    return {"data": call.emulator._webhooks.subscriptions(call.organization_id, event_name)}


@route("POST", _SUBSCRIPTIONS, status=201)
def create_subscriptions(call: Call) -> Document:
    body = call.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data:
        raise ApiError(
            400, "request body must be an object with a non-empty 'data' array", pointer="/data"
        )
    errors: list[dict[str, Any]] = []
    items = [_attributes(item, f"/data/{i}", errors, partial=False) for i, item in enumerate(data)]
    if errors:
        raise ApiError(400, errors=errors)
    return {"data": call.emulator._webhooks.create(call.organization_id, items)}


@route("PATCH", f"{_SUBSCRIPTIONS}/{{subscription}}")
def update_subscription(call: Call) -> Document:
    body = call.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be an object with a 'data' object", pointer="/data")
    errors: list[dict[str, Any]] = []
    changes = _attributes(data, "/data", errors, partial=True)
    if not errors and not changes:
        errors.append(
            error_object(
                400,
                "attributes must change at least one of " + ", ".join(_FIELDS),
                pointer="/data/attributes",
            )
        )
    if errors:
        raise ApiError(400, errors=errors)
    subscription_id = call.path["subscription"]
    return {"data": call.emulator._webhooks.update(call.organization_id, subscription_id, changes)}


def _attributes(
    item: Any, pointer: str, errors: list[dict[str, Any]], *, partial: bool
) -> dict[str, Any]:
    """The subscription attributes of ``item``; problems are appended to ``errors``."""

    def fail(where: str, detail: str) -> None:
        errors.append(error_object(400, detail, pointer=f"{pointer}{where}"))

    if not isinstance(item, dict):
        fail("", f"must be a subscription object, got {item!r}")
        return {}
    if item.get("type") != "subscription":
        fail("/type", f"type must be 'subscription', got {item.get('type')!r}")
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        fail("/attributes", f"attributes is required and must be an object, got {attributes!r}")
        return {}
    for field in _FIELDS:
        if field not in attributes and not partial:
            fail(f"/attributes/{field}", f"{field} is required")
    event_name = attributes.get("eventName")
    if "eventName" in attributes and not (
        isinstance(event_name, str) and _EVENT_NAME.fullmatch(event_name)
    ):
        fail(
            "/attributes/eventName",
            f"eventName must be a notification type (e.g. earnedRewardSettled), got {event_name!r}",
        )
    url = attributes.get("webhookUrl")
    if "webhookUrl" in attributes and not _is_http_url(url):
        fail("/attributes/webhookUrl", f"webhookUrl must be an absolute http(s) URL, got {url!r}")
    enabled = attributes.get("enabled")
    if "enabled" in attributes and not isinstance(enabled, bool):
        fail("/attributes/enabled", f"enabled must be true or false, got {enabled!r}")
    return {field: attributes[field] for field in _FIELDS if field in attributes}


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
