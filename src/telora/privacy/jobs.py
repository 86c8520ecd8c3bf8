"""Job kinds of data protection (export, erasure) and the daily retention task."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor
from telora.core.services.jobs import JobContext, job_kind
from telora.customers.models import Customer

logger = logging.getLogger(__name__)


def _job_actor(ctx: JobContext, job: str) -> Actor:
    creator = ctx.job.created_by
    return Actor(user=creator, job=job) if creator else Actor.system(job)


def _customer(ctx: JobContext, customer_id: int) -> Customer:
    customer = Customer.objects.select_related("brand").get(pk=customer_id)
    if customer.brand_id != ctx.job.brand_id:  # a job only ever acts in its own brand
        raise ValueError(f"customer {customer_id} is not in the job's brand")
    return customer


@job_kind("privacy.export", title="Personal data export", permission="privacy.export")
def run_export(ctx: JobContext, *, customer_id: int) -> dict:
    from telora.privacy.services.export import record_export, write_export

    customer = _customer(ctx, customer_id)
    at = clock.now()
    relative, counts = write_export(customer, job_id=ctx.job.pk, at=at, progress=ctx.advance)
    record_export(customer, actor=_job_actor(ctx, "privacy.export"), at=at, job_id=ctx.job.pk, counts=counts)
    ctx.log("wrote " + ", ".join(f"{n} {key}" for key, n in sorted(counts.items()) if n))
    return {"file": relative, "counts": counts}


@job_kind("privacy.erase", title="Personal data erasure", permission="privacy.erase")
def run_erasure(ctx: JobContext, *, customer_id: int) -> dict:
    from telora.privacy.services.erasure import erase_customer

    erasure = erase_customer(_customer(ctx, customer_id), actor=_job_actor(ctx, "privacy.erase"), at=clock.now())
    ctx.log(f"customer {customer_id} anonymised at {erasure.at:%Y-%m-%d %H:%M}")
    return {"erasure": erasure.pk, **erasure.counts}


def apply_all_retention() -> dict:
    """Every brand with rules, one after the other (each audited with its counts)."""
    from telora.privacy.models import RetentionPolicy
    from telora.privacy.services.retention import apply_retention

    results = {}
    from telora.core.modules import running

    brands = running("privacy", Brand.objects.filter(pk__in=RetentionPolicy.objects.values("brand_id")))
    for brand in brands.order_by("code"):
        results[brand.code] = apply_retention(brand, actor=Actor.system("privacy_retention"), at=clock.now())
    return results


@app.periodic(cron="41 2 * * *", periodic_id="privacy_retention")
@app.task(name="telora.privacy.retention", queueing_lock="privacy_retention")
def retention(timestamp: int) -> None:
    """Daily: the brands' retention rules."""
    apply_all_retention()
