"""Deterministic seed data: categories, offers, locations and placements.

Everything is derived from fixed tables and string-seeded ``random.Random``
instances, so the data is identical on every run and every machine, except offer dates:
they are relative to the day (UTC) the emulator starts, so every seeded offer is live.
Resources are stored in their wire shape (plain dicts); treat them as read-only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ._constants import CATEGORY_NAMES

SEED_OFFER_ID = "5e27318c9b346f00087fbb5c"
SEED_LOCATION_ID = "5e27318c9b346f00087fba8l"
FOOD_CATEGORY_ID = "65920081b524d126068de24a"


def _hex_id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:24]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --------------------------------------------------------------------------- categories

CATEGORY_IDS: dict[str, str] = {
    name: FOOD_CATEGORY_ID if name == "Food & Beverage" else "6592" + _hex_id("category", name)[4:]
    for name in CATEGORY_NAMES
}
CATEGORY_RESOURCES: dict[str, dict[str, Any]] = {
    name: {"type": "category", "id": CATEGORY_IDS[name], "attributes": {"name": name}}
    for name in CATEGORY_NAMES
}

# --------------------------------------------------------------------------- offers


@dataclass(frozen=True)
class SeedOffer:
    id: str
    name: str
    category: str
    channels: tuple[str, ...]
    is_targeted: bool
    start_date: str
    expiration_date: str
    reward_type: str
    reward_value: float
    max_redemptions: int | None
    resource: dict[str, Any]


# (name, category, channels, reward type, reward value, targeted, pitch)
# fmt: off
_BRANDS: tuple[tuple[str, str, str, str, float, bool, str], ...] = (
    ("Marquee Cinemas", "Arts & Entertainment", "I", "PERCENT", 6, False,
     "first-run movies, reclining seats and a full-service concession stand"),
    ("Strike Zone Bowling", "Arts & Entertainment", "I", "FLAT", 500, True,
     "glow-in-the-dark lanes, arcade games and late-night pizza specials"),
    ("StageDoor Tickets", "Arts & Entertainment", "O", "PERCENT", 4, False,
     "verified tickets to concerts, theater and live sports across the country"),
    ("Gallery Row Museum Shop", "Arts & Entertainment", "IO", "PERCENT", 8, False,
     "prints, books and design objects curated by local museum staff"),
    ("Little Sprouts Outfitters", "Baby, Kids & Toys", "IO", "PERCENT", 7, False,
     "organic cotton baby clothes, strollers and nursery essentials"),
    ("Toybox Junction", "Baby, Kids & Toys", "I", "PERCENT", 5, True,
     "building sets, board games and wooden toys for every age"),
    ("Bright Blocks Online", "Baby, Kids & Toys", "O", "FLAT", 1000, False,
     "STEM kits and learning toys shipped to your door"),
    ("Dog-Eared Books", "Books & Digital Media", "I", "PERCENT", 10, False,
     "new and used books, author readings and a cozy reading nook"),
    ("PageTurner Digital", "Books & Digital Media", "O", "PERCENT", 12, True,
     "e-books and audiobooks that sync across all of your devices"),
    ("Vinyl Vault Records", "Books & Digital Media", "IO", "PERCENT", 6, False,
     "new releases and rare pressings on vinyl, cassette and CD"),
    ("Threadline Apparel", "Clothing, Shoes & Accessories", "IO", "PERCENT", 5, False,
     "everyday basics, denim and outerwear in sizes XS to 4XL"),
    ("Stride Shoe Co.", "Clothing, Shoes & Accessories", "I", "FLAT", 1500, True,
     "running shoes fitted by experts with a free gait analysis"),
    ("Northbound Denim", "Clothing, Shoes & Accessories", "O", "PERCENT", 9, False,
     "selvedge denim cut and sewn in small batches"),
    ("Loom & Lace", "Clothing, Shoes & Accessories", "IO", "PERCENT", 6.5, False,
     "dresses, knitwear and accessories for work and weekends"),
    ("Circuit Depot", "Computers, Electronics & Software", "IO", "PERCENT", 3, False,
     "laptops, TVs, smart-home gear and same-day installation"),
    ("ByteCraft Software", "Computers, Electronics & Software", "O", "PERCENT", 15, True,
     "productivity and security software with lifetime licenses"),
    ("Pixel Repair Bar", "Computers, Electronics & Software", "I", "FLAT", 1000, False,
     "same-day phone, tablet and laptop repairs with a 90-day warranty"),
    ("QuickStop Market", "Convenience", "I", "PERCENT", 3, False,
     "snacks, cold drinks and everyday essentials open early and late"),
    ("Corner Pantry", "Convenience", "I", "PERCENT", 4, True,
     "fresh sandwiches, coffee and groceries on the go"),
    ("NightOwl Mart", "Convenience", "IO", "PERCENT", 2.5, False,
     "24-hour convenience stores with delivery in under 30 minutes"),
    ("Blue Mile Fuel", "Gas", "I", "FLAT", 25, False,
     "top-tier gasoline, diesel and EV fast chargers"),
    ("Summit Petroleum", "Gas", "I", "PERCENT", 2, True,
     "fuel, car wash and a stocked travel shop at every station"),
    ("Roadrunner Gas & Go", "Gas", "I", "FLAT", 50, False,
     "discount fuel with a fresh kitchen inside"),
    ("Hargrove & Finch", "Department Stores", "IO", "PERCENT", 4, False,
     "designer apparel, beauty counters and home collections"),
    ("Metro Mercantile", "Department Stores", "IO", "PERCENT", 3.5, True,
     "everything from kitchenware to kids' clothes under one roof"),
    ("Oakridge Department Store", "Department Stores", "I", "PERCENT", 5, False,
     "classic department store with a famous holiday window display"),
    ("Worlds Greatest Chicken", "Food & Beverage", "I", "PERCENT", 5.7, True,
     "the tastiest crispy, double fried spicy chicken in the world"),
    ("Breakfast Bunny", "Food & Beverage", "I", "PERCENT", 8, False,
     "all-day breakfast, fluffy pancakes and bottomless coffee"),
    ("Golden Crust Pizza", "Food & Beverage", "IO", "PERCENT", 10, False,
     "hand-tossed pizza baked in a stone oven, delivered hot"),
    ("Bean & Barrel Coffee", "Food & Beverage", "I", "FLAT", 100, True,
     "single-origin espresso, cold brew on tap and fresh pastries"),
    ("Taqueria Sol", "Food & Beverage", "I", "PERCENT", 7.5, False,
     "street tacos, burritos and agua fresca made from scratch daily"),
    ("Green Fork Salads", "Food & Beverage", "IO", "PERCENT", 6, False,
     "chopped salads and grain bowls built with local produce"),
    ("Noodle Theory", "Food & Beverage", "I", "PERCENT", 9, True,
     "hand-pulled noodles, rich broths and dumplings"),
    ("Harbor Burger", "Food & Beverage", "I", "FLAT", 300, False,
     "smash burgers, crinkle fries and thick milkshakes"),
    ("Glow Apothecary", "Health & Beauty", "IO", "PERCENT", 8, False,
     "clean skincare, fragrance and wellness from independent brands"),
    ("Fresh Face Skincare", "Health & Beauty", "O", "PERCENT", 20, True,
     "dermatologist-developed skincare routines delivered monthly"),
    ("Mainline Pharmacy", "Health & Beauty", "I", "PERCENT", 3, False,
     "prescriptions, vitamins and health essentials with friendly pharmacists"),
    ("Hearth & Hammer Hardware", "Home & Garden", "I", "PERCENT", 4, False,
     "tools, paint and advice for every weekend project"),
    ("Fernwood Garden Center", "Home & Garden", "I", "PERCENT", 6, True,
     "plants, planters and landscaping supplies grown locally"),
    ("Nest Home Goods", "Home & Garden", "IO", "PERCENT", 5, False,
     "bedding, kitchenware and decor to make a house a home"),
    ("Everything Emporium", "Miscellaneous", "IO", "PERCENT", 3, False,
     "a little bit of everything at prices that make you smile"),
    ("Lucky Lane Thrift", "Miscellaneous", "I", "FLAT", 200, False,
     "gently used clothing, furniture and collectibles"),
    ("Parcel Pals Shipping", "Miscellaneous", "I", "PERCENT", 5, True,
     "packing, shipping and mailbox services for home and business"),
    ("Petal Post Florist", "Occasions & Gifts", "IO", "PERCENT", 12, False,
     "seasonal bouquets and same-day flower delivery"),
    ("Confetti Party Supply", "Occasions & Gifts", "I", "PERCENT", 7, False,
     "balloons, decorations and tableware for every celebration"),
    ("Keepsake Engraving", "Occasions & Gifts", "O", "FLAT", 800, True,
     "personalized jewelry, cutting boards and gifts engraved to order"),
    ("Wag & Whisker", "Pets", "I", "PERCENT", 6, False,
     "grooming, daycare and premium pet food"),
    ("Fetch Pet Supply", "Pets", "IO", "PERCENT", 5, True,
     "food, toys and supplies for dogs, cats and small animals"),
    ("Kibble Club", "Pets", "O", "FLAT", 1200, False,
     "fresh pet food subscriptions portioned for your pet"),
    ("Trailhead Outfitters", "Sports & Outdoors", "IO", "PERCENT", 7, False,
     "camping, climbing and hiking gear with expert staff"),
    ("Iron Temple Fitness", "Sports & Outdoors", "I", "FLAT", 2000, True,
     "24-hour gyms, group classes and personal training"),
    ("Fairway Golf Supply", "Sports & Outdoors", "IO", "PERCENT", 5, False,
     "clubs, balls and custom fittings on an indoor simulator"),
    ("PressRight Dry Cleaners", "Supplies & Services", "I", "PERCENT", 10, False,
     "same-day dry cleaning, alterations and laundry service"),
    ("InkWell Print & Copy", "Supplies & Services", "I", "PERCENT", 8, False,
     "printing, copying, signage and shipping supplies"),
    ("SparkClean Car Wash", "Supplies & Services", "I", "FLAT", 300, True,
     "touchless car wash, detailing and unlimited wash memberships"),
    ("Skyline Hotels", "Travel", "IO", "PERCENT", 6, False,
     "downtown hotels with rooftop bars and free breakfast"),
    ("Open Road Car Rental", "Travel", "IO", "PERCENT", 5, True,
     "car and SUV rentals with free cancellation"),
    ("Jetway Travel Deals", "Travel", "O", "PERCENT", 4, False,
     "flights, hotels and vacation packages at member prices"),
)
# fmt: on

_SEED_OFFER_ASSETS = (
    {
        "url": "http://attribution.getkard.com/logos/breakfastbunny_logo.png?subtype=IMG_VIEW"
        "&offerId=629fc220b7a4290009a188ec&token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyZWZlcnJp"
        "bmdQYXJ0bmVyVXNlcklkIjoiNDM4MTAzIiwiaXNzdWVySWQiOiIwMDAwNDMyMSIsInR5cGUiOiJPRkZFUiIsInBh"
        "eWxvYWQiOnsiand0VGltZXN0YW1wIjoiMjAyNi0wNC0yMyJ9fQ.4f9QmoGpgXVIXu9Tq8XFVcx7Rz0jptsYNYpmaI"
        "Bszyc&state=eyJyYW5rIjoxLCJmaWx0ZXJzIjpbXX0%3D",
        "alt": "",
        "type": "IMG_VIEW",
    },
    {
        "url": "https://attribution.getkard.com/public/banners/breakfast-bunny-banner.jpg"
        "?subtype=BANNER_VIEW&offerId=629fc220b7a4290009a188ec&token=eyJhbGciOiJIUzI1NiIsInR5cCI6"
        "IkpXVCJ9.eyJyZWZlcnJpbmdQYXJ0bmVyVXNlcklkIjoiNDM4MTAzIiwiaXNzdWVySWQiOiIwMDAwNDMyMSIsInR5"
        "cGUiOiJPRkZFUiIsInBheWxvYWQiOnsiand0VGltZXN0YW1wIjoiMjAyNi0wNC0yMyJ9fQ.4f9QmoGpgXVIXu9Tq8"
        "XFVcx7Rz0jptsYNYpmaIBszyc&state=eyJyYW5rIjoxLCJmaWx0ZXJzIjpbXX0%3D",
        "alt": "",
        "type": "BANNER_VIEW",
    },
)


_TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _day(days_from_today: int, clock: str) -> str:
    return f"{(_TODAY + timedelta(days=days_from_today)):%Y-%m-%d}T{clock}Z"


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _asset_url(kind: str, offer_id: str, name: str, rank: int) -> str:
    header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    claims = {
        "referringPartnerUserId": str(100000 + int(offer_id[:5], 16) % 900000),
        "issuerId": "00004321",
        "type": "OFFER",
        "payload": {"jwtTimestamp": "2026-04-23", "offerId": offer_id, "subtype": kind},
    }
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64url(hashlib.sha256(f"{header}.{payload}".encode()).digest())
    state_json = json.dumps({"rank": rank, "filters": []}, separators=(",", ":")).encode()
    state = base64.b64encode(state_json).decode().replace("=", "%3D")
    slug = _slug(name)
    if kind == "IMG_VIEW":
        base = f"https://attribution.getkard.com/logos/{slug}_logo.png"
    else:
        base = f"https://attribution.getkard.com/public/banners/{slug}-banner.jpg"
    return (
        f"{base}?subtype={kind}&offerId={offer_id}&token={header}.{payload}.{signature}"
        f"&state={state}"
    )


def _build_offers() -> tuple[SeedOffer, ...]:
    offers = []
    for index, (name, category, chan, rtype, rvalue, targeted, pitch) in enumerate(_BRANDS):
        rng = random.Random(f"offer:{name}")
        offer_id = SEED_OFFER_ID if name == "Worlds Greatest Chicken" else _hex_id("offer", name)
        channels = tuple(c for c, flag in (("INSTORE", "I"), ("ONLINE", "O")) if flag in chan)
        # Started 1 to 360 days ago, expiring in 30 to 729 days: distinct dates to sort by.
        start = _day(-(1 + index * 37 % 360), "05:00:00")
        expiration = _day(30 + index * 53 % 700, "04:59:59")
        max_redemptions = (1 + index % 5) if index % 3 == 0 else None
        reward = (
            f"{rvalue:g}% cash back" if rtype == "PERCENT" else f"${rvalue / 100:.2f} cash back"
        )
        where = {
            ("INSTORE",): "in store",
            ("ONLINE",): "online",
            ("INSTORE", "ONLINE"): "in store or online",
        }[channels]
        attributes: dict[str, Any] = {
            "name": name,
            "terms": (
                f"{name} offers are only available within US locations. Earn {reward} on "
                f"qualifying purchases made {where} with your linked card. Rewards are issued "
                "after the transaction settles, typically within 30 days. Excludes gift cards, "
                "taxes, tips, shipping fees and returned items."
            ),
            "purchaseChannel": list(channels),
            "userReward": {"type": rtype, "value": rvalue},
            "startDate": start,
            "expirationDate": expiration,
            "isTargeted": targeted,
            "assets": [
                {
                    "url": _asset_url("IMG_VIEW", offer_id, name, 1 + index % 9),
                    "alt": f"{name} logo",
                    "type": "IMG_VIEW",
                },
                {
                    "url": _asset_url("BANNER_VIEW", offer_id, name, 1 + index % 9),
                    "alt": f"{name} banner",
                    "type": "BANNER_VIEW",
                },
            ],
            "websiteUrl": f"https://www.{_slug(name)}.example.com",
            "description": (
                f"{name} brings you {pitch}. Pay with your linked card {where} to earn {reward}; "
                f"the offer is valid at participating {name} locations and on "
                f"{_slug(name)}.example.com."
            ),
        }
        if index % 2 == 0:
            low = rng.choice((500, 1000, 1500))
            attributes["minTransactionAmount"] = {"type": "CENTS", "value": low}
            attributes["maxTransactionAmount"] = {"type": "CENTS", "value": low * 20}
            attributes["minRewardAmount"] = {"type": "CENTS", "value": 100}
            attributes["maxRewardAmount"] = {"type": "CENTS", "value": rng.choice((2000, 5000))}
        if max_redemptions is not None:
            attributes["maxRedemptions"] = max_redemptions
        if offer_id == SEED_OFFER_ID:
            # The example from the public "Get Locations By User" page, with live dates
            # instead of its 2022 ones (an expired offer would not be listed).
            attributes = {
                "name": name,
                "terms": "Worlds Greatest Chicken offers are only available within US Locations.",
                "purchaseChannel": ["INSTORE"],
                "userReward": {"type": "PERCENT", "value": 5.7},
                "startDate": start,
                "expirationDate": expiration,
                "minRewardAmount": {"type": "CENTS", "value": 500},
                "maxRewardAmount": {"type": "CENTS", "value": 2000},
                "minTransactionAmount": {"type": "CENTS", "value": 500},
                "maxTransactionAmount": {"type": "CENTS", "value": 2000},
                "maxRedemptions": 1,
                "isTargeted": True,
                "assets": [dict(asset) for asset in _SEED_OFFER_ASSETS],
                "websiteUrl": "http://worldsgreatestchickent.test.com",
                "description": "Worlds Greatest Chicken brings you the tastiest crispy, double "
                "fried spicy chicken in the world.",
            }
            max_redemptions = 1
        resource = {
            "type": "standardOffer",
            "id": offer_id,
            "attributes": attributes,
            "relationships": {
                "category": {"data": [{"type": "category", "id": CATEGORY_IDS[category]}]}
            },
        }
        offers.append(
            SeedOffer(
                id=offer_id,
                name=name,
                category=category,
                channels=channels,
                is_targeted=targeted,
                start_date=start,
                expiration_date=expiration,
                reward_type=rtype,
                reward_value=rvalue,
                max_redemptions=max_redemptions,
                resource=resource,
            )
        )
    offers.sort(key=lambda offer: offer.id)
    return tuple(offers)


OFFERS: tuple[SeedOffer, ...] = _build_offers()
OFFERS_BY_ID: dict[str, SeedOffer] = {offer.id: offer for offer in OFFERS}

# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class SeedLocation:
    id: str
    name: str
    city: str
    state: str
    zip_code: str
    category: str
    latitude: float
    longitude: float
    offer_ids: tuple[str, ...]
    resource: dict[str, Any]


# metro -> (how many locations, street names, [(city, state, zip, lat, lon, area code)])
# fmt: off
_METROS: dict[
    str, tuple[int, tuple[str, ...], tuple[tuple[str, str, str, float, float, str], ...]]
] = {
    "philadelphia": (130, (
        "Market St", "Chestnut St", "Walnut St", "Spruce St", "South St", "N Broad St",
        "Girard Ave", "E Passyunk Ave", "Germantown Ave", "Arch St", "Race St",
        "Spring Garden St", "Baltimore Ave", "Frankford Ave", "Main St",
    ), (
        ("Philadelphia", "PA", "19103", 39.951, -75.17, "215"),
        ("Philadelphia", "PA", "19106", 39.9509, -75.1445, "215"),
        ("Philadelphia", "PA", "19147", 39.938, -75.151, "267"),
        ("Philadelphia", "PA", "19125", 39.9713, -75.134, "215"),
        ("Philadelphia", "PA", "19104", 39.9522, -75.1932, "215"),
        ("Philadelphia", "PA", "19148", 39.92, -75.17, "267"),
        ("Philadelphia", "PA", "19127", 40.0262, -75.2241, "215"),
        ("Philadelphia", "PA", "19123", 39.964, -75.142, "215"),
        ("Camden", "NJ", "08102", 39.9448, -75.1199, "856"),
        ("Cherry Hill", "NJ", "08002", 39.9348, -75.0307, "856"),
        ("Upper Darby", "PA", "19082", 39.959, -75.268, "610"),
        ("Bala Cynwyd", "PA", "19004", 40.0076, -75.234, "610"),
    )),
    "new-york": (28, (
        "Broadway", "W 34th St", "Lexington Ave", "Bedford Ave", "7th Ave", "Delancey St",
        "Amsterdam Ave", "Steinway St", "Washington St", "Atlantic Ave",
    ), (
        ("New York", "NY", "10018", 40.7549, -73.984, "212"),
        ("New York", "NY", "10002", 40.715, -73.9843, "212"),
        ("New York", "NY", "10024", 40.787, -73.9754, "646"),
        ("Brooklyn", "NY", "11211", 40.7081, -73.9571, "718"),
        ("Brooklyn", "NY", "11215", 40.671, -73.9814, "718"),
        ("Astoria", "NY", "11102", 40.7644, -73.9235, "718"),
        ("Hoboken", "NJ", "07030", 40.744, -74.0324, "201"),
    )),
    "chicago": (26, (
        "N Michigan Ave", "W Madison St", "N Clark St", "N Milwaukee Ave", "E 53rd St",
        "W Lake St", "Chicago Ave", "N Halsted St", "Sherman Ave",
    ), (
        ("Chicago", "IL", "60601", 41.8858, -87.6229, "312"),
        ("Chicago", "IL", "60614", 41.9214, -87.6513, "773"),
        ("Chicago", "IL", "60622", 41.9088, -87.6796, "773"),
        ("Chicago", "IL", "60615", 41.7943, -87.5907, "773"),
        ("Evanston", "IL", "60201", 42.0451, -87.6877, "847"),
        ("Oak Park", "IL", "60302", 41.885, -87.7845, "708"),
    )),
    "los-angeles": (26, (
        "S Broadway", "Santa Monica Blvd", "Sunset Blvd", "Hollywood Blvd", "Colorado Blvd",
        "Wilshire Blvd", "Pine Ave", "W 3rd St", "Lake Ave",
    ), (
        ("Los Angeles", "CA", "90013", 34.0447, -118.245, "213"),
        ("Santa Monica", "CA", "90401", 34.0195, -118.4912, "310"),
        ("Los Angeles", "CA", "90028", 34.0928, -118.3287, "323"),
        ("Pasadena", "CA", "91101", 34.1478, -118.1445, "626"),
        ("Los Angeles", "CA", "90026", 34.0869, -118.2702, "323"),
        ("Long Beach", "CA", "90802", 33.7701, -118.1937, "562"),
    )),
    "san-francisco": (24, (
        "Valencia St", "Mission St", "Chestnut St", "Folsom St", "Telegraph Ave", "Broadway",
        "Shattuck Ave", "Market St",
    ), (
        ("San Francisco", "CA", "94110", 37.7599, -122.4148, "415"),
        ("San Francisco", "CA", "94103", 37.7785, -122.4056, "415"),
        ("San Francisco", "CA", "94123", 37.8037, -122.4368, "415"),
        ("Oakland", "CA", "94612", 37.8044, -122.2712, "510"),
        ("Berkeley", "CA", "94704", 37.8716, -122.2727, "510"),
    )),
    "austin": (22, (
        "Congress Ave", "S Lamar Blvd", "E 6th St", "Guadalupe St", "E Cesar Chavez St",
        "Burnet Rd", "N Mays St",
    ), (
        ("Austin", "TX", "78701", 30.2672, -97.7431, "512"),
        ("Austin", "TX", "78704", 30.25, -97.7494, "512"),
        ("Austin", "TX", "78702", 30.2625, -97.72, "512"),
        ("Round Rock", "TX", "78664", 30.5083, -97.6789, "512"),
    )),
    "seattle": (22, (
        "Pike St", "Pine St", "Broadway E", "NW Market St", "1st Ave", "Bellevue Way NE",
        "15th Ave NW",
    ), (
        ("Seattle", "WA", "98101", 47.6101, -122.3344, "206"),
        ("Seattle", "WA", "98102", 47.6253, -122.3222, "206"),
        ("Seattle", "WA", "98107", 47.6687, -122.3848, "206"),
        ("Bellevue", "WA", "98004", 47.6101, -122.2015, "425"),
    )),
    "miami": (22, (
        "Brickell Ave", "Collins Ave", "NW 2nd Ave", "Miracle Mile", "Biscayne Blvd",
        "Lincoln Rd", "Ponce de Leon Blvd",
    ), (
        ("Miami", "FL", "33130", 25.7663, -80.1977, "305"),
        ("Miami Beach", "FL", "33139", 25.7907, -80.13, "305"),
        ("Miami", "FL", "33127", 25.801, -80.1994, "786"),
        ("Coral Gables", "FL", "33134", 25.7215, -80.2684, "305"),
    )),
    "boston": (22, (
        "Boylston St", "Newbury St", "Hanover St", "Massachusetts Ave", "Highland Ave",
        "Washington St", "Elm St",
    ), (
        ("Boston", "MA", "02116", 42.3503, -71.081, "617"),
        ("Boston", "MA", "02113", 42.3647, -71.0542, "617"),
        ("Cambridge", "MA", "02139", 42.3656, -71.104, "617"),
        ("Somerville", "MA", "02143", 42.3876, -71.0995, "857"),
    )),
    "denver": (22, (
        "Larimer St", "Blake St", "E Colfax Ave", "W 32nd Ave", "Pearl St", "S Broadway",
        "Tejon St",
    ), (
        ("Denver", "CO", "80202", 39.753, -104.999, "303"),
        ("Denver", "CO", "80203", 39.7316, -104.98, "720"),
        ("Denver", "CO", "80211", 39.762, -105.011, "303"),
        ("Boulder", "CO", "80302", 40.015, -105.2705, "303"),
    )),
}
# fmt: on

_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# (open days as Google day numbers, 0 = Sunday; open "HHMM"; close "HHMM")
_HOURS_TEMPLATES: tuple[tuple[tuple[tuple[int, ...], str, str], ...], ...] = (
    (((1, 2, 3, 4, 5), "0900", "1700"),),
    (((0, 1, 2, 3, 4, 5, 6), "0700", "2200"),),
    (((1, 2, 3, 4, 5, 6), "1000", "2100"), ((0,), "1100", "1800")),
    (((2, 3, 4, 5, 6, 0), "1130", "2200"),),
    (((1, 2, 3, 4), "0600", "2000"), ((5, 6), "0600", "2300"), ((0,), "0800", "2000")),
    (((0, 1, 2, 3, 4, 5, 6), "0000", "2359"),),
)


def _clock(hhmm: str) -> str:
    hour, minute = int(hhmm[:2]), int(hhmm[2:])
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


def _operation_hours(template: int) -> dict[str, Any]:
    spans: dict[int, tuple[str, str]] = {}
    for days, opens, closes in _HOURS_TEMPLATES[template]:
        for day in days:
            spans[day] = (opens, closes)
    periods = [
        {"close": {"day": day, "time": spans[day][1]}, "open": {"day": day, "time": spans[day][0]}}
        for day in (1, 2, 3, 4, 5, 6, 0)
        if day in spans
    ]
    weekday_text = []
    for day in (1, 2, 3, 4, 5, 6, 0):
        if day not in spans:
            weekday_text.append(f"{_DAY_NAMES[day]}: Closed")
        elif spans[day] == ("0000", "2359"):
            weekday_text.append(f"{_DAY_NAMES[day]}: Open 24 hours")
        else:
            opens, closes = spans[day]
            weekday_text.append(f"{_DAY_NAMES[day]}: {_clock(opens)} \u2013 {_clock(closes)}")
    return {"periods": periods, "weekdayText": weekday_text}


# Restaurants and venues among the brands: (cuisine, priceLevel). Their locations carry the
# SDK 30.x attributes cuisine, rating and priceLevel (API reference §16); others leave them
# out, as the API does.
_VENUES: dict[str, tuple[str, str]] = {
    "Worlds Greatest Chicken": ("Fried Chicken Restaurant", "$$"),
    "Breakfast Bunny": ("Breakfast Restaurant", "$$"),
    "Golden Crust Pizza": ("Pizza Restaurant", "$$"),
    "Bean & Barrel Coffee": ("Cafe", "$"),
    "Taqueria Sol": ("Taco Shop", "$"),
    "Green Fork Salads": ("Salad Restaurant", "$$"),
    "Noodle Theory": ("Noodle Shop", "$$"),
    "Harbor Burger": ("Burger Restaurant", "$"),
    "Marquee Cinemas": ("Movie Theater", "$$$"),
    "Strike Zone Bowling": ("Bowling Alley", "$$"),
}


def _venue_attributes(location_id: str, brand: str) -> dict[str, Any]:
    venue = _VENUES.get(brand)
    if venue is None:
        return {}
    if location_id == SEED_LOCATION_ID:
        rating: dict[str, Any] = {"value": 4.6, "count": 812}  # the SDK 30.x example's
    else:
        rng = random.Random(f"venue:{location_id}")
        # The rating count is null when Kard has none.
        count = rng.randrange(5, 3000) if rng.random() < 0.8 else None
        rating = {"value": round(rng.uniform(3.4, 4.9), 1), "count": count}
    return {"cuisine": venue[0], "rating": rating, "priceLevel": venue[1]}


def _location_resource(
    location_id: str,
    offer: SeedOffer,
    address: dict[str, str],
    latitude: float,
    longitude: float,
    phone: str,
    hours: dict[str, Any],
    partner_id: str,
) -> dict[str, Any]:
    return {
        "type": "location",
        "id": location_id,
        "attributes": {
            "name": offer.name,
            "address": address,
            "coordinates": {"longitude": longitude, "latitude": latitude},
            "phone": phone,
            "operationHours": hours,
            "partnerIds": [{"type": "google", "id": partner_id}],
            **_venue_attributes(location_id, offer.name),
        },
        "relationships": {
            "category": {"data": [{"type": "category", "id": CATEGORY_IDS[offer.category]}]},
            "offers": {"data": [{"type": "standardOffer", "id": offer.id}]},
        },
    }


def _build_locations() -> tuple[SeedLocation, ...]:
    instore = [offer for offer in OFFERS if "INSTORE" in offer.channels]
    seed_offer = OFFERS_BY_ID[SEED_OFFER_ID]
    locations = [
        SeedLocation(
            id=SEED_LOCATION_ID,
            name=seed_offer.name,
            city="Philadelphia",
            state="PA",
            zip_code="19147",
            category=seed_offer.category,
            latitude=39.9419429,
            longitude=-75.1446869,
            offer_ids=(seed_offer.id,),
            resource=_location_resource(
                SEED_LOCATION_ID,
                seed_offer,
                {
                    "street": "120 Main St",
                    "city": "Philadelphia",
                    "state": "PA",
                    "zipCode": "19147",
                },
                39.9419429,
                -75.1446869,
                "+1 (123) 555-8880",
                _operation_hours(0),
                "3pafnweri4",
            ),
        )
    ]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    for metro, (count, streets, anchors) in _METROS.items():
        rng = random.Random(f"locations:{metro}")
        for index in range(count):
            city, state, zip_code, lat0, lon0, area = anchors[index % len(anchors)]
            offer = instore[rng.randrange(len(instore))]
            # Scatter up to ~1.2 miles around the neighbourhood anchor.
            distance = 1.2 * math.sqrt(rng.random()) / 69.0
            angle = rng.random() * 2 * math.pi
            latitude = round(lat0 + distance * math.cos(angle), 7)
            longitude = round(lon0 + distance * math.sin(angle) / math.cos(math.radians(lat0)), 7)
            location_id = _hex_id("location", metro, str(index))
            street = f"{rng.randrange(1, 2400)} {rng.choice(streets)}"
            if rng.random() < 0.3:
                street += f", Suite {rng.randrange(100, 400)}"
            phone = f"+1 ({area}) 555-{rng.randrange(100, 10000):04d}"
            partner = "ChIJ" + "".join(rng.choice(alphabet) for _ in range(23))
            locations.append(
                SeedLocation(
                    id=location_id,
                    name=offer.name,
                    city=city,
                    state=state,
                    zip_code=zip_code,
                    category=offer.category,
                    latitude=latitude,
                    longitude=longitude,
                    offer_ids=(offer.id,),
                    resource=_location_resource(
                        location_id,
                        offer,
                        {"street": street, "city": city, "state": state, "zipCode": zip_code},
                        latitude,
                        longitude,
                        phone,
                        _operation_hours(rng.randrange(len(_HOURS_TEMPLATES))),
                        partner,
                    ),
                )
            )
    locations.sort(key=lambda location: location.id)
    return tuple(locations)


LOCATIONS: tuple[SeedLocation, ...] = _build_locations()

# --------------------------------------------------------------------------- placements


@dataclass(frozen=True)
class SeedSlot:
    id: str
    name: str
    category: str


@dataclass(frozen=True)
class SeedPlacement:
    id: str
    name: str
    kind: str  # "standard" | "batch" | "group" | "email" | "push"
    offer_ids: tuple[str, ...] = ()
    slots: tuple[SeedSlot, ...] = ()
    refresh_interval_days: int = 7


def _offers_in(category: str) -> tuple[str, ...]:
    return tuple(offer.id for offer in OFFERS if offer.category == category)


PLACEMENTS: dict[str, SeedPlacement] = {
    placement.id: placement
    for placement in (
        SeedPlacement(
            id="placement-1",
            name="Home Feed",
            kind="standard",
            offer_ids=tuple(offer.id for offer in OFFERS[:12]),
        ),
        SeedPlacement(
            id="placement-batch-1",
            name="Weekly Picks",
            kind="batch",
            slots=(
                SeedSlot("slot-1", "Dining Deals", "Food & Beverage"),
                SeedSlot("slot-2", "Fuel Savings", "Gas"),
                SeedSlot("slot-3", "Getaways", "Travel"),
            ),
        ),
        SeedPlacement(
            id="placement-group-1",
            name="Everyday Essentials",
            kind="group",
            slots=(
                SeedSlot("group-slot-1", "Groceries & Snacks", "Convenience"),
                SeedSlot("group-slot-2", "Pet Care", "Pets"),
            ),
        ),
        SeedPlacement(id="placement-email-1", name="Weekly Email", kind="email"),
        SeedPlacement(id="placement-push-1", name="Nearby Push", kind="push"),
    )
}


def slot_offer_ids(slot: SeedSlot) -> tuple[str, ...]:
    return _offers_in(slot.category)


# A radius search around Philadelphia City Hall that fills a 100-location page with
# side-loaded offers and categories: the benchmark workload.
BENCHMARK_QUERY: dict[str, str] = {
    "filter[latitude]": "39.9526",
    "filter[longitude]": "-75.1652",
    "filter[radius]": "25",
    "page[size]": "100",
    "include": "offers,categories",
}
