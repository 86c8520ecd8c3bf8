"""`telora rerate --brand CODE (--subscription ID | --number MSISDN) --from DAY --to DAY [--now]`:
reverse a subscription's rated usage of a period that is not billed yet and rate it again."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = ("Re-rate a subscription's usage of a period that is not billed yet: its charges, bundle use and "
            "prepaid balance effects are reversed, then the same records are rated again. Days are in the "
            "brand's timezone; --from is the first day, --to the day after the last (exclusive).")

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand code")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--subscription", type=int, help="the subscription (id)")
        which.add_argument("--number", help="the subscription holding this number (MSISDN) in the period")
        parser.add_argument("--from", required=True, dest="since", metavar="YYYY-MM-DD",
                            help="first day, from 00:00 in the brand's timezone (inclusive)")
        parser.add_argument("--to", required=True, dest="until", metavar="YYYY-MM-DD",
                            help="end day, at 00:00 in the brand's timezone (exclusive: --from 2026-10-01 "
                                 "--to 2026-11-01 is October)")
        parser.add_argument("--now", action="store_true", help="rate here and now instead of by the workers")

    def handle(self, *args, brand, subscription, number, since, until, now, **options):
        from telora.rating.services.rerate import rerate_subscription

        found = Brand.objects.filter(code__iexact=brand).first()
        if found is None:
            raise CommandError(f"no brand {brand!r}")
        local = ZoneInfo(found.timezone)
        start = dt.datetime.combine(_day(since, "--from"), dt.time(0), local)
        end = dt.datetime.combine(_day(until, "--to"), dt.time(0), local)
        if start >= end:
            raise CommandError(f"--to: {until} is not after --from {since}")
        target = self._subscription(found, subscription, number, start, end)
        try:
            result = rerate_subscription(target, since=start, until=end, actor=Actor.system("rerate"), at=clock.now(),
                                         defer=not now)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        currency = found.currency
        line = (f"{target} (subscription {target.pk}) {since}..{until}: reversed {result['reversed']} records "
                f"({result['old_total']} {currency})")
        if now:
            line += (f"; rated again {result['rated']}, failed {result['failed']}, "
                     f"{result['new_total']} {currency}")
        elif result["files"]:
            line += "; rating queued for the workers"
        self.stdout.write(line)

    @staticmethod
    def _subscription(brand: Brand, pk: int | None, number: str | None, start: dt.datetime, end: dt.datetime):
        from telora.customers.models import NumberAssignment, Subscription

        if pk is not None:
            found = Subscription.objects.filter(brand=brand, pk=pk).select_related("brand").first()
            if found is None:
                raise CommandError(f"--subscription: no subscription {pk} in {brand.code}")
            return found
        digits = "".join(c for c in number if c.isdigit())
        if number.strip().startswith("00"):
            digits = digits[2:]
        held = sorted(set(NumberAssignment.objects.filter(brand=brand, number=digits, valid_from__lt=end)
                          .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
                          .values_list("subscription_id", flat=True)))
        if not held:
            raise CommandError(f"--number: no subscription of {brand.code} held {digits} in the period")
        if len(held) > 1:
            raise CommandError(f"--number: {digits} was held by subscriptions {', '.join(map(str, held))} in the "
                               "period; name one with --subscription")
        return Subscription.objects.select_related("brand").get(pk=held[0])
