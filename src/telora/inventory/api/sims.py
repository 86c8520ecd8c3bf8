"""/api/v1/inventory/sims: SIM cards (list, get, PIN/PUK codes, block, unblock, retire)."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock
from telora.core.services.actors import Actor
from telora.inventory import services
from telora.inventory.api.schemas import ReasonIn, SimOut, SimSecretsOut
from telora.inventory.models import SimStatus
from telora.inventory.selectors import sim_secrets, sims_for_user

router = Router(tags=["inventory"])


class SimFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    status: SimStatus | None = None
    sim_type: str | None = None
    batch: str | None = Field(None, description="The delivery batch")
    iccid: str | None = Field(None, description="The ICCID or its beginning")


def _sims(request):
    require_perm(request, "inventory.view")
    stored = ExpressionWrapper(Q(sealed_secrets__isnull=False), output_field=BooleanField())
    return (sims_for_user(principal(request)).select_related("brand").defer("sealed_secrets")
            .annotate(has_secrets=stored))


def _sim(request, sim_id: int):
    return get_object_or_404(_sims(request), pk=sim_id)


@router.get("/sims", response={200: list[SimOut], **ERRORS})
def list_sims(request, response: HttpResponse, paging: Query[Paging], filters: Query[SimFilter]):
    """SIM cards by ICCID. Never the PIN/PUK codes."""
    rows = _sims(request)
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.sim_type is not None:
        rows = rows.filter(sim_type=filters.sim_type)
    if filters.batch is not None:
        rows = rows.filter(batch=filters.batch)
    if filters.iccid:
        rows = rows.filter(iccid__startswith=filters.iccid.strip())
    return page(rows.order_by("iccid", "id"), paging, response)


@router.get("/sims/{int:sim_id}", response={200: SimOut, **ERRORS})
def get_sim(request, sim_id: int):
    return _sim(request, sim_id)


@router.get("/sims/{int:sim_id}/secrets", response={200: SimSecretsOut, **ERRORS})
def get_sim_secrets(request, response: HttpResponse, sim_id: int):
    """PIN1, PUK1, PIN2 and PUK2 (empty when not stored). Needs inventory.secrets in the card's
    brand; every reading is recorded in the audit trail (`view_secrets`)."""
    require_perm(request, "inventory.view")
    sim = get_object_or_404(sims_for_user(principal(request)).select_related("brand"), pk=sim_id)
    codes = sim_secrets(sim, principal(request), at=clock.now(), actor=Actor.from_request(request))
    response["Cache-Control"] = "no-store"
    return {"iccid": sim.iccid, **codes}


def _act(request, sim_id: int, service, payload: ReasonIn | None):
    require_perm(request, "inventory.change")
    sim = _sim(request, sim_id)
    service(sim.brand, sim.iccid, actor=Actor.from_request(request), at=clock.now(),
            reason=payload.reason if payload else "")
    return _sim(request, sim_id)


@router.post("/sims/{int:sim_id}/block", response={200: SimOut, **ERRORS})
def block_sim(request, sim_id: int, payload: ReasonIn | None = None):
    """Lost, stolen or faulty: the card cannot be handed out or used until unblocked."""
    return _act(request, sim_id, services.block_sim, payload)


@router.post("/sims/{int:sim_id}/unblock", response={200: SimOut, **ERRORS})
def unblock_sim(request, sim_id: int, payload: ReasonIn | None = None):
    """Back to where the card was before blocking (allocated, or available stock)."""
    return _act(request, sim_id, services.unblock_sim, payload)


@router.post("/sims/{int:sim_id}/retire", response={200: SimOut, **ERRORS})
def retire_sim(request, sim_id: int, payload: ReasonIn | None = None):
    """Out of service for good (final)."""
    return _act(request, sim_id, services.retire_sim, payload)
