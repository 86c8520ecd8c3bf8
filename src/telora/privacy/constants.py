"""Consent purposes and channels, and the marker erased values carry."""

PURPOSES = ("marketing_email", "marketing_sms", "marketing_phone", "profiling", "third_party_sharing")
CHANNELS = ("gui", "api", "selfcare", "phone", "paper", "shop", "migration")
ERASED = "erased"
