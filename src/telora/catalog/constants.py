"""The closed vocabularies of the catalogue, shared by models, validation and the rating snapshot.

Plain tuples (no Django) so the pure modules (rules, tariff) can use them too.
"""

SERVICES = ("voice", "sms", "mms", "data", "content")
DESTINATION_SERVICES = ("voice", "sms", "mms")  # rated by the B-number's prefix zone
COUNTRY_SERVICES = ("data",)  # rated by the country zone the subscriber is in

SERVICE_TYPES = (
    "mobile_prepaid", "mobile_postpaid", "fixed_line", "broadband", "voip", "fiber", "tv", "content",
)
PRODUCT_KINDS = ("plan", "addon", "one_time", "device")
RECURRING_KINDS = ("plan", "addon")  # may carry a monthly `recurring` price
PRICED_KINDS = ("one_time", "device")  # may carry a single `price`

BUNDLE_PERIODS = ("bill_cycle", "month", "once")
DISCOUNT_TARGETS = ("usage", "recurring")
RULE_KINDS = ("requires_any", "excludes", "at_most")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Where a sale is entered; a sales channel can be the default of some (`default_for`).
SALE_INTERFACES = ("gui", "api", "cli", "selfcare", "migration")
FORM_FACTORS = ("mini", "micro", "nano", "triple-cut", "eSIM", "MFF2")

# Charge codes a product's own prices use; one-time charges use their own codes beside these.
RECURRING = "recurring"
PRICE = "price"
RESERVED_CHARGES = (RECURRING, PRICE)

ANY_COUNTRY = "*"
MINUTES_PER_DAY = 24 * 60
