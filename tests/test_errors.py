"""Error mapping: status classes, parsed JSON:API errors, request ids, raw bodies, hooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

import kard_async
from kard_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncKard,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidParameterError,
    KardError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseInfo,
    ResponseValidationError,
)
from kard_async.models import AttributionFilter, AttributionState, ErrorObject, OfferAttribution
from kard_async.testing import TEST_ORGANIZATION_ID, Fault, KardEmulator

USER = "user-1"


def test_all_errors_are_importable_from_the_package() -> None:
    for name in (
        "KardError",
        "InvalidParameterError",
        "APIError",
        "APIConnectionError",
        "APITimeoutError",
        "APIStatusError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "RequestTimeoutError",
        "ConflictError",
        "RateLimitError",
        "InternalServerError",
        "ResponseValidationError",
    ):
        cls = getattr(kard_async, name)
        assert name in kard_async.__all__
        assert issubclass(cls, KardError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(RateLimitError, APIStatusError)
    assert issubclass(InvalidParameterError, ValueError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, RequestTimeoutError),
        (409, ConflictError),
        (422, APIStatusError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
    ],
)
async def test_status_maps_to_error_class(
    make_kard: Callable[..., AsyncKard],
    kard_emulator: KardEmulator,
    status: int,
    cls: type[APIStatusError],
) -> None:
    seen: list[ResponseInfo] = []
    kard = make_kard(max_retries=0, on_response=seen.append)
    kard_emulator.inject(Fault(kind="status", status=status, path="/locations$", times=None))
    with pytest.raises(APIStatusError) as caught:
        await kard.users.rewards.locations(USER)
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.method == "GET"
    assert error.path == f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/{USER}/locations"
    assert error.errors == [
        ErrorObject(
            status=str(status), title=error.errors[0].title, detail=f"Injected fault: HTTP {status}"
        )
    ]
    assert isinstance(error.errors[0], ErrorObject)
    assert json.loads(error.body) == {
        "errors": [
            {
                "status": str(status),
                "title": error.errors[0].title,
                "detail": f"Injected fault: HTTP {status}",
            }
        ]
    }
    last = seen[-1]
    assert last.status == status
    assert error.request_id is not None
    assert error.request_id == last.request_id == last.headers["X-Request-Id"]
    assert error.headers["X-Request-Id"] == error.request_id
    assert f"HTTP {status}" in str(error)
    assert error.request_id in str(error)
    assert f"Injected fault: HTTP {status}" in str(error)


async def test_server_side_400_with_pointer(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    # msgspec does not type-check on construction, so this event passes the client's checks
    # and the server's own validation rejects it.
    event = OfferAttribution(
        entity_id="offer-1",
        event_code="VIEW",
        medium="BROWSE",
        event_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
        state=AttributionState(filters=(AttributionFilter(name="q", value=7),)),  # type: ignore[arg-type]
    )
    with pytest.raises(BadRequestError) as caught:
        await kard.users.attributions.create(USER, [event])
    error = caught.value
    assert error.status == 400
    (detail,) = error.errors
    assert detail.status == "400"
    assert detail.source is not None
    assert detail.source.pointer == "/data/0/attributes/state/filters/0/value"
    assert detail.detail is not None
    assert "must be a string" in detail.detail
    assert "/data/0/attributes/state/filters/0/value" in str(error)
    assert kard_emulator.attribution_events == []


async def test_server_side_400_with_parameter(kard: AsyncKard) -> None:
    with pytest.raises(BadRequestError) as caught:
        await kard.users.rewards.offers(USER, after="not-a-cursor")
    (detail,) = caught.value.errors
    assert detail.source is not None
    assert detail.source.parameter == "page[after]"
    assert "page[after]" in str(caught.value)


async def test_403_for_another_organization(kard: AsyncKard) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        await kard.users.rewards.locations(USER, organization_id="org-999")
    assert caught.value.status == 403
    assert caught.value.errors[0].detail is not None
    assert "org-999" in caught.value.errors[0].detail


async def test_404_and_400_from_placements(kard: AsyncKard) -> None:
    with pytest.raises(NotFoundError) as caught:
        await kard.users.rewards.placement_content(USER, "no-such-placement")
    assert caught.value.status == 404
    with pytest.raises(BadRequestError):
        await kard.users.rewards.placement_content(USER, "placement-email-1")
    with pytest.raises(BadRequestError):
        await kard.users.attributions.activate_placement_slot(USER, "placement-1", "slot-1")
    with pytest.raises(NotFoundError):
        await kard.users.attributions.boost(USER, "no-such-offer")


async def test_malformed_body_is_a_response_validation_error(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    kard_emulator.inject(Fault(kind="malformed", path="/locations$", times=1))
    with pytest.raises(ResponseValidationError) as caught:
        await kard.users.rewards.locations(USER)
    error = caught.value
    assert isinstance(error, APIError)
    assert error.status == 200
    assert error.body == b'{"data": ['
    assert error.body_excerpt == '{"data": ['
    assert "body starts with" in str(error)
    # not retried: the same bytes would come back
    assert len([r for r in kard_emulator.requests if r.path.endswith("/locations")]) == 1


async def test_body_of_wrong_shape_is_a_response_validation_error(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    # A body that is JSON but not a token response.
    kard_emulator.inject(Fault(kind="malformed", path="/auth/token", times=1))
    with pytest.raises(ResponseValidationError) as caught:
        await kard.users.rewards.offers(USER)
    assert caught.value.path == "/v2/auth/token"


async def test_on_response_hook_for_success(
    make_kard: Callable[..., AsyncKard], kard_emulator: KardEmulator
) -> None:
    seen: list[ResponseInfo] = []
    kard = make_kard(on_response=seen.append)
    await kard.users.rewards.offers(USER, page_size=1)
    info = seen[-1]
    assert isinstance(info, ResponseInfo)
    assert (info.method, info.status) == ("GET", 200)
    assert info.path == f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/{USER}/offers"
    assert info.request_id is not None
    assert info.request_id == info.headers["X-Request-Id"]
    assert info.elapsed >= 0
    assert "?" not in info.path
    # The hook sees every API response, errors included.
    kard_emulator.inject(Fault(kind="status", status=503, path="/offers$", times=1))
    await kard.users.rewards.offers(USER, page_size=1)
    assert [i.status for i in seen if i.path.endswith("/offers")] == [200, 503, 200]
