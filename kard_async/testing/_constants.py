"""Credentials the emulator accepts by default and the API's closed value sets.

``tests/test_emulator_drift.py`` checks these against the client's ``Literal`` types.
"""

from __future__ import annotations

TEST_CLIENT_ID = "kard-test-client"
TEST_CLIENT_SECRET = "kard-test-secret"
TEST_ORGANIZATION_ID = "org-123"
TEST_WEBHOOK_KEY = "kard-test-webhook-key"

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

# Organization management (§9, §16): children, content strategies, placements.
ORG_LIST_MAX_PAGE_SIZE = 200  # also the default page size of these lists
CONTENT_STRATEGY_SORTS: tuple[str, ...] = (
    "NEWLY_LIVE",
    "EXPIRING_SOON",
    "HIGHEST_CASHBACK",
    "PERSONALIZED",
    "OFFERS_NEAR_YOU",
)
OFFER_FEATURES: tuple[str, ...] = ("INTERACTIVE",)
PLACEMENT_TYPES: tuple[str, ...] = (
    "placement",
    "placementPushNotification",
    "placementEmail",
    "placementBatchActivation",
    "placementGroup",
)
PLACEMENT_STATUSES: tuple[str, ...] = ("ACTIVE", "INACTIVE")
CADENCE_FREQUENCIES: tuple[str, ...] = ("DAILY", "WEEKLY", "MONTHLY")
DAYS_OF_WEEK: tuple[str, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
WEEKS_OF_MONTH: tuple[str, ...] = ("FIRST", "LAST")
ORG_PLACEMENT_INCLUDES: tuple[str, ...] = (
    "contentStrategy",
    "slots",
    "slots.placement",
    "slots.placement.contentStrategy",
)
MAX_SLOT_DESCRIPTION = 50

# Users (§4, §16), audits (§7.3) and WebView tokens (§6).
ENROLLED_REWARDS: tuple[str, ...] = ("CARDLINKED",)
PHONE_NUMBER_TYPES: tuple[str, ...] = ("MOBILE", "HOME", "WORK", "OTHER")
POSTAL_CODE_TYPES: tuple[str, ...] = ("PHYSICAL", "BILLING", "OTHER")
AUDIT_CODES: tuple[int, ...] = (3005, 3006, 8001)
MAX_USERS = 100
MAX_PHONE_NUMBERS = 10
MAX_POSTAL_CODES = 10
WEB_VIEW_TOKEN_TTL = 3600

# Transactions (§7.1), fraud markers (§7.2) and earned rewards (§7.5).
TRANSACTION_STATUSES: tuple[str, ...] = ("APPROVED", "SETTLED", "REVERSED", "RETURNED", "DECLINED")
# Which date each status requires.
TRANSACTION_DATES: dict[str, str] = {
    "APPROVED": "authorizationDate",
    "SETTLED": "settledDate",
    "REVERSED": "transactionDate",
    "RETURNED": "transactionDate",
    "DECLINED": "transactionDate",
}
DIRECTIONS: tuple[str, ...] = ("DEBIT", "CREDIT")
PAYMENT_TYPES: tuple[str, ...] = ("CARD",)
CARD_NETWORKS: tuple[str, ...] = ("VISA", "MASTERCARD", "AMERICANEXPRESS", "DISCOVER")
PROCESSORS: tuple[str, ...] = ("VISA",)
EARNED_REWARD_STATUSES: tuple[str, ...] = ("APPROVED", "SETTLED")
EARNED_REWARDS_RANGES: tuple[str, ...] = ("12M", "6M", "3M", "YTD")
EARNED_REWARD_INCLUDES: tuple[str, ...] = ("merchant", "offer")
MAX_TRANSACTIONS = 500
MAX_FRAUD_MARKERS = 500

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
