"""Shared by the privacy tests (imported by name: a test module cannot import `conftest` safely)."""

from telora.core import clock


def terminate_all(customer, system):
    from telora.customers.services import terminate_subscription

    for line in customer.subscriptions.exclude(status="terminated"):
        terminate_subscription(line, actor=system, at=clock.now())
