"""`telora subscription sell|change-plan|add-addon|end-addon|terminate … [--at WHEN]`: the subscription
changes operators script, with an effective moment. Whoever runs it on the server acts as the platform
(audited as `job:subscription`); a moment in the past leaves a `backdate` audit event beside the change."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.services.actors import Actor, ServiceError
from telora.customers import services
from telora.customers.models import BillingAccount, Customer, Subscription
from telora.customers.services.dating import dated_change


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at: {text!r} is not an ISO time (2026-03-01T00:00:00+01:00)") from None
    if value.tzinfo is None:
        raise CommandError("--at: give a time zone offset (2026-03-01T00:00:00+01:00)")
    return value


def _subscription(pk: int) -> Subscription:
    found = Subscription.objects.select_related("brand").filter(pk=pk).first()
    if found is None:
        raise CommandError(f"subscription: no subscription {pk}")
    return found


class Command(BaseCommand):
    help = "Sell a line, change its plan, add or end add-ons, terminate: now or at --at (past moments are audited)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sell = sub.add_parser("sell", help="a new subscription for a customer")
        sell.add_argument("--customer", required=True, help="customer number (or id)")
        sell.add_argument("--brand", help="brand code, where customer numbers repeat across brands")
        sell.add_argument("--account", help="billing account number (default: the customer's only account)")
        sell.add_argument("--service-type", required=True, help="mobile_postpaid, mobile_prepaid, fiber, …")
        sell.add_argument("--plan", required=True, help="plan product code")
        sell.add_argument("--addon", action="append", default=[], help="add-on product code (repeatable)")
        sell.add_argument("--number", help="a chosen number (default: the next free one)")
        sell.add_argument("--sim", help="a chosen ICCID (default: the next free card)")
        sell.add_argument("--identifier", default="", help="circuit id (broadband, fiber)")
        plan = sub.add_parser("change-plan", help="end the plan and start another at the same moment")
        plan.add_argument("subscription", type=int)
        plan.add_argument("plan", help="the new plan's product code")
        add = sub.add_parser("add-addon", help="an add-on from a moment on")
        add.add_argument("subscription", type=int)
        add.add_argument("product", help="add-on product code")
        end = sub.add_parser("end-addon", help="end an add-on (its product code, or instance id)")
        end.add_argument("subscription", type=int)
        end.add_argument("product", help="add-on product code or instance id")
        terminate = sub.add_parser("terminate", help="end everything; the number goes to quarantine")
        terminate.add_argument("subscription", type=int)
        terminate.add_argument("--reason", default="")
        for each in (sell, plan, add, end, terminate):
            each.add_argument("--at", help="effective moment, ISO with offset (default: now)")
        for each in (sell, plan, add):
            each.add_argument("--channel", help="sales channel code (default: the channel whose default_for has cli)")

    def handle(self, *args, action, at, **options):
        actor = Actor.system("subscription")
        try:
            result = getattr(self, "_" + action.replace("-", "_"))(actor, _moment(at), **options)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(result)

    def _dated(self, target, effective_at, actor, change):
        return dated_change(target, effective_at, lambda moment: change(actor=actor, at=moment), actor=actor,
                            now=clock.now(), field="--at")

    def _sell(self, actor, effective_at, *, customer, brand, account, service_type, plan, addon, number, sim, identifier,
              channel, **_):
        customers = Customer.objects.select_related("brand")
        if brand:
            customers = customers.filter(brand__code__iexact=brand)
        matches = list(customers.filter(number=customer)[:2])
        if not matches and customer.isdigit():
            matches = list(customers.filter(pk=int(customer)))
        if not matches:
            raise CommandError(f"--customer: no customer {customer!r}")
        if len(matches) > 1:
            raise CommandError(f"--customer: {customer!r} is a customer number in several brands; give --brand")
        found = matches[0]
        accounts = BillingAccount.objects.filter(customer=found)
        if account:
            accounts = accounts.filter(number=account)
        chosen = list(accounts[:2])
        if not chosen:
            raise CommandError(f"--account: {found.number} has no billing account {account or ''}".strip())
        if len(chosen) > 1:
            raise CommandError(f"--account: {found.number} has several billing accounts; name one")
        subscription = self._dated(found, effective_at, actor, lambda **context: services.create_subscription(
            found, **context, billing_account=chosen[0].pk, service_type=service_type, plan=plan, addons=addon,
            number=number, sim=sim, identifier=identifier, channel=channel, interface="cli"))
        return f"Sold subscription {subscription.pk} ({subscription.identifier or service_type}) to {found.number}."

    def _change_plan(self, actor, effective_at, *, subscription, plan, channel, **_):
        target = _subscription(subscription)
        self._dated(target, effective_at, actor, lambda **context: services.change_plan(
            target, plan, channel=channel, interface="cli", **context))
        return f"Subscription {target.pk}: plan {plan}."

    def _add_addon(self, actor, effective_at, *, subscription, product, channel, **_):
        target = _subscription(subscription)
        instance = self._dated(target, effective_at, actor,
                               lambda **context: services.add_addon(target, product, channel=channel,
                                                                    interface="cli", **context))
        return f"Subscription {target.pk}: add-on {product} from {instance.start_at.isoformat()} (instance {instance.pk})."

    def _end_addon(self, actor, effective_at, *, subscription, product, **_):
        target = _subscription(subscription)
        instance = product
        if not product.isdigit():
            found = target.products.filter(product__code=product, kind="addon", end_at__isnull=True).first()
            if found is None:
                raise CommandError(f"product: subscription {target.pk} has no running add-on {product!r}")
            instance = found.pk
        ended = self._dated(target, effective_at, actor,
                            lambda **context: services.remove_addon(target, int(instance), **context))
        return f"Subscription {target.pk}: add-on {ended.product.code} ended at {ended.end_at.isoformat()}."

    def _terminate(self, actor, effective_at, *, subscription, reason, **_):
        target = _subscription(subscription)
        self._dated(target, effective_at, actor,
                    lambda **context: services.terminate_subscription(target, reason=reason, **context))
        return f"Subscription {target.pk}: terminated."
