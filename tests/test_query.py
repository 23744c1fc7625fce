"""Every endpoint and documented query parameter reaches the wire byte for byte (§2, §3)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from kard_async import AsyncKard, NotFoundError
from kard_async._query import _quote, cursor_from_link, encode, path
from kard_async.testing import TEST_ORGANIZATION_ID, KardEmulator

USER = "user-1"
USER_PATH = f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/{USER}"


def last(emulator: KardEmulator) -> tuple[str, str, str]:
    request = emulator.requests[-1]
    return request.method, request.path, request.query_string


# --------------------------------------------------------------------------- unit level


def test_encode_spaces_as_percent_20_and_lists_as_csv() -> None:
    assert encode([("filter[category]", "Food & Beverage")]) == (
        "filter[category]=Food%20%26%20Beverage"
    )
    assert encode([("include", ["offers", "categories"])]) == "include=offers,categories"
    # a comma inside one item is encoded, so it cannot split the item
    assert encode([("filter[name]", "a,b"), ("x", None)]) == "filter[name]=a%2Cb"
    assert encode([("t", True), ("f", False), ("n", 3), ("r", 1.5)]) == "t=true&f=false&n=3&r=1.5"
    assert encode([]) == ""


def test_str_subclasses_are_sent_by_value_and_never_leak_through_the_caches() -> None:
    import enum

    class Mixed(str, enum.Enum):  # on Python 3.12+, format() of a member is "Mixed.CA"
        CA = "CA"
        SPACED = "San Jose"

    class Tagged(str):
        pass

    assert encode([("filter[state]", Mixed.CA)]) == "filter[state]=CA"
    assert encode([("filter[city]", Mixed.SPACED)]) == "filter[city]=San%20Jose"
    assert encode([("filter[state]", Tagged("NY")), ("sort", [Mixed.CA, "b"])]) == (
        "filter[state]=NY&sort=CA,b"
    )
    assert path("v2", "users", Mixed.CA) == "/v2/users/CA"
    # The quoting cache is keyed by equality: after the members, the equal plain strings
    # must still get plain strings back, not the members.
    assert type(_quote("CA")) is str
    assert type(_quote("NY")) is str
    assert encode([("filter[state]", "CA")]) == "filter[state]=CA"
    assert type(path("v2", "users", "CA")) is str


def test_path_segments_are_fully_encoded() -> None:
    assert path("v2", "users", "a/b?c#d") == "/v2/users/a%2Fb%3Fc%23d"
    assert path("v2", "users", "é %") == "/v2/users/%C3%A9%20%25"


def test_cursor_from_link() -> None:
    link = "/v2/x?page[after]=abc%3D&page[size]=2"
    assert cursor_from_link(link) == "abc="
    assert cursor_from_link(link, "page[before]") is None
    assert cursor_from_link(None) is None


# --------------------------------------------------------------------------- locations


async def test_locations_all_filters_on_the_wire(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.rewards.locations(
        USER,
        latitude=39.9419429,
        longitude=-75.1446869,
        radius=25,
        name="Worlds Greatest",
        city="Phila delphia",
        zip_code="19147",
        state="PA",
        category="Food & Beverage",
        sort=["-locationName", "locationName"],
        include=["offers", "categories"],
        supported_components=["cta", "baseReward"],
        page_size=5,
    )
    method, raw_path, query = last(kard_emulator)
    assert method == "GET"
    assert raw_path == f"{USER_PATH}/locations"
    assert query == (
        "filter[latitude]=39.9419429&filter[longitude]=-75.1446869&filter[radius]=25"
        "&filter[name]=Worlds%20Greatest&filter[city]=Phila%20delphia&filter[zipCode]=19147"
        "&filter[state]=PA&filter[category]=Food%20%26%20Beverage"
        "&sort=-locationName,locationName&include=offers,categories"
        "&supportedComponents=cta,baseReward&page[size]=5"
    )


async def test_locations_include_csv_and_single_sort(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    await kard.users.rewards.locations(USER, include=["offers", "categories"], sort="locationName")
    assert last(kard_emulator)[2] == "sort=locationName&include=offers,categories"
    await kard.users.rewards.locations(USER)
    assert last(kard_emulator)[2] == ""


async def test_location_paging_params(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    first = await kard.users.rewards.locations(USER, page_size=3)
    assert last(kard_emulator)[2] == "page[size]=3"
    after = first.next_cursor
    assert after is not None
    second = await kard.users.rewards.locations(USER, page_size=3, after=after)
    assert last(kard_emulator)[2] == f"page[size]=3&page[after]={after}"
    before = second.prev_cursor
    assert before is not None
    back = await kard.users.rewards.locations(USER, page_size=3, before=before)
    assert last(kard_emulator)[2] == f"page[size]=3&page[before]={before}"
    assert [loc.id for loc in back.data] == [loc.id for loc in first.data]


# --------------------------------------------------------------------------- offers


async def test_offers_all_filters_on_the_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await kard.users.rewards.offers(
        USER,
        search="pizza & more",
        purchase_channel=["INSTORE", "ONLINE"],
        category="Clothing, Shoes & Accessories",
        is_targeted=True,
        sort=["name", "-startDate"],
        include=["categories"],
        supported_components=["shortDescription", "progressBar"],
        page_size=2,
    )
    method, raw_path, query = last(kard_emulator)
    assert (method, raw_path) == ("GET", f"{USER_PATH}/offers")
    assert query == (
        "filter[search]=pizza%20%26%20more&filter[purchaseChannel]=INSTORE,ONLINE"
        "&filter[category]=Clothing%2C%20Shoes%20%26%20Accessories&filter[isTargeted]=true"
        "&sort=name,-startDate&include=categories"
        "&supportedComponents=shortDescription,progressBar&page[size]=2"
    )


@pytest.mark.parametrize(("value", "wire"), [(True, "true"), (False, "false")])
async def test_is_targeted_booleans(
    kard: AsyncKard, kard_emulator: KardEmulator, value: bool, wire: str
) -> None:
    page = await kard.users.rewards.offers(USER, is_targeted=value, page_size=100)
    assert last(kard_emulator)[2] == f"filter[isTargeted]={wire}&page[size]=100"
    assert page.data
    assert all(offer.attributes.is_targeted is value for offer in page.data)


async def test_single_purchase_channel_string(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    page = await kard.users.rewards.offers(USER, purchase_channel="ONLINE", page_size=100)
    assert last(kard_emulator)[2] == "filter[purchaseChannel]=ONLINE&page[size]=100"
    assert page.data
    assert all("ONLINE" in offer.attributes.purchase_channel for offer in page.data)


async def test_offer_paging_before(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    first = await kard.users.rewards.offers(USER, page_size=4)
    second = await kard.users.rewards.offers(USER, page_size=4, after=first.next_cursor)
    assert second.prev_cursor is not None
    await kard.users.rewards.offers(USER, page_size=4, before=second.prev_cursor)
    assert last(kard_emulator)[2] == f"page[size]=4&page[before]={second.prev_cursor}"


# --------------------------------------------------------------------------- placements, writes


async def test_placement_content_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await kard.users.rewards.placement_content(
        USER, "placement-1", include=["categories"], supported_components=["cta", "tags"]
    )
    method, raw_path, query = last(kard_emulator)
    assert (method, raw_path) == ("GET", f"{USER_PATH}/placements/placement-1/content")
    assert query == "include=categories&supportedComponents=cta,tags"


async def test_activate_and_boost_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    offer = (await kard.users.rewards.offers(USER, page_size=1)).data[0]
    await kard.users.attributions.activate(
        USER, offer.id, include=["offer"], supported_components=["logoFlare"]
    )
    request = kard_emulator.requests[-1]
    assert request.method == "POST"
    assert request.path == f"{USER_PATH}/offers/{offer.id}/activate"
    assert request.query_string == "include=offer&supportedComponents=logoFlare"
    assert request.body == b""
    await kard.users.attributions.boost(USER, offer.id)
    assert last(kard_emulator) == ("POST", f"{USER_PATH}/offers/{offer.id}/boost", "")


async def test_activate_placement_slot_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    await kard.users.attributions.activate_placement_slot(USER, "placement-batch-1", "slot-2")
    assert last(kard_emulator) == (
        "POST",
        f"{USER_PATH}/placements/placement-batch-1/slot/slot-2/activate",
        "",
    )


async def test_create_wire(kard: AsyncKard, kard_emulator: KardEmulator) -> None:
    event = {
        "type": "offerAttribution",
        "attributes": {
            "entityId": "offer-1",
            "eventCode": "VIEW",
            "medium": "SEARCH",
            "eventDate": "2025-01-01T00:00:00Z",
        },
    }
    await kard.users.attributions.create(USER, [event])
    request = kard_emulator.requests[-1]
    assert (request.method, request.path, request.query_string) == (
        "POST",
        f"{USER_PATH}/attributions",
        "",
    )
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == (
        b'{"data":[{"type":"offerAttribution","attributes":{"entityId":"offer-1",'
        b'"eventCode":"VIEW","medium":"SEARCH","eventDate":"2025-01-01T00:00:00Z"}}]}'
    )


# --------------------------------------------------------------------------- path encoding


async def test_user_id_with_reserved_characters_is_one_segment(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    user = "a/b?c#d"
    page = await kard.users.rewards.offers(user, page_size=1)
    _, raw_path, query = last(kard_emulator)
    assert raw_path == f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/a%2Fb%3Fc%23d/offers"
    assert query == "page[size]=1"
    # The URL's shape is unchanged: same number of segments as for a plain id.
    assert raw_path.count("/") == f"{USER_PATH}/offers".count("/")
    assert unquote(raw_path.split("/")[5]) == user
    # ...and the emulator served it, echoing the encoded user path in its links.
    assert page.data
    assert page.links.self_ is not None
    assert page.links.self_.startswith(f"/v2/issuers/{TEST_ORGANIZATION_ID}/users/a%2Fb%3Fc%23d/")

    event = {
        "type": "notificationAttribution",
        "entityId": "n-1",
        "eventCode": "IMPRESSION",
        "medium": "PUSH",
        "eventDate": "2025-01-01T00:00:00Z",
    }
    await kard.users.attributions.create(user, [event])
    assert [e.user_id for e in kard_emulator.attribution_events] == [user]


async def test_placement_and_slot_ids_are_encoded(
    kard: AsyncKard, kard_emulator: KardEmulator
) -> None:
    with pytest.raises(NotFoundError):
        await kard.users.rewards.placement_content(USER, "../p 1")
    assert last(kard_emulator)[1] == f"{USER_PATH}/placements/..%2Fp%201/content"
    with pytest.raises(NotFoundError):
        await kard.users.attributions.activate_placement_slot(USER, "placement-batch-1", "s/1")
    assert last(kard_emulator)[1] == f"{USER_PATH}/placements/placement-batch-1/slot/s%2F1/activate"
    with pytest.raises(NotFoundError):
        await kard.users.attributions.activate(USER, "o?x=1")
    assert last(kard_emulator)[1:] == (f"{USER_PATH}/offers/o%3Fx%3D1/activate", "")
