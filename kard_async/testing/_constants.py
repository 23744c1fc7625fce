"""Credentials the emulator accepts by default and the API's closed value sets.

``tests/test_emulator_drift.py`` checks these against the client's ``Literal`` types.
"""

from __future__ import annotations

TEST_CLIENT_ID = "kard-test-client"
TEST_CLIENT_SECRET = "kard-test-secret"
TEST_ORGANIZATION_ID = "org-123"

CATEGORY_NAMES: tuple[str, ...] = (
    "Arts & Entertainment",
    "Baby, Kids & Toys",
    "Books & Digital Media",
    "Clothing, Shoes & Accessories",
    "Computers, Electronics & Software",
    "Convenience",
    "Gas",
    "Department Stores",
    "Food & Beverage",
    "Health & Beauty",
    "Home & Garden",
    "Miscellaneous",
    "Occasions & Gifts",
    "Pets",
    "Sports & Outdoors",
    "Supplies & Services",
    "Travel",
)

# fmt: off
STATES: frozenset[str] = frozenset((
    "AL", "AK", "AS", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FM", "FL", "GA", "GU", "HI",
    "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MH", "MD", "MA", "MI", "MN", "MS", "MO",
    "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "MP", "OH", "OK", "OR", "PW", "PA",
    "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VI", "VA", "WA", "WV", "WI", "WY",
))
# fmt: on

PURCHASE_CHANNELS: tuple[str, ...] = ("INSTORE", "ONLINE")

COMPONENT_TYPES: tuple[str, ...] = (
    "shortDescription",
    "longDescription",
    "baseReward",
    "boostedReward",
    "cta",
    "tags",
    "detailTags",
    "logoFlare",
    "progressBar",
)

OFFER_SORTS: tuple[str, ...] = (
    "startDate",
    "-startDate",
    "expirationDate",
    "-expirationDate",
    "name",
    "-name",
)
LOCATION_SORTS: tuple[str, ...] = ("locationName", "-locationName")

# Allowed `include` values per endpoint.
OFFER_INCLUDES: tuple[str, ...] = ("categories",)
LOCATION_INCLUDES: tuple[str, ...] = ("offers", "categories")
PLACEMENT_INCLUDES: tuple[str, ...] = ("categories",)
ACTIVATION_INCLUDES: tuple[str, ...] = ("offer",)

EVENT_CODES: tuple[str, ...] = ("IMPRESSION", "VIEW", "ACTIVATE", "BOOST")

# Allowed `medium` values per attribution `type`.
MEDIUMS: dict[str, tuple[str, ...]] = {
    "offerAttribution": ("BROWSE", "EMAIL", "MAP", "SEARCH", "CTA", "PUSH"),
    "notificationAttribution": ("PUSH", "EMAIL"),
    "placementSlotAttribution": ("CTA",),
}

MAX_ATTRIBUTION_EVENTS = 100
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 10
DEFAULT_RADIUS_MILES = 10

# --- files (§7.4, §10) ---
FILE_UPLOAD_TYPES: tuple[str, ...] = ("incomingTransactionsFile", "historicalTransactionsFile")
FILE_TYPES: tuple[str, ...] = (
    "earnedRewardApprovedDailyReconciliationFile",
    "earnedRewardSettledDailyReconciliationFile",
    "validatedTransactionDailyReconciliationFile",
    "monthlyReconciliationFile",
)
FILE_SORTS: tuple[str, ...] = ("sentDate", "-sentDate")
MAX_UPLOAD_URLS = 10
MAX_FILES_PAGE_SIZE = 100
MAX_UPLOAD_BYTES = 5_000_000_000
