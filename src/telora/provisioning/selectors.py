"""Reads of provisioning shared with other apps (a line's history)."""

from __future__ import annotations

from telora.provisioning.models import ProvisioningRequest


def requests_for_user(user, action: str = "view"):
    return ProvisioningRequest.objects.for_user(user, action).select_related("target", "subscription")


def line_history(user, subscription):
    """The requests of one line the user may see, newest first."""
    return requests_for_user(user).filter(subscription=subscription)
