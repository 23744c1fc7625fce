"""Type-checked with ``mypy --strict`` by tests/test_sync_surface.py (never executed).

The blocking facade must expose plain return types: if a method returned a coroutine or an
async iterator, the annotated assignments below would not type-check.
"""

from __future__ import annotations

from collections.abc import Iterator

from kard_async import (
    APIStatusError,
    InvalidParameterError,
    Kard,
    KardError,
    Paginator,
    SyncInAsyncWarning,
)
from kard_async.bulk import BulkProgress, BulkReport
from kard_async.models import (
    Job,
    Location,
    LocationsPage,
    Offer,
    OfferActivation,
    OfferAttribution,
    OffersPage,
    PlacementContent,
    PlacementSlotActivation,
)


def locations(kard: Kard) -> list[str]:
    first: Paginator[Location, LocationsPage] = kard.users.rewards.locations(
        "user-1", latitude=39.94, longitude=-75.14
    )
    page: LocationsPage = first.page
    names: list[str] = [location.attributes.name for location in first.data]
    names += [location.attributes.name for location in page.data]
    for loc in kard.users.rewards.locations("user-1", latitude=39.94, longitude=-75.14):
        name: str = loc.attributes.name
        names.append(name)
    iterator: Iterator[Location] = iter(kard.users.rewards.locations("user-1", page_size=10))
    one: Location = next(iterator)
    names.append(one.attributes.name)
    following = first.next_page()
    if following is not None and following.has_next_page():
        names.extend(location.attributes.name for location in following.data)
    cursor: str | None = first.next_cursor
    del cursor
    return names


def offers(kard: Kard) -> int:
    page: OffersPage = kard.users.rewards.offers("user-1", search="coffee", page_size=5).page
    every: list[Offer] = list(kard.users.rewards.offers("user-1"))
    content: PlacementContent = kard.users.rewards.placement_content("user-1", "placement-1")
    del content
    return len(page.data) + len(every)


def attributions(kard: Kard, events: list[OfferAttribution]) -> str:
    job: Job = kard.users.attributions.create("user-1", events)
    activation: OfferActivation = kard.users.attributions.activate("user-1", "offer-1")
    boost: OfferActivation = kard.users.attributions.boost("user-1", "offer-1", include=["offer"])
    slot: PlacementSlotActivation = kard.users.attributions.activate_placement_slot(
        "user-1", "placement-1", "slot-1"
    )
    seen: list[BulkProgress] = []
    report: BulkReport = kard.users.attributions.bulk_create(
        [("user-1", event) for event in events], concurrency=4, on_progress=seen.append
    )
    del activation, boost, slot, report
    status: str = job.status
    return job.id + status


def lifecycle() -> None:
    with Kard("id", "secret", organization_id="org-123", max_retries=1) as kard:
        same: Kard = kard
        copy: Kard = kard.with_options(timeout=5.0, headers={"X-Test": "1"})
        base_url: str = copy.base_url
        organization: str | None = copy.organization_id
        del same, base_url, organization
    kard.close()
    kard.close()  # idempotent


def errors(kard: Kard) -> int | None:
    try:
        kard.users.rewards.offers("user-1")
    except InvalidParameterError as error:
        parameter: str = error.parameter
        del parameter
    except APIStatusError as error:
        status: int = error.status
        return status
    except KardError:
        return None
    warning: type[UserWarning] = SyncInAsyncWarning
    del warning
    return 0


def organizations(kard: Kard) -> list[str]:
    # Imported here, so that this block stays apart from the other areas' imports.
    from typing import Any

    from kard_async import NetworkBlockedError, RawResponse
    from kard_async.models import (
        Cadence,
        ChildOrganization,
        ChildOrganizationsPage,
        EmailPlacementSpec,
        Organization,
        Ping,
        Placement,
        PlacementDetail,
        PlacementsPage,
    )

    organization: Organization = kard.organizations.get()
    children: Paginator[ChildOrganization, ChildOrganizationsPage] = (
        kard.organizations.children.list(page_size=10)
    )
    placements: Paginator[Placement, PlacementsPage] = kard.organizations.placements.list()
    made: Placement = kard.organizations.placements.create(
        EmailPlacementSpec(name="Mail", available_slots=3, cadence=Cadence(frequency="WEEKLY"))
    )
    detail: PlacementDetail = kard.organizations.placements.get(made.id, include=["slots"])
    token: str = kard.auth.token()
    try:
        answer: Ping = kard.ping()
    except NetworkBlockedError as error:
        return [error.message]
    raw: RawResponse[Any] = kard.users.rewards.with_raw_response.offers("user-1")
    status: int = raw.status
    del detail, status
    return [organization.name, token, answer.status, *(c.name for c in children)] + [
        p.id for p in placements
    ]
