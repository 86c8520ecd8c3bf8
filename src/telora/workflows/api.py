"""/api/v1/workflows: desk tasks (list, get, claim, complete or reject) and message delivery.

A task of a brand the caller cannot see is a 404; acting on one needs workflows.work in its brand
(and one of the desk's roles, when it names any), else 403. A bad form value is a 400 naming the field.
Delivering a message (a network operator's callback) needs workflows.work and reaches only instances
of brands where the caller holds it.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock, rights
from telora.core.services.actors import Actor, PermissionDeniedError
from telora.workflows import selectors
from telora.workflows.models import HumanTask
from telora.workflows.services import claim_task, complete_task, deliver_message

router = Router(tags=["workflows"])


class TaskOut(Schema):
    id: int
    brand: str = Field(alias="brand.code")
    desk: str = Field(alias="desk.code")
    name: str
    kind: str
    state: str
    fields: list[dict]
    subject_label: str
    error: str
    due_at: dt.datetime | None
    created_at: dt.datetime
    instance_id: int


class TaskFilter(Schema):
    desk: str | None = Field(None, max_length=64, description="desk code")
    state: str | None = Field(None, pattern="^(open|claimed|done|rejected|cancelled)$")


class CompleteIn(Schema):
    data: dict = Field(default_factory=dict, description="the form's values by field name")
    reject_reason: str = Field("", max_length=2000, description="reject instead of completing, with this reason")


class MessageIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    correlation: str = Field(..., min_length=1, max_length=120)
    payload: dict = Field(default_factory=dict)


class MessageOut(Schema):
    resumed: int


def _task(request, task_id: int, *, work: bool) -> HumanTask:
    require_perm(request, "workflows.view")
    task = get_object_or_404(HumanTask.objects.for_user(principal(request)).select_related("brand", "desk"),
                             pk=task_id)
    if work and not selectors.may_work(principal(request), task.desk):
        raise PermissionDeniedError(f"You may not work desk {task.desk.code} in brand {task.brand.code}.")
    return task


@router.get("/tasks", response={200: list[TaskOut], **ERRORS}, summary="List desk tasks")
def list_tasks(request, response: HttpResponse, paging: Query[Paging], filters: Query[TaskFilter]):
    require_perm(request, "workflows.view")
    tasks = HumanTask.objects.for_user(principal(request)).select_related("brand", "desk")
    if filters.desk:
        tasks = tasks.filter(desk__code=filters.desk)
    tasks = tasks.filter(state=filters.state) if filters.state else tasks.open()
    return page(tasks.order_by("created_at", "id"), paging, response)


@router.get("/tasks/{int:task_id}", response={200: TaskOut, **ERRORS}, summary="Get a desk task")
def get_task(request, task_id: int):
    return _task(request, task_id, work=False)


@router.post("/tasks/{int:task_id}/claim", response={200: TaskOut, **ERRORS}, summary="Claim a desk task")
def post_claim(request, task_id: int):
    task = _task(request, task_id, work=True)
    return claim_task(task, actor=Actor.from_request(request), at=clock.now())


@router.post("/tasks/{int:task_id}/complete", response={200: TaskOut, **ERRORS},
             summary="Complete (or reject) a desk task")
def post_complete(request, task_id: int, body: CompleteIn):
    task = _task(request, task_id, work=True)
    complete_task(task, data=body.data, reject_reason=body.reject_reason.strip(), actor=Actor.from_request(request),
                  at=clock.now())
    return HumanTask.objects.select_related("brand", "desk").get(pk=task.pk)


@router.post("/messages", response={200: MessageOut, **ERRORS}, summary="Deliver a message to waiting flows")
def post_message(request, body: MessageIn):
    brand_ids = require_perm(request, "workflows.work")
    return {"resumed": deliver_message(body.name, body.correlation, body.payload, actor=Actor.from_request(request),
                                       at=clock.now(), brand_ids=None if brand_ids is rights.ALL else brand_ids)}
