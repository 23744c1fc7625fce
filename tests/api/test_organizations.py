"""Organization management against the emulator (§9, §16): the organization, child
organizations, content strategies and placements of the five kinds."""

from __future__ import annotations

import collections.abc
import json
from typing import Any

import pytest

from kard_async import (
    AsyncKard,
    BadRequestError,
    ConflictError,
    InvalidParameterError,
    Kard,
    NotFoundError,
)
from kard_async.models import (
    BatchActivationPlacement,
    BatchActivationPlacementSpec,
    BatchActivationSlot,
    Cadence,
    ChildOrganization,
    ContentStrategy,
    EmailPlacement,
    EmailPlacementSpec,
    GroupPlacement,
    GroupPlacementSpec,
    Organization,
    PlacementsPage,
    PushNotificationPlacement,
    PushNotificationPlacementSpec,
    SlotSpec,
    StandardPlacement,
    StandardPlacementSpec,
    UnknownResource,
)
from kard_async.models._base import decoder_for
from kard_async.testing import (
    TEST_CLIENT_ID,
    TEST_CLIENT_SECRET,
    TEST_ORGANIZATION_ID,
    EmulatorServer,
    KardEmulator,
)

ORG = f"/v2/issuers/{TEST_ORGANIZATION_ID}"
TRAVEL = "01961e5a-b74c-7d42-8456-d3a1f2c90e71"  # seeded: linked to placement-email-1
DINING = "01961e5a-c1d2-7e33-9a4b-5c6d7e8f9a01"  # seeded: linked to placement-1


def sent(emulator: KardEmulator, method: str | None = None) -> list[Any]:
    """The API requests the emulator received (token requests left out)."""
    return [
        r
        for r in emulator.requests
        if r.path != "/v2/auth/token" and (method is None or r.method == method)
    ]


def body(request: Any) -> Any:
    return json.loads(request.body)


# --------------------------------------------------------------------------- organization


