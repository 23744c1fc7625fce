"""Organization management (API reference §9, §16): the organization of the token, its
child organizations, content strategies and placements (the five kinds), with the
documented 400s, 404s and 409s and cursor pagination (``page[after]`` only, 1 to 200)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from .._constants import (
    CADENCE_FREQUENCIES,
    CATEGORY_NAMES,
    CONTENT_STRATEGY_SORTS,
    DAYS_OF_WEEK,
    MAX_SLOT_DESCRIPTION,
    OFFER_FEATURES,
    ORG_LIST_MAX_PAGE_SIZE,
    ORG_PLACEMENT_INCLUDES,
    PLACEMENT_STATUSES,
    PLACEMENT_TYPES,
    WEEKS_OF_MONTH,
)
from .._jsonapi import (
    ApiError,
    canonical_query,
    decode_cursor,
    encode_cursor,
    format_datetime,
    invalid_parameter,
    query_string,
)
from .._organizations import Organization, Wire, new_uuid7
from .._routing import Call, Document, route

_ORG = "/v2/issuers/{org}"
_SLOTTED = ("placementBatchActivation", "placementGroup")


@contextmanager
def _organization(call: Call) -> Iterator[Organization]:
    with call.emulator._organizations.open(call.organization_id) as org:
        if org is None:
            raise ApiError(404, f"organization {call.organization_id!r} does not exist")
        yield org


# --------------------------------------------------------------------------- request bodies


def _pointer(*parts: str | int) -> str:
    return "/data/attributes" + "".join(f"/{part}" for part in parts)


def _attributes(call: Call, kind: str | tuple[str, ...]) -> tuple[str, Wire]:
    """``(type, attributes)`` of a ``{"data": {"type", "attributes"}}`` body."""
    body = call.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be {data: {type, attributes}}", pointer="/data")
    kinds = (kind,) if isinstance(kind, str) else kind
    given = data.get("type")
    if given not in kinds:
        raise ApiError(
            400,
            f"data.type must be {' or '.join(repr(k) for k in kinds)}, got {given!r}",
            pointer="/data/type",
        )
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise ApiError(400, "data.attributes must be an object", pointer="/data/attributes")
    return given, attributes


def _bad(detail: str, *parts: str | int) -> ApiError:
    return ApiError(400, detail, pointer=_pointer(*parts))


def _text(attributes: Wire, name: str, *, required: bool = False) -> str | None:
    value = attributes.get(name)
    if value is None:
        if required:
            raise _bad(f"{name} is required", name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{name} must be a non-empty string", name)
    return value


def _choice(attributes: Wire, name: str, allowed: tuple[str, ...], *parts: str) -> str | None:
    value = attributes.get(name)
    if value is not None and value not in allowed:
        raise _bad(f"{name} must be one of {', '.join(allowed)}, got {value!r}", *parts, name)
    return None if value is None else str(value)


def _strings(
    attributes: Wire, name: str, *parts: str, allowed: tuple[str, ...] | None = None
) -> list[str] | None:
    value = attributes.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(f"{name} must be an array of non-empty strings", *parts, name)
    for index, item in enumerate(value):
        if allowed is not None and item not in allowed:
            raise _bad(f"{name} value {item!r} is not allowed", *parts, name, str(index))
    return value


def _positive(attributes: Wire, name: str) -> int:
    value = attributes.get(name)
    if type(value) is not int or value < 1:
        raise _bad(f"{name} is required and must be an integer of at least 1", name)
    return value


def _no_others(attributes: Wire, allowed: Iterable[str], kind: str) -> None:
    for name in attributes:
        if name not in allowed:
            raise _bad(f"attribute {name!r} is not accepted for {kind}", name)


# --------------------------------------------------------------------------- lists


def _listed(call: Call, items: list[Wire], filters: tuple[str, ...] = ()) -> Document:
    """One page of ``items`` (``page[after]`` and ``page[size]`` 1 to 200, default 200)."""
    params = call.params
    if params.single("page[before]") is not None:
        raise invalid_parameter("page[before]", "page[before] is not supported here")
    size = params.integer("page[size]")
    if size is None:
        size = ORG_LIST_MAX_PAGE_SIZE
    elif not 1 <= size <= ORG_LIST_MAX_PAGE_SIZE:
        raise invalid_parameter(
            "page[size]", f"page[size] must be between 1 and {ORG_LIST_MAX_PAGE_SIZE}, got {size}"
        )
    after = params.single("page[after]")
    start = 0 if after is None else decode_cursor("page[after]", after, len(items))
    end = min(len(items), start + size)
    rest = canonical_query(params, filters, lists=("include",))

    def link(cursor: str | None) -> str:
        pairs = [("page[after]", cursor)] if cursor else []
        return call.raw_path + "?" + query_string([*pairs, ("page[size]", str(size)), *rest])

    more = end < len(items)
    return {
        "data": items[start:end],
        "links": {
            "self": link(after),
            "prev": None,
            "next": link(encode_cursor(end)) if more else None,
        },
        "meta": {"pageSize": size, "hasNextPage": more},
    }


# --------------------------------------------------------------------------- organization


@route("GET", "/v2/issuer")
def organization(call: Call) -> Document:
    """The organization of the bearer token: a bare resource, no ``data`` wrapper."""
    with _organization(call) as org:
        return {"type": "organization", "id": org.id, "attributes": dict(org.attributes)}


# --------------------------------------------------------------------------- children

_CHILD_NAME = re.compile(r"[A-Za-z0-9 ]+")
_BIN = re.compile(r"[0-9]{6,8}")


def _child(child_id: str, attributes: Wire) -> Wire:
    return {"type": "organization", "id": child_id, "attributes": dict(attributes)}


def _child_changes(attributes: Wire, *, create: bool) -> Wire:
    _no_others(attributes, ("name", "externalId", "bins"), "an organization")
    changes: Wire = {}
    name = _text(attributes, "name", required=create)
    if name is not None:
        if not _CHILD_NAME.fullmatch(name) or sum(c.isalnum() for c in name) < 2:
            raise _bad(
                "name must have at least two letters or digits, and only letters, digits "
                "and spaces",
                "name",
            )
        changes["name"] = name
    external_id = _text(attributes, "externalId")
    if external_id is not None:
        changes["externalId"] = external_id
    bins = _strings(attributes, "bins")
    if bins is not None:
        for index, value in enumerate(bins):
            if not _BIN.fullmatch(value):
                raise _bad(f"bins value {value!r} is not a 6 to 8 digit BIN", "bins", index)
        changes["bins"] = bins
    return changes


def _known_child(org: Organization, child_id: str) -> Wire:
    child = org.children.get(child_id)
    if child is None:
        raise ApiError(404, f"child organization {child_id!r} does not exist")
    return child


@route("GET", f"{_ORG}/children")
def list_children(call: Call) -> Document:
    with _organization(call) as org:
        items = [_child(child_id, child) for child_id, child in org.children.items()]
    return _listed(call, items)


@route("POST", f"{_ORG}/children", status=201)
def create_child(call: Call) -> Document:
    _, attributes = _attributes(call, "organization")
    changes = _child_changes(attributes, create=True)
    child_id = call.emulator._organizations.new_child_id()
    with _organization(call) as org:
        for other_id, other in org.children.items():
            if other["name"].casefold() == changes["name"].casefold():
                raise ApiError(409, f"child organization {other_id} is named {other['name']!r}")
            if "externalId" in changes and other.get("externalId") == changes["externalId"]:
                raise ApiError(
                    409, f"child organization {other_id} has externalId {other['externalId']!r}"
                )
        child = {"name": changes["name"], "bins": list(org.attributes["bins"])}
        child.update(changes)
        org.children[child_id] = child
        return _child(child_id, child)


@route("GET", f"{_ORG}/children/{{child}}")
def get_child(call: Call) -> Document:
    with _organization(call) as org:
        return _child(call.path["child"], _known_child(org, call.path["child"]))


@route("PATCH", f"{_ORG}/children/{{child}}")
def update_child(call: Call) -> Document:
    _, attributes = _attributes(call, "organization")
    changes = _child_changes(attributes, create=False)
    with _organization(call) as org:
        child = _known_child(org, call.path["child"])
        child.update(changes)
        return _child(call.path["child"], child)


@route("DELETE", f"{_ORG}/children/{{child}}")
def delete_child(call: Call) -> Document:
    with _organization(call) as org:
        _known_child(org, call.path["child"])
        del org.children[call.path["child"]]
    return {"data": {"type": "organization", "id": call.path["child"], "attributes": {}}}


# --------------------------------------------------------------------------- content strategies


def _strategy(org: Organization, strategy_id: str) -> Wire:
    return {
        "type": "contentStrategy",
        "id": strategy_id,
        "attributes": {**org.strategies[strategy_id], "organizationId": org.id},
    }


def _strategy_attributes(call: Call) -> Wire:
    """A full attribute set (create and the replacing PUT)."""
    _, attributes = _attributes(call, "contentStrategy")
    _no_others(
        attributes,
        ("name", "sort", "filters", "categories", "categoryExclusions", "merchantExclusions"),
        "a content strategy",
    )
    strategy: Wire = {"name": _text(attributes, "name", required=True)}
    sort = _choice(attributes, "sort", CONTENT_STRATEGY_SORTS)
    if sort is not None:
        strategy["sort"] = sort
    for name in ("categories", "categoryExclusions", "merchantExclusions"):
        allowed = None if name == "merchantExclusions" else CATEGORY_NAMES
        values = _strings(attributes, name, allowed=allowed)
        if values is None:
            raise _bad(f"{name} is required (an array, possibly empty)", name)
        strategy[name] = values
    filters = attributes.get("filters")
    if not isinstance(filters, dict):
        raise _bad("filters is required and must be an object", "filters")
    kept: Wire = {}
    for name in ("categories", "categoryExclusions", "merchantExclusions", "offerFeatures"):
        allowed = {"categories": CATEGORY_NAMES, "categoryExclusions": CATEGORY_NAMES}.get(
            name, OFFER_FEATURES if name == "offerFeatures" else None
        )
        values = _strings(filters, name, "filters", allowed=allowed)
        if values is not None:
            kept[name] = values
    strategy["filters"] = kept
    return strategy


def _known_strategy(org: Organization, strategy_id: str) -> None:
    if strategy_id not in org.strategies:
        raise ApiError(404, f"content strategy {strategy_id!r} does not exist")


def _name_taken(org: Organization, name: str, but: str | None = None) -> None:
    for strategy_id, strategy in org.strategies.items():
        if strategy_id != but and strategy["name"] == name:
            raise ApiError(409, f"a content strategy named {name!r} exists ({strategy_id})")


@route("GET", f"{_ORG}/contentStrategies")
def list_strategies(call: Call) -> Document:
    name = call.params.single("filter[name]")
    with _organization(call) as org:
        items = [
            _strategy(org, strategy_id)
            for strategy_id, strategy in org.strategies.items()
            if name is None or strategy["name"] == name
        ]
    return _listed(call, items, ("filter[name]",))


@route("POST", f"{_ORG}/contentStrategies", status=201)
def create_strategy(call: Call) -> Document:
    strategy = _strategy_attributes(call)
    with _organization(call) as org:
        _name_taken(org, strategy["name"])
        strategy_id = new_uuid7()
        org.strategies[strategy_id] = strategy
        return _strategy(org, strategy_id)


@route("GET", f"{_ORG}/contentStrategies/{{strategy}}")
def get_strategy(call: Call) -> Document:
    with _organization(call) as org:
        _known_strategy(org, call.path["strategy"])
        return _strategy(org, call.path["strategy"])


@route("PUT", f"{_ORG}/contentStrategies/{{strategy}}")
def replace_strategy(call: Call) -> Document:
    strategy = _strategy_attributes(call)
    strategy_id = call.path["strategy"]
    with _organization(call) as org:
        _known_strategy(org, strategy_id)
        _name_taken(org, strategy["name"], but=strategy_id)
        org.strategies[strategy_id] = strategy
        return _strategy(org, strategy_id)


@route("DELETE", f"{_ORG}/contentStrategies/{{strategy}}")
def delete_strategy(call: Call) -> Document:
    strategy_id = call.path["strategy"]
    with _organization(call) as org:
        _known_strategy(org, strategy_id)
        users = sorted(
            placement_id
            for placement_id, placement in org.placements.items()
            if placement["attributes"].get("contentStrategyId") == strategy_id
        )
        if users:
            raise ApiError(
                409,
                f"content strategy {strategy_id!r} is still linked to placement(s) "
                f"{', '.join(users)}: link them to another strategy or delete them first",
            )
        del org.strategies[strategy_id]
    return {"data": {"type": "contentStrategy", "id": strategy_id, "attributes": {}}}


# --------------------------------------------------------------------------- placements

_KIND_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "placement": ("name", "displayName", "availableSlots", "contentStrategyId"),
    "placementPushNotification": ("name", "status", "cadence", "contentStrategyId"),
    "placementEmail": ("name", "status", "availableSlots", "cadence", "contentStrategyId"),
    "placementBatchActivation": ("name", "refreshInterval", "slots"),
    "placementGroup": ("name", "slots"),
}
_SLOT_ATTRIBUTES = ("slotId", "placementId", "alias", "shortDescription")  # slotId: updates
_TIME_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
_DURATION = re.compile(
    r"P(?!$)(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?"
)


def _cadence(attributes: Wire) -> Wire:
    cadence = attributes.get("cadence")
    if not isinstance(cadence, dict):
        raise _bad("cadence is required and must be an object", "cadence")
    _no_others(
        cadence, ("frequency", "timeOfDay", "dayOfWeek", "dayOfMonth", "weekOfMonth"), "a cadence"
    )
    frequency = _choice(cadence, "frequency", CADENCE_FREQUENCIES, "cadence")
    if frequency is None:
        raise _bad("cadence.frequency is required", "cadence", "frequency")
    time_of_day = cadence.get("timeOfDay")
    if time_of_day is not None and (
        not isinstance(time_of_day, str) or not _TIME_OF_DAY.fullmatch(time_of_day)
    ):
        raise _bad("cadence.timeOfDay must be HH:mm (24-hour, UTC)", "cadence", "timeOfDay")
    _choice(cadence, "dayOfWeek", DAYS_OF_WEEK, "cadence")
    day = cadence.get("dayOfMonth")
    if day is not None and (type(day) is not int or not 1 <= day <= 31):
        raise _bad("cadence.dayOfMonth must be an integer from 1 to 31", "cadence", "dayOfMonth")
    week = _choice(cadence, "weekOfMonth", WEEKS_OF_MONTH, "cadence")
    if week is not None and (
        frequency != "MONTHLY" or cadence.get("dayOfWeek") is None or day is not None
    ):
        raise _bad(
            "cadence.weekOfMonth requires frequency MONTHLY and dayOfWeek, and cannot be "
            "combined with dayOfMonth",
            "cadence",
            "weekOfMonth",
        )
    return dict(cadence)


def _slots(org: Organization, attributes: Wire, old: list[Wire] | None) -> list[Wire]:
    """The slots of a create (``old`` None) or of a replacing update (``old``: the current
    ones: an echoed ``slotId`` keeps its slot unless its ``placementId`` changed)."""
    slots = attributes.get("slots")
    if not isinstance(slots, list):
        raise _bad("slots is required and must be an array", "slots")
    previous = {slot["id"]: slot for slot in old or ()}
    made: list[Wire] = []
    aliases: set[str] = set()
    for index, slot in enumerate(slots):
        if not isinstance(slot, dict):
            raise _bad("a slot must be an object", "slots", index)
        allowed = ("placementId", "alias", "shortDescription") + (
            ("slotId",) if old is not None else ()
        )
        _no_others(slot, allowed, "a slot")
        placement_id = _text(slot, "placementId")
        alias = _text(slot, "alias")
        if placement_id is None or alias is None:
            raise _bad("a slot needs placementId and alias", "slots", index)
        if placement_id not in org.placements:
            raise ApiError(404, f"placement {placement_id!r} (slot {index}) does not exist")
        if alias in aliases:
            raise _bad(f"slot alias {alias!r} is used twice", "slots", index, "alias")
        aliases.add(alias)
        description = slot.get("shortDescription")
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_SLOT_DESCRIPTION
        ):
            raise _bad(
                f"shortDescription must be a string of at most {MAX_SLOT_DESCRIPTION} characters",
                "slots",
                index,
                "shortDescription",
            )
        kept = previous.get(slot.get("slotId", ""))
        same = kept is not None and kept["placementId"] == placement_id
        entry: Wire = {
            "id": kept["id"] if same and kept is not None else new_uuid7(),
            "placementId": placement_id,
            "alias": alias,
        }
        if description is not None:
            entry["shortDescription"] = description
        made.append(entry)
    return made


def _placement_request(
    call: Call, org: Organization, current: Wire | None
) -> tuple[str, Wire, list[Wire] | None]:
    """``(type, attributes, slots)`` of a create (``current`` None) or a replacing update."""
    kind, attributes = _attributes(call, PLACEMENT_TYPES)
    if current is not None and kind != current["type"]:
        raise ApiError(400, f"a {current['type']} cannot become a {kind}", pointer="/data/type")
    # The server forces a push placement's availableSlots to 1: a value sent is ignored.
    if kind == "placementPushNotification":
        attributes = {k: v for k, v in attributes.items() if k != "availableSlots"}
    _no_others(attributes, _KIND_ATTRIBUTES[kind], kind)
    name = _text(attributes, "name", required=True)
    for placement_id, placement in org.placements.items():
        same = placement["type"] == kind and placement["attributes"]["name"] == name
        if same and (current is None or placement_id != call.path.get("placement")):
            raise _bad(f"a {kind} named {name!r} exists ({placement_id})", "name")
    stored: Wire = {"name": name}
    if "availableSlots" in _KIND_ATTRIBUTES[kind]:
        stored["availableSlots"] = _positive(attributes, "availableSlots")
    if "displayName" in attributes:
        stored["displayName"] = _text(attributes, "displayName", required=True)
    if "cadence" in _KIND_ATTRIBUTES[kind]:
        stored["cadence"] = _cadence(attributes)
    if "status" in _KIND_ATTRIBUTES[kind]:
        status = _choice(attributes, "status", PLACEMENT_STATUSES)
        kept = None if current is None else current["attributes"].get("status")
        stored["status"] = status or kept or "ACTIVE"
        stored["createdAt"] = (
            current["attributes"]["createdAt"]
            if current is not None
            else format_datetime(datetime.now(timezone.utc))
        )
    strategy_id = _text(attributes, "contentStrategyId")
    if strategy_id is not None:
        if strategy_id not in org.strategies:
            raise ApiError(404, f"content strategy {strategy_id!r} does not exist")
        stored["contentStrategyId"] = strategy_id
    if kind == "placementBatchActivation":
        interval = _text(attributes, "refreshInterval", required=True)
        if interval is None or not _DURATION.fullmatch(interval):
            raise _bad(
                "refreshInterval must be an ISO-8601 duration such as P7D", "refreshInterval"
            )
        stored["refreshInterval"] = interval
    slots = None
    if kind in _SLOTTED:
        slots = _slots(org, attributes, None if current is None else current.get("slots", []))
    return kind, stored, slots


def _placement(org: Organization, placement_id: str) -> Wire:
    placement = org.placements[placement_id]
    attributes = {**placement["attributes"], "organizationId": org.id}
    resource: Wire = {"type": placement["type"], "id": placement_id, "attributes": attributes}
    if placement["type"] in _SLOTTED:
        resource["relationships"] = {
            "slots": {
                "data": [{"type": "batchActivationSlot", "id": s["id"]} for s in placement["slots"]]
            }
        }
    elif "contentStrategyId" in attributes:
        resource["relationships"] = {
            "contentStrategy": {
                "data": {"type": "contentStrategy", "id": attributes["contentStrategyId"]}
            }
        }
    return resource


def _slot(org: Organization, slot: Wire) -> Wire:
    attributes = {"alias": slot["alias"]}
    if "shortDescription" in slot:
        attributes["shortDescription"] = slot["shortDescription"]
    target = slot["placementId"]
    return {
        "type": "batchActivationSlot",
        "id": slot["id"],
        "attributes": attributes,
        "relationships": {
            "placement": {
                "data": {"type": org.placements[target]["type"], "id": target}
                if target in org.placements
                else None
            }
        },
    }


def _includes(call: Call) -> set[str]:
    """The ``include`` paths asked for, each with the paths on its way."""
    paths: set[str] = set()
    for value in call.params.csv("include", ORG_PLACEMENT_INCLUDES):
        parts = value.split(".")
        paths.update(".".join(parts[: n + 1]) for n in range(len(parts)))
    return paths


def _included(org: Organization, placement_ids: list[str], paths: set[str]) -> list[Wire]:
    found: dict[tuple[str, str], Wire] = {}

    def add(resource: Wire) -> None:
        found.setdefault((resource["type"], resource["id"]), resource)

    def strategy_of(placement_id: str) -> None:
        strategy_id = org.placements[placement_id]["attributes"].get("contentStrategyId")
        if strategy_id in org.strategies:
            add(_strategy(org, strategy_id))

    for placement_id in placement_ids:
        placement = org.placements[placement_id]
        if placement["type"] not in _SLOTTED:
            if "contentStrategy" in paths:
                strategy_of(placement_id)
            continue
        for slot in placement["slots"] if "slots" in paths else ():
            add(_slot(org, slot))
            target = slot["placementId"]
            if "slots.placement" in paths and target in org.placements:
                add(_placement(org, target))
                if "slots.placement.contentStrategy" in paths:
                    strategy_of(target)
    return list(found.values())


def _known_placement(org: Organization, placement_id: str) -> Wire:
    placement = org.placements.get(placement_id)
    if placement is None:
        raise ApiError(404, f"placement {placement_id!r} does not exist")
    return placement


_PLACEMENT_FILTERS = ("filter[type]", "filter[name]", "filter[contentStrategyId]", "include")


@route("GET", f"{_ORG}/placements")
def list_placements(call: Call) -> Document:
    params = call.params
    kind = params.single("filter[type]")
    if kind is not None and kind not in PLACEMENT_TYPES:
        raise invalid_parameter(
            "filter[type]", f"filter[type] must be one of {', '.join(PLACEMENT_TYPES)}"
        )
    name = params.single("filter[name]")
    strategy_id = params.single("filter[contentStrategyId]")
    paths = _includes(call)

    def keep(placement: Wire) -> bool:
        attributes = placement["attributes"]
        return (
            (kind is None or placement["type"] == kind)
            and (name is None or attributes["name"] == name)
            and (strategy_id is None or attributes.get("contentStrategyId") == strategy_id)
        )

    with _organization(call) as org:
        ids = [placement_id for placement_id, p in org.placements.items() if keep(p)]
        document = _listed(call, [_placement(org, i) for i in ids], _PLACEMENT_FILTERS)
        shown = [resource["id"] for resource in document["data"]]
        included = _included(org, shown, paths)
    if included:
        document["included"] = included
    return document


@route("POST", f"{_ORG}/placements", status=201)
def create_placement(call: Call) -> Document:
    with _organization(call) as org:
        kind, attributes, slots = _placement_request(call, org, None)
        placement_id = new_uuid7()
        placement: Wire = {"type": kind, "attributes": attributes}
        if slots is not None:
            placement["slots"] = slots
        org.placements[placement_id] = placement
        return _placement(org, placement_id)


@route("GET", f"{_ORG}/placements/{{placement}}")
def get_placement(call: Call) -> Document:
    paths = _includes(call)
    with _organization(call) as org:
        _known_placement(org, call.path["placement"])
        document: Document = {"data": _placement(org, call.path["placement"])}
        included = _included(org, [call.path["placement"]], paths)
    if included:
        document["included"] = included
    return document


@route("PUT", f"{_ORG}/placements/{{placement}}")
def replace_placement(call: Call) -> Document:
    placement_id = call.path["placement"]
    with _organization(call) as org:
        current = _known_placement(org, placement_id)
        kind, attributes, slots = _placement_request(call, org, current)
        placement: Wire = {"type": kind, "attributes": attributes}
        if slots is not None:
            placement["slots"] = slots
        org.placements[placement_id] = placement
        return _placement(org, placement_id)


@route("DELETE", f"{_ORG}/placements/{{placement}}")
def delete_placement(call: Call) -> Document:
    placement_id = call.path["placement"]
    with _organization(call) as org:
        kind = _known_placement(org, placement_id)["type"]
        del org.placements[placement_id]  # slots filled by it now point at nothing (null)
    return {"data": {"type": kind, "id": placement_id, "attributes": {}}}
