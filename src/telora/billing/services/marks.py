"""What billing tells rating: a subscription's usage period billed by a production run may not
be re-rated (registered with rating.services.rerate.register_billed_check)."""

from __future__ import annotations

import datetime as dt


def billed_check(subscription_id: int, since: dt.datetime, until: dt.datetime) -> str | None:
    from telora.billing.models import ChargeMark
    from telora.billing.services.snapshot import moment

    for mark in ChargeMark.objects.filter(kind="usage", key=str(subscription_id),
                                          subscription_id=subscription_id).select_related("brand", "invoice"):
        start, end = moment(mark.period_start, mark.brand), moment(mark.period_end, mark.brand)
        if start < until and since < end:
            where = f" on invoice {mark.invoice.number}" if mark.invoice_id else ""
            return f"the usage of {mark.period_start}–{mark.period_end} is billed{where}"
    return None
