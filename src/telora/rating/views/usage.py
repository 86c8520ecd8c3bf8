"""A subscription's rated usage for a period (a calendar month in the brand's timezone by default,
or from/to dates), with totals per service, and for prepaid lines the balance, its latest ledger
entries and a top-up form.

Rated usage is partitioned by month and large: every query names the subscription and a
start_time range, so the (subscription_id, start_time) index and partition pruning do the work.
It is not a brand-owned model: a subscription is visible here to holders of rating.view in the
subscription's brand (404 otherwise, like a subscription that does not exist).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.customers.models import Subscription
from telora.rating.forms import TopUpForm, UsagePeriodForm
from telora.rating.models import PrepaidBalance, PrepaidBalanceEntry, PrepaidRenewal, RatedUsage, UsageSource
from telora.rating.services import balances
from telora.rating.views.common import AREA, exact, may, usage_text
from telora.ui.views.generic import ScopedObjectMixin

PAGE_SIZE = 50
LEDGER_SHOWN = 10


def month_bounds(year: int, month: int, tz) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, month, 1, tzinfo=tz)
    following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start, following


def is_prepaid(subscription) -> bool:
    """Prepaid as rating sees it (its plan now), or a line that has a prepaid balance."""
    return balances.is_prepaid(subscription, clock.now()) or PrepaidBalance.objects.filter(
        subscription=subscription).exists()


class SubscriptionRatingMixin(ScopedObjectMixin):
    """One subscription (`pk`) seen from rating: rating.view in its brand, else 404."""

    model = Subscription
    area = AREA

    def scoped_queryset(self, action):
        brand_ids = rights.brands_with(self.request.user, f"{AREA}.{action}")
        subscriptions = Subscription.objects.select_related("brand", "customer", "billing_account")
        return subscriptions if brand_ids is rights.ALL else subscriptions.filter(brand_id__in=brand_ids)

    def check_rights(self) -> None:
        super().check_rights()
        self.brand = self.object.brand  # times and days in the subscription's brand


class SubscriptionUsageView(SubscriptionRatingMixin, TemplateView):
    template_name = "rating/usage/subscription.html"
    context_object_name = "subscription"

    def period(self, form) -> tuple[dt.datetime, dt.datetime, tuple[int, int] | None]:
        tz = zoneinfo.ZoneInfo(self.brand.timezone)
        data = form.cleaned_data if form.is_valid() else {}
        if data.get("start") and data.get("end"):
            start = dt.datetime.combine(data["start"], dt.time(), tzinfo=tz)
            end = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time(), tzinfo=tz)
            return start, end, None
        today = clock.today(self.brand)
        year, month = data.get("month") or (today.year, today.month)
        start, end = month_bounds(year, month, tz)
        return start, end, (year, month)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription, user = self.object, self.request.user
        form = UsagePeriodForm(self.request.GET or None)
        start, end, month = self.period(form)
        rows = RatedUsage.objects.filter(subscription_id=subscription.pk, start_time__gte=start, start_time__lt=end)
        page = Paginator(rows.order_by("-start_time", "-id"), PAGE_SIZE).get_page(self.request.GET.get("page"))
        totals = [{"service": t["service"], "count": t["count"], "usage": usage_text(t["service"], t["usage"]),
                   "quantity": usage_text(t["service"], t["quantity"]), "charge": exact(t["charge"]),
                   "discount": exact(t["discount"])}
                  for t in rows.values("service").annotate(count=Count("id"), usage=Sum("usage"),
                                                           quantity=Sum("quantity"), charge=Sum("charge"),
                                                           discount=Sum("discount")).order_by("service")]
        total_charge = rows.aggregate(total=Sum("charge"))["total"] or 0
        pre_rated = set(UsageSource.objects.filter(brand_id=subscription.brand_id, pre_rated=True)
                        .values_list("code", flat=True))
        context.update(
            title=_("Usage of %(line)s") % {"line": subscription.identifier or subscription.pk},
            customer=subscription.customer, form=form, start=start, end=end - dt.timedelta(microseconds=1),
            month=month, page_obj=page, paginator=page.paginator, currency=subscription.brand.currency,
            rows=[self.row(r, pre_rated) for r in page.object_list], totals=totals, total_charge=exact(total_charge),
            links=self.month_links(month), prepaid=is_prepaid(subscription),
        )
        if context["prepaid"]:
            balance = PrepaidBalance.objects.filter(subscription=subscription).first()
            context.update(
                balance=exact(balance.balance) if balance else exact(0), balance_at=balance.updated_at if balance
                else None, ledger=[{"entry": e, "amount": exact(e.amount), "after": exact(e.balance_after)}
                                   for e in PrepaidBalanceEntry.objects.filter(subscription=subscription)
                                   .order_by("-at", "-id")[:LEDGER_SHOWN]],
                can_top_up=subscription.is_live and may(user, subscription, "change"),
                top_up_form=TopUpForm(),
                renewals=[{"renewal": r, "product": r.instance.product.name, "amount": exact(r.amount)}
                          for r in PrepaidRenewal.objects.filter(subscription=subscription)
                          .select_related("instance__product").order_by("-period_start", "id")[:LEDGER_SHOWN]],
            )
        return context

    @staticmethod
    def row(usage: RatedUsage, pre_rated: set[str] = frozenset()) -> dict:
        """One rated record for people; `pre_rated` names the brand's OCS sources (their charge is the OCS's)."""
        bundle_units = sum(int(use[4]) for use in usage.bundle_use or [] if len(use) > 4)
        return {"usage": usage, "used": usage_text(usage.service, usage.usage),
                "quantity": usage_text(usage.service, usage.quantity),
                "bundle": usage_text(usage.service, bundle_units) if usage.bundle_use else "",
                "bundles": ", ".join(sorted({str(use[1]) for use in usage.bundle_use or [] if len(use) > 1})),
                "discount": exact(usage.discount) if usage.discount else "",
                "charge": exact(usage.charge),
                "balance_after": exact(usage.balance_after) if usage.balance_after is not None else "",
                "pre_rated": usage.source in pre_rated}

    def month_links(self, month) -> dict:
        if month is None:
            month = (self.request.GET.get("start", "")[:7] or clock.today(self.brand).strftime("%Y-%m"))
            try:
                month = tuple(int(p) for p in month.split("-"))
            except ValueError:
                month = (clock.today(self.brand).year, clock.today(self.brand).month)
        year, number = month
        previous = (year - 1, 12) if number == 1 else (year, number - 1)
        following = (year + 1, 1) if number == 12 else (year, number + 1)
        url = reverse("rating:subscription_usage", args=[self.object.pk])

        def label(pair):
            return f"{pair[0]:04d}-{pair[1]:02d}"

        return {"previous": f"{url}?{urlencode({'month': label(previous)})}",
                "next": f"{url}?{urlencode({'month': label(following)})}",
                "current": url, "label": label(month)}


class TopUpView(SubscriptionRatingMixin, View):
    """POST: add credit to a prepaid line (rating.change in its brand), through balances.top_up."""

    http_method_names = ["post"]

    def check_rights(self) -> None:
        super().check_rights()
        if not may(self.request.user, self.object, "change"):
            raise PermissionDenied

    def post(self, request, *args, **kwargs):
        back = reverse("rating:subscription_usage", args=[self.object.pk])
        form = TopUpForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                for error in errors:
                    messages.error(request, f"{form.fields[field].label}: {error}" if field in form.fields else error)
            return HttpResponseRedirect(back)
        try:
            balances.top_up(self.object, form.cleaned_data["amount"], actor=self.actor(), at=clock.now(),
                            reference=form.cleaned_data["reference"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(amount)s %(currency)s topped up.") % {
                "amount": form.cleaned_data["amount"], "currency": self.object.brand.currency})
        return HttpResponseRedirect(back)
