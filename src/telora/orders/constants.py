"""The words of orders: TMF622 states, order types (one per account action), channels, request modes."""

# TMF622 ProductOrder states. A running order is acknowledged (taken, not started: future-dated
# ones wait here), inProgress (its flow runs or waits at a desk), or held (stopped by a person).
STATES = ("acknowledged", "inProgress", "pending", "held", "completed", "failed", "cancelled", "partial")
FINAL_STATES = ("completed", "failed", "cancelled", "partial")
CANCELLABLE_STATES = ("acknowledged", "inProgress", "pending", "held")

# order type -> (TMF622 item action, what it needs). The type names the account action it stands for.
ORDER_TYPES = {
    "sign_up": "add",
    "change_plan": "modify",
    "add_addon": "modify",
    "remove_addon": "modify",
    "add_one_time": "modify",
    "swap_sim": "modify",
    "number_change": "modify",
    "activate": "modify",
    "suspend": "modify",
    "resume": "modify",
    "terminate": "delete",
    "port_in": "add",
    "port_out": "delete",
}
ITEM_ACTIONS = ("add", "modify", "delete", "noChange")
CHANNELS = ("gui", "api", "selfcare", "system")
REQUEST_MODES = ("now", "date", "next_period")

# Which standard flow an order type runs (sign-ups by service type).
SIGNUP_FLOWS = {
    "mobile_postpaid": "signup_mobile_postpaid",
    "mobile_prepaid": "signup_mobile_prepaid",
    "fixed_line": "signup_fixed",
    "broadband": "signup_fixed",
    "fiber": "signup_fixed",
    "voip": "signup_voip",
}
TYPE_FLOWS = {
    "change_plan": "change_plan",
    "add_addon": "change_addon",
    "remove_addon": "remove_addon",
    "add_one_time": "add_one_time",
    "swap_sim": "swap_sim",
    "number_change": "number_change",
    "activate": "activate",
    "suspend": "suspend",
    "resume": "resume",
    "terminate": "cancellation",
    "port_in": "port_in",
    "port_out": "port_out",
}
# Types that may wait for a future date (the others happen when asked).
DATED_TYPES = ("change_plan", "add_addon", "remove_addon", "suspend", "resume", "terminate")
