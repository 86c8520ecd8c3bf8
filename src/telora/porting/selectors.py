"""Reads of porting shared with other apps and the API."""

from __future__ import annotations

from telora.porting.models import PortingRequest


def requests_for_user(user, action: str = "view"):
    return PortingRequest.objects.for_user(user, action).select_related("brand", "customer", "order")
