"""Retention rules per brand and their application (by the daily task, in chunks, audited with counts)."""

from __future__ import annotations

import calendar
import datetime as dt
import logging

from django.db import connection, transaction

from telora.core import rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event, snapshot
from telora.customers.models import Customer
from telora.privacy.models import Erasure, RetentionPolicy
from telora.rating.models import FailedRecord

logger = logging.getLogger(__name__)

POLICY_FIELDS = ("usage_detail_months", "failed_record_days", "closed_customer_years")
MINIMUM = {"usage_detail_months": 3, "failed_record_days": 7, "closed_customer_years": 1}
CHUNK = 5000


def months_back(at: dt.datetime, months: int) -> dt.datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = at.year * 12 + at.month - 1 - months
    year, month = divmod(index, 12)
    return at.replace(year=year, month=month + 1, day=min(at.day, calendar.monthrange(year, month + 1)[1]))


def policy_for(brand: Brand) -> RetentionPolicy | None:
    return RetentionPolicy.objects.filter(brand=brand).first()


@transaction.atomic
def set_retention(brand: Brand, *, actor: Actor, at: dt.datetime, **values) -> RetentionPolicy:
    """Set the brand's rules; None keeps that kind of data. Each value has a floor billing can live with."""
    if actor.principal is not None and not rights.has_perm(actor.principal, brand, "privacy.change"):
        raise PermissionDeniedError("You lack privacy.change to set retention rules.")
    for name, value in values.items():
        if name not in POLICY_FIELDS:
            raise ServiceError(f"{name}: not a retention rule", field=name)
        if value is not None and (not isinstance(value, int) or value < MINIMUM[name] or value > 1200):
            raise ServiceError(f"{name}: must be empty (keep) or a whole number from {MINIMUM[name]}", field=name)
    policy, created = RetentionPolicy.objects.select_for_update().get_or_create(brand=brand, defaults={"updated_at": at})
    old = None if created else snapshot(policy, POLICY_FIELDS)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_at = at
    policy.save()
    record_event(actor=actor, at=at, action="create" if created else "update", obj=policy, brand=brand, old=old,
                 new=snapshot(policy, POLICY_FIELDS))
    return policy


def _delete_chunks(sql: str, params: list) -> int:
    """Run a DELETE of at most CHUNK rows until it deletes nothing; each chunk commits on its own."""
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params + [CHUNK])
            deleted = cursor.rowcount
        total += deleted
        if deleted < CHUNK:
            return total


def apply_retention(brand: Brand, *, actor: Actor, at: dt.datetime) -> dict:
    """Delete what the brand's rules say is too old and anonymise long-closed customers; audited with counts."""
    from telora.privacy.services.erasure import erase_customer, erasure_blockers

    policy = policy_for(brand)
    counts = {"rated_usage_deleted": 0, "failed_records_deleted": 0, "customers_erased": 0, "customers_skipped": 0}
    if policy is None:
        return counts
    if policy.usage_detail_months:
        cutoff = months_back(at, policy.usage_detail_months)
        counts["rated_usage_deleted"] = _delete_chunks(
            "DELETE FROM rating_ratedusage WHERE (id, start_time) IN (SELECT id, start_time FROM rating_ratedusage"
            " WHERE brand_id = %s AND start_time < %s LIMIT %s)", [brand.pk, cutoff])
    if policy.failed_record_days:
        cutoff = at - dt.timedelta(days=policy.failed_record_days)
        counts["failed_records_deleted"] = _delete_chunks(
            f"DELETE FROM {FailedRecord._meta.db_table} WHERE id IN (SELECT id FROM {FailedRecord._meta.db_table}"
            " WHERE brand_id = %s AND created_at < %s LIMIT %s)", [brand.pk, cutoff])
    if policy.closed_customer_years:
        cutoff = months_back(at, 12 * policy.closed_customer_years)
        due = (Customer.objects.filter(brand=brand, status="closed", closed_at__lt=cutoff)
               .exclude(pk__in=Erasure.objects.filter(brand=brand).values("customer_id")).order_by("pk"))
        for customer in due.iterator(chunk_size=500):
            if erasure_blockers(customer):
                counts["customers_skipped"] += 1
                continue
            erase_customer(customer, actor=actor, at=at, reason="retention")
            counts["customers_erased"] += 1
    with transaction.atomic():
        RetentionPolicy.objects.filter(pk=policy.pk).update(last_applied_at=at)
        record_event(actor=actor, at=at, action="retention", obj=policy, brand=brand, new=counts,
                     message="Retention rules applied.")
    if any(counts.values()):
        logger.info("retention %s: %s", brand.code, counts)
    return counts
