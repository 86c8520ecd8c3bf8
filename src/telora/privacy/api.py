"""/api/v1/customers/{id}/privacy-export and /privacy-erasure: start the export or the erasure job (202
with the job; follow it at /api/v1/jobs/{id}, download the export from the job's result).

A customer of a brand the caller cannot see is a 404; privacy.export or privacy.erase is needed in its
brand (else 403). An erasure refused because something is still open is a 409 naming why.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS, Error
from telora.api.jobs import JobDetail
from telora.core import clock, rights
from telora.core.models import Job
from telora.core.services.actors import Actor, PermissionDeniedError
from telora.customers.selectors import customers_for_user
from telora.privacy.services import start_erasure, start_export

router = Router(tags=["privacy"])

ACCEPTED = {202: JobDetail, 409: Error, **ERRORS}


def _customer(request, customer_id: int, perm: str):
    """404 unless the caller sees the customer; then 403 without `perm` in its brand."""
    require_perm(request, "customers.view")
    customer = get_object_or_404(customers_for_user(principal(request)), pk=customer_id)
    if not rights.has_perm(principal(request), customer.brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in brand {customer.brand.code}.")
    return customer


def _accepted(response: HttpResponse, job):
    response["Location"] = f"/api/v1/jobs/{job.pk}"
    return Status(202, Job.objects.select_related("brand", "created_by").get(pk=job.pk))


@router.post("/{int:customer_id}/privacy-export", response=ACCEPTED, summary="Export a customer's personal data")
def post_export(request, response: HttpResponse, customer_id: int):
    """Queue the export (JSON, PDF and uploaded files in one zip); the finished job's result names the file."""
    customer = _customer(request, customer_id, "privacy.export")
    return _accepted(response, start_export(customer, actor=Actor.from_request(request), at=clock.now()))


@router.post("/{int:customer_id}/privacy-erasure", response=ACCEPTED, summary="Erase a customer's personal data")
def post_erasure(request, response: HttpResponse, customer_id: int):
    """Queue the anonymisation; 409 while a subscription is live or a balance open. Invoices and ledgers stay."""
    customer = _customer(request, customer_id, "privacy.erase")
    return _accepted(response, start_erasure(customer, actor=Actor.from_request(request), at=clock.now()))