async def test_get_reads_the_organization_of_the_token(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    organization = await kard.organizations.get()
    assert isinstance(organization, Organization)
    assert organization.id == TEST_ORGANIZATION_ID
    assert organization.name == "KARDTESTISSUER"
    assert organization.attributes.enrolled_rewards == ["CARDLINKED", "AFFILIATE"]
    assert organization.attributes.card_networks == ["VISA", "MASTERCARD", "AMERICAN_EXPRESS"]
    assert organization.attributes.cardlinked_user_commission_split == 30.0
    (request,) = sent(kard_emulator)
    assert (request.method, request.path, request.query_string) == ("GET", "/v2/issuer", "")


async def test_get_follows_the_target_issuer(make_kard: Any) -> None:
    child = make_kard(target_issuer="10000001")
    organization = await child.organizations.get()
    assert (organization.id, organization.name) == ("10000001", "ACMECHILDBANK")
    assert organization.attributes.bins == ["411111"]
    with pytest.raises(NotFoundError, match="does not exist"):
        await make_kard(target_issuer="no-such-org").organizations.get()


# --------------------------------------------------------------------------- children


async def test_children_pages_and_iteration(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    page = await kard.organizations.children.list(page_size=1)
    assert [child.id for child in page.data] == ["10000001"]
    assert page.meta.page_size == 1
    assert page.meta.has_next_page is True
    assert page.has_next_page()
    second = await page.next_page()
    assert second is not None
    assert [child.id for child in second.data] == ["10000002"]
    assert second.meta.has_next_page is False
    assert await second.next_page() is None

    children = [child async for child in kard.organizations.children.list(page_size=1)]
    assert [(c.id, c.name) for c in children] == [
        ("10000001", "Acme Child Bank"),
        ("10000002", "Northwind Credit Union"),
    ]
    assert children[0].attributes.external_id == "acme-1"
    queries = [r.query_string for r in sent(kard_emulator)]
    assert queries[0] == "page[size]=1"
    assert queries[1] == "page[size]=1&page[after]=eyJvZmZzZXQiOjF9"
    assert not any("page[before]" in q for q in queries)


async def test_children_page_size_is_checked_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    for size in (0, 201, True, 1.5):
        with pytest.raises(InvalidParameterError, match=r"page_size.*from 1 to 200"):
            kard.organizations.children.list(page_size=size)  # type: ignore[arg-type]
    page = await kard.organizations.children.list(page_size=200)
    assert len(page.data) == 2
    assert not page.has_next_page()
    assert [r.query_string for r in sent(kard_emulator)] == ["page[size]=200"]


async def test_child_create_update_delete(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    children = kard.organizations.children
    child = await children.create("Riverside Savings")
    assert isinstance(child, ChildOrganization)
    assert len(child.id) == 8
    assert child.id.isdigit()
    assert child.attributes.bins == ["411111", "510510"]  # cloned from the parent
    request = sent(kard_emulator, "POST")[0]
    assert (request.path, body(request)) == (
        f"{ORG}/children",
        {"data": {"type": "organization", "attributes": {"name": "Riverside Savings"}}},
    )

    changed = await children.update(child.id, external_id="river-7")
    assert (changed.name, changed.attributes.external_id) == ("Riverside Savings", "river-7")
    patch = sent(kard_emulator, "PATCH")[0]
    assert body(patch) == {
        "data": {"type": "organization", "attributes": {"externalId": "river-7"}}
    }
    assert (await children.get(child.id)).attributes.external_id == "river-7"

    deleted = await children.delete(child.id)
    assert (deleted.type, deleted.id) == ("organization", child.id)
    with pytest.raises(NotFoundError, match=child.id):
        await children.get(child.id)
    with pytest.raises(NotFoundError):
        await children.update(child.id, name="Gone")
    with pytest.raises(NotFoundError):
        await children.delete(child.id)


async def test_child_create_with_bins_and_external_id(kard: AsyncKard) -> None:
    child = await kard.organizations.children.create(
        "Second Bank", external_id="second", bins=("400000", "12345678")
    )
    assert child.attributes.bins == ["400000", "12345678"]
    assert child.attributes.external_id == "second"


async def test_child_conflicts_are_409_and_not_retried(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(ConflictError, match="10000001 is named 'Acme Child Bank'") as caught:
        await kard.organizations.children.create("acme child bank")
    assert caught.value.status == 409
    assert caught.value.outcome_unknown is False
    with pytest.raises(ConflictError, match="acme-1"):
        await kard.organizations.children.create("Another Bank", external_id="acme-1")
    assert len(sent(kard_emulator, "POST")) == 2  # one each: a 409 is never resent


async def test_child_name_rules_come_from_the_server(kard: AsyncKard) -> None:
    with pytest.raises(BadRequestError, match=r"letters.*/data/attributes/name"):
        await kard.organizations.children.create("Acme & Sons")
    with pytest.raises(BadRequestError, match=r"BIN.*/data/attributes/bins/0"):
        await kard.organizations.children.create("Acme Sons", bins=["12"])


async def test_child_arguments_are_checked_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    children = kard.organizations.children
    with pytest.raises(InvalidParameterError, match="invalid name=''"):
        await children.create("")
    with pytest.raises(InvalidParameterError, match=r"bins.*list of BIN strings"):
        await children.create("Ok Bank", bins="411111")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="nothing to update"):
        await children.update("10000001")
    with pytest.raises(InvalidParameterError, match="child_id"):
        await children.get("")
    with pytest.raises(InvalidParameterError, match="external_id"):
        await children.update("10000001", external_id=" ")
    assert sent(kard_emulator) == []


async def test_child_id_is_percent_encoded(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    with pytest.raises(NotFoundError):
        await kard.organizations.children.get("a/b?c")
    assert sent(kard_emulator)[0].path == f"{ORG}/children/a%2Fb%3Fc"


# --------------------------------------------------------------------------- content strategies


async def test_content_strategies_list_and_filter(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    strategies = [s async for s in kard.organizations.content_strategies.list(page_size=1)]
    assert [(s.id, s.name) for s in strategies] == [
        (TRAVEL, "Featured Travel"),
        (DINING, "Everyday Dining"),
    ]
    travel = strategies[0].attributes
    assert (travel.sort, travel.categories, travel.category_exclusions) == (
        "HIGHEST_CASHBACK",
        ["Travel"],
        ["Gas"],
    )
    assert travel.filters.offer_features == ["INTERACTIVE"]
    assert travel.organization_id == TEST_ORGANIZATION_ID

    page = await kard.organizations.content_strategies.list(name="Everyday Dining")
    assert [s.id for s in page.data] == [DINING]
    assert sent(kard_emulator)[-1].query_string == "filter[name]=Everyday%20Dining"
    assert (await kard.organizations.content_strategies.list(name="everyday dining")).data == []


async def test_content_strategy_create_sends_every_list_twice(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    strategy = await kard.organizations.content_strategies.create(
        "Weekend Fun",
        categories=["Arts & Entertainment", "Travel"],
        category_exclusions=["Gas"],
        merchant_exclusions=["merchant-abc"],
        sort="NEWLY_LIVE",
        offer_features=["INTERACTIVE"],
    )
    assert isinstance(strategy, ContentStrategy)
    assert strategy.attributes.merchant_exclusions == ["merchant-abc"]
    assert strategy.attributes.filters.categories == ["Arts & Entertainment", "Travel"]
    assert body(sent(kard_emulator, "POST")[0]) == {
        "data": {
            "type": "contentStrategy",
            "attributes": {
                "name": "Weekend Fun",
                "filters": {
                    "categories": ["Arts & Entertainment", "Travel"],
                    "categoryExclusions": ["Gas"],
                    "merchantExclusions": ["merchant-abc"],
                    "offerFeatures": ["INTERACTIVE"],
                },
                "categories": ["Arts & Entertainment", "Travel"],
                "categoryExclusions": ["Gas"],
                "merchantExclusions": ["merchant-abc"],
                "sort": "NEWLY_LIVE",
            },
        }
    }
    assert (await kard.organizations.content_strategies.get(strategy.id)).name == "Weekend Fun"
    with pytest.raises(ConflictError, match="Weekend Fun"):
        await kard.organizations.content_strategies.create("Weekend Fun")


async def test_content_strategy_update_replaces_everything(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    updated = await kard.organizations.content_strategies.update(TRAVEL, "Travel Only")
    assert updated.attributes.sort is None
    assert updated.attributes.categories == []
    assert updated.attributes.category_exclusions == []
    assert updated.attributes.filters.offer_features is None
    again = await kard.organizations.content_strategies.get(TRAVEL)
    assert (again.name, again.attributes.sort, again.attributes.categories) == (
        "Travel Only",
        None,
        [],
    )
    (put,) = sent(kard_emulator, "PUT")
    assert put.path == f"{ORG}/contentStrategies/{TRAVEL}"
    with pytest.raises(ConflictError, match="Everyday Dining"):
        await kard.organizations.content_strategies.update(TRAVEL, "Everyday Dining")
    with pytest.raises(NotFoundError):
        await kard.organizations.content_strategies.update("missing", "Whatever")


async def test_deleting_a_strategy_in_use_is_a_clear_409(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    strategies = kard.organizations.content_strategies
    with pytest.raises(ConflictError) as caught:
        await strategies.delete(DINING)
    error = caught.value
    assert error.status == 409
    assert "still linked to placement(s) placement-1" in str(error)
    assert error.errors[0].detail is not None
    assert "placement-1" in error.errors[0].detail
    assert error.outcome_unknown is False
    assert len(sent(kard_emulator, "DELETE")) == 1  # never retried

    # Unlink it (a replacing update without content_strategy_id), then it goes.
    await kard.organizations.placements.update(
        "placement-1", StandardPlacementSpec(name="Home Feed", available_slots=12)
    )
    deleted = await strategies.delete(DINING)
    assert (deleted.type, deleted.id) == ("contentStrategy", DINING)
    with pytest.raises(NotFoundError):
        await strategies.get(DINING)


async def test_strategy_values_are_open_but_checked_by_the_server(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    strategies = kard.organizations.content_strategies
    # Values this version does not know are sent as they are; the emulator refuses them.
    with pytest.raises(BadRequestError, match="sort must be one of"):
        await strategies.create("X Strategy", sort="MOST_POPULAR")  # type: ignore[arg-type]
    with pytest.raises(BadRequestError, match=r"'Books' is not allowed"):
        await strategies.create("Y Strategy", categories=["Books"])  # type: ignore[list-item]
    assert len(sent(kard_emulator)) == 2
    for bad, match in (
        ({"categories": "Travel"}, "categories"),
        ({"merchant_exclusions": [""]}, "merchant_exclusions"),
        ({"sort": ""}, "sort"),
        ({"offer_features": "INTERACTIVE"}, "offer_features"),
    ):
        with pytest.raises(InvalidParameterError, match=match):
            await strategies.create("Z Strategy", **bad)
    with pytest.raises(InvalidParameterError, match="content_strategy_id"):
        await strategies.delete("")
    assert len(sent(kard_emulator)) == 2


# --------------------------------------------------------------------------- placements


async def test_placements_of_every_kind(kard: AsyncKard) -> None:
    page = await kard.organizations.placements.list()
    kinds = {type(p).__name__: p for p in page.data}
    assert set(kinds) == {
        "StandardPlacement",
        "EmailPlacement",
        "PushNotificationPlacement",
        "BatchActivationPlacement",
        "GroupPlacement",
    }
    standard = kinds["StandardPlacement"]
    assert isinstance(standard, StandardPlacement)
    assert standard.attributes.display_name == "Picked for you"
    assert standard.content_strategy_id == DINING
    email = kinds["EmailPlacement"]
    assert isinstance(email, EmailPlacement)
    assert email.attributes.status == "ACTIVE"
    assert email.attributes.cadence == Cadence(
        frequency="WEEKLY", time_of_day="10:00", day_of_week="MON"
    )
    assert email.attributes.created_at is not None
    push = kinds["PushNotificationPlacement"]
    assert isinstance(push, PushNotificationPlacement)
    assert push.attributes.status == "INACTIVE"
    assert push.attributes.cadence.week_of_month == "LAST"
    assert push.content_strategy_id is None
    batch = kinds["BatchActivationPlacement"]
    assert isinstance(batch, BatchActivationPlacement)
    assert batch.attributes.refresh_interval == "P7D"
    assert batch.slot_ids == ["slot-1", "slot-2", "slot-3"]
    group = kinds["GroupPlacement"]
    assert isinstance(group, GroupPlacement)
    assert group.slot_ids == ["group-slot-1", "group-slot-2"]
    assert page.meta.page_size == 200
    assert page.included == []


async def test_placement_filters_on_the_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    placements = kard.organizations.placements
    emails = await placements.list(type="placementEmail")
    assert [p.id for p in emails.data] == ["placement-email-1"]
    named = await placements.list(name="Weekly Picks")
    assert [p.id for p in named.data] == ["placement-batch-1"]
    linked = await placements.list(content_strategy_id=TRAVEL)
    assert [p.id for p in linked.data] == ["placement-email-1"]
    assert [r.query_string for r in sent(kard_emulator)] == [
        "filter[type]=placementEmail",
        "filter[name]=Weekly%20Picks",
        f"filter[contentStrategyId]={TRAVEL}",
    ]
    paged = [p.id async for p in placements.list(page_size=2, type="placement")]
    assert paged == ["placement-1"]


async def test_placement_include_paths(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    placements = kard.organizations.placements
    page = await placements.list(include=["contentStrategy"], type="placement")
    (standard,) = page.data
    strategy = page.content_strategy_of(standard)
    assert strategy is not None
    assert (strategy.id, strategy.name) == (DINING, "Everyday Dining")

    deep = await placements.list(include=["slots.placement.contentStrategy"], name="Weekly Picks")
    (batch,) = deep.data
    slots = deep.slots_of(batch)
    assert [(s.id, s.alias, s.placement_id) for s in slots] == [
        ("slot-1", "dining-deals", "placement-1"),
        ("slot-2", "fuel-savings", "placement-email-1"),
        ("slot-3", "getaways", "placement-1"),
    ]
    included = {(type(r).__name__, r.id) for r in deep.included}
    assert ("StandardPlacement", "placement-1") in included
    assert ("EmailPlacement", "placement-email-1") in included
    assert {("ContentStrategy", DINING), ("ContentStrategy", TRAVEL)} <= included
    assert sent(kard_emulator)[-1].query_string == (
        "filter[name]=Weekly%20Picks&include=slots.placement.contentStrategy"
    )

    detail = await placements.get("placement-group-1", include=["slots"])
    assert isinstance(detail.data, GroupPlacement)
    assert [s.alias for s in detail.slots()] == ["groceries", "pet-care"]
    assert all(isinstance(r, BatchActivationSlot) for r in detail.included)
    assert detail.content_strategy() is None
    bare = await placements.get("placement-email-1")
    assert bare.included == []
    with pytest.raises(NotFoundError):
        await placements.get("nope")
    with pytest.raises(BadRequestError, match="include value 'offers'"):
        await placements.get("placement-1", include=["offers"])  # type: ignore[list-item]


async def test_create_each_kind_with_the_30x_fields(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    placements = kard.organizations.placements
    standard = await placements.create(
        StandardPlacementSpec(
            name="Banner",
            available_slots=5,
            display_name="Deals near you",
            content_strategy_id=TRAVEL,
        )
    )
    assert isinstance(standard, StandardPlacement)
    assert standard.attributes.display_name == "Deals near you"
    assert standard.content_strategy_id == TRAVEL
    assert standard.relationships.content_strategy is not None

    monthly = Cadence(
        frequency="MONTHLY", time_of_day="08:30", day_of_week="TUE", week_of_month="FIRST"
    )
    email = await placements.create(
        EmailPlacementSpec(name="Monthly Mail", available_slots=4, cadence=monthly)
    )
    assert isinstance(email, EmailPlacement)
    assert email.attributes.cadence == monthly
    assert email.attributes.status == "ACTIVE"  # the default on create
    assert email.relationships.content_strategy is None

    push = await placements.create(
        PushNotificationPlacementSpec(
            name="Daily Push", cadence=Cadence(frequency="DAILY"), status="INACTIVE"
        )
    )
    assert isinstance(push, PushNotificationPlacement)
    assert push.attributes.status == "INACTIVE"

    slots = (
        SlotSpec(placement_id=standard.id, alias="banner", short_description="x" * 50),
        SlotSpec(placement_id="placement-email-1", alias="mail"),
    )
    batch = await placements.create(
        BatchActivationPlacementSpec(name="Cohort", refresh_interval="P14D", slots=slots)
    )
    assert isinstance(batch, BatchActivationPlacement)
    assert len(batch.slot_ids) == 2
    group = await placements.create(GroupPlacementSpec(name="Set", slots=slots[:1]))
    assert isinstance(group, GroupPlacement)
    assert len(group.slot_ids) == 1

    posted = [body(r)["data"] for r in sent(kard_emulator, "POST")]
    assert [p["type"] for p in posted] == [
        "placement",
        "placementEmail",
        "placementPushNotification",
        "placementBatchActivation",
        "placementGroup",
    ]
    assert posted[0]["attributes"] == {
        "name": "Banner",
        "availableSlots": 5,
        "displayName": "Deals near you",
        "contentStrategyId": TRAVEL,
    }
    assert posted[1]["attributes"]["cadence"] == {
        "frequency": "MONTHLY",
        "timeOfDay": "08:30",
        "dayOfWeek": "TUE",
        "weekOfMonth": "FIRST",
    }
    assert posted[3]["attributes"]["slots"][0] == {
        "placementId": standard.id,
        "alias": "banner",
        "shortDescription": "x" * 50,
    }
    listed = {p.id async for p in placements.list()}
    assert {standard.id, email.id, push.id, batch.id, group.id} <= listed


async def test_create_refers_to_what_exists(kard: AsyncKard) -> None:
    placements = kard.organizations.placements
    with pytest.raises(NotFoundError, match="content strategy 'missing'"):
        await placements.create(
            StandardPlacementSpec(name="A", available_slots=1, content_strategy_id="missing")
        )
    with pytest.raises(NotFoundError, match="placement 'missing'"):
        await placements.create(
            GroupPlacementSpec(name="G", slots=[SlotSpec(placement_id="missing", alias="a")])
        )
    with pytest.raises(BadRequestError, match="named 'Home Feed' exists"):
        await placements.create(StandardPlacementSpec(name="Home Feed", available_slots=1))
    # An unknown frequency passes the client (open enum); the emulator knows it is wrong.
    with pytest.raises(BadRequestError, match="frequency must be one of"):
        await placements.create(
            PushNotificationPlacementSpec(name="P", cadence=Cadence(frequency="HOURLY"))  # type: ignore[arg-type]
        )


async def test_update_is_a_full_replacement(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    placements = kard.organizations.placements
    # display_name and content_strategy_id left out: cleared and unlinked.
    standard = await placements.update(
        "placement-1", StandardPlacementSpec(name="Home Feed", available_slots=3)
    )
    assert isinstance(standard, StandardPlacement)
    assert standard.attributes.display_name is None
    assert standard.content_strategy_id is None
    assert standard.relationships.content_strategy is None
    (put,) = sent(kard_emulator, "PUT")
    assert body(put) == {
        "data": {"type": "placement", "attributes": {"name": "Home Feed", "availableSlots": 3}}
    }

    # status left out: kept as it was (INACTIVE).
    push = await placements.update(
        "placement-push-1",
        PushNotificationPlacementSpec(name="Nearby Push", cadence=Cadence(frequency="DAILY")),
    )
    assert isinstance(push, PushNotificationPlacement)
    assert push.attributes.status == "INACTIVE"
    assert push.attributes.cadence.week_of_month is None

    with pytest.raises(BadRequestError, match="cannot become"):
        await placements.update("placement-1", GroupPlacementSpec(name="Home Feed", slots=()))
    with pytest.raises(NotFoundError):
        await placements.update("missing", StandardPlacementSpec(name="X", available_slots=1))


async def test_update_keeps_only_the_slots_echoed(kard: AsyncKard) -> None:
    placements = kard.organizations.placements
    updated = await placements.update(
        "placement-batch-1",
        BatchActivationPlacementSpec(
            name="Weekly Picks",
            refresh_interval="P1M",
            slots=[
                SlotSpec(slot_id="slot-1", placement_id="placement-1", alias="dining-deals"),
                SlotSpec(slot_id="slot-2", placement_id="placement-1", alias="fuel-savings"),
                SlotSpec(placement_id="placement-push-1", alias="new-one"),
            ],
        ),
    )
    assert isinstance(updated, BatchActivationPlacement)
    assert updated.attributes.refresh_interval == "P1M"
    kept, moved, new = updated.slot_ids
    assert kept == "slot-1"  # echoed, same placement: kept
    assert moved not in ("slot-2", "slot-3")  # its placement changed: a new id
    assert new not in ("slot-1", "slot-2", "slot-3")
    detail = await placements.get("placement-batch-1", include=["slots"])
    assert [s.alias for s in detail.slots()] == ["dining-deals", "fuel-savings", "new-one"]
    assert detail.slots()[0].attributes.short_description is None  # not echoed: cleared


async def test_delete_placement(kard: AsyncKard) -> None:
    placements = kard.organizations.placements
    deleted = await placements.delete("placement-email-1")
    assert (deleted.type, deleted.id) == ("placementEmail", "placement-email-1")
    with pytest.raises(NotFoundError):
        await placements.get("placement-email-1")
    with pytest.raises(NotFoundError):
        await placements.delete("placement-email-1")
    # The slot it filled now points at nothing.
    detail = await placements.get("placement-batch-1", include=["slots"])
    assert [s.placement_id for s in detail.slots()] == ["placement-1", None, "placement-1"]
    # And its strategy is free to go.
    await kard.organizations.content_strategies.delete(TRAVEL)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: StandardPlacementSpec(name="", available_slots=1), "name"),
        (lambda: StandardPlacementSpec(name="A", available_slots=0), "available_slots"),
        (
            lambda: StandardPlacementSpec(name="A", available_slots=1, display_name=""),
            "display_name",
        ),
        (lambda: EmailPlacementSpec(name="A", available_slots=1, cadence="WEEKLY"), "cadence"),  # type: ignore[arg-type]
        (lambda: Cadence(frequency=""), "cadence.frequency"),
        (lambda: Cadence(frequency="DAILY", time_of_day="24:00"), "time_of_day"),
        (lambda: Cadence(frequency="DAILY", time_of_day="9:30"), "time_of_day"),
        (lambda: Cadence(frequency="MONTHLY", day_of_month=32), "day_of_month"),
        (lambda: Cadence(frequency="MONTHLY", week_of_month="FIRST"), "needs a day_of_week"),
        (
            lambda: Cadence(frequency="WEEKLY", day_of_week="MON", week_of_month="LAST"),
            "needs frequency='MONTHLY'",
        ),
        (
            lambda: Cadence(
                frequency="MONTHLY", day_of_week="MON", day_of_month=3, week_of_month="LAST"
            ),
            "cannot be combined with day_of_month",
        ),
        (lambda: SlotSpec(placement_id="", alias="a"), "placement_id"),
        (lambda: SlotSpec(placement_id="p", alias="a", short_description="x" * 51), "50"),
        (
            lambda: GroupPlacementSpec(name="G", slots=[SlotSpec(placement_id="p", alias="a")] * 2),
            r"slots\[1\].alias.*unique",
        ),
        (lambda: GroupPlacementSpec(name="G", slots=["p"]), r"slots\[0\]"),  # type: ignore[list-item]
        (
            lambda: BatchActivationPlacementSpec(name="B", refresh_interval="7 days", slots=()),
            "ISO-8601",
        ),
        (
            lambda: BatchActivationPlacementSpec(name="B", refresh_interval="P", slots=()),
            "ISO-8601",
        ),
    ],
)
def test_placement_specs_are_checked_when_built(
    build: collections.abc.Callable[[], object], match: str
) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        build()


def test_specs_accept_what_kard_may_add() -> None:
    cadence = Cadence(frequency="BIWEEKLY", day_of_week="MON", week_of_month="SECOND")  # type: ignore[arg-type]
    assert cadence.week_of_month == "SECOND"
    spec = EmailPlacementSpec(name="A", available_slots=1, cadence=cadence, status="PAUSED")  # type: ignore[arg-type]
    assert spec.status == "PAUSED"
    assert BatchActivationPlacementSpec(name="B", refresh_interval="P1DT12H", slots=[]).slots == ()


async def test_placement_calls_are_checked_before_sending(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    placements = kard.organizations.placements
    with pytest.raises(InvalidParameterError, match="must be a StandardPlacementSpec"):
        await placements.create({"type": "placement"})  # type: ignore[arg-type]
    with_id = GroupPlacementSpec(
        name="G", slots=[SlotSpec(placement_id="p", alias="a", slot_id="s")]
    )
    with pytest.raises(InvalidParameterError, match=r"slots\[0\].slot_id.*only update"):
        await placements.create(with_id)
    with pytest.raises(InvalidParameterError, match="page_size"):
        placements.list(page_size=500)
    with pytest.raises(InvalidParameterError, match="include"):
        placements.list(include=[""])  # type: ignore[list-item]
    with pytest.raises(InvalidParameterError, match="placement_id"):
        await placements.get(" ")
    assert sent(kard_emulator) == []


def test_a_placement_kind_this_version_does_not_know_is_kept_aside() -> None:
    document = {
        "data": [
            {
                "type": "placement",
                "id": "p1",
                "attributes": {"name": "A", "availableSlots": 2, "organizationId": "o"},
            },
            {"type": "placementCarousel", "id": "p2", "attributes": {"name": "New"}},
        ],
        "included": [{"type": "somethingNew", "id": "x", "attributes": {}}],
        "links": {"self": "/v2/issuers/o/placements"},
        "meta": {"pageSize": 200, "hasNextPage": False},
    }
    page = decoder_for(PlacementsPage).decode(json.dumps(document).encode())
    assert [p.id for p in page.data] == ["p1"]
    assert [(u.type, u.id, u.attributes) for u in page.unknown] == [
        ("placementCarousel", "p2", {"name": "New"})
    ]
    assert [type(r) for r in page.included] == [UnknownResource]


def test_the_blocking_client_manages_placements(kard_server: EmulatorServer) -> None:
    with Kard(
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        organization_id=TEST_ORGANIZATION_ID,
        base_url=kard_server.base_url,
    ) as kard:
        assert kard.organizations.get().id == TEST_ORGANIZATION_ID
        first = kard.organizations.children.list(page_size=1)
        assert [c.id for c in first.data] == ["10000001"]
        assert [c.id for c in first] == ["10000001", "10000002"]  # every page
        made = kard.organizations.placements.create(
            StandardPlacementSpec(name="Sync Banner", available_slots=2)
        )
        assert isinstance(made, StandardPlacement)
        detail = kard.organizations.placements.get(made.id)
        assert detail.data.id == made.id
        strategy = kard.organizations.content_strategies.create("Sync Strategy")
        assert kard.organizations.content_strategies.delete(strategy.id).id == strategy.id
