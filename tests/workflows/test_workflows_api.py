"""/api/v1/workflows: desk tasks and messages through the API, with rights and brand isolation."""

from __future__ import annotations

import pytest
from django.test import Client

from telora.core import clock
from telora.core.services.users import create_api_key
from telora.workflows.models import FlowInstance, HumanTask
from telora.workflows.services import create_desk, start_instance

pytestmark = pytest.mark.django_db


class ApiClient:
    def __init__(self, token):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", headers=self.headers)


@pytest.fixture
def api_for(make_user, system):
    def make(name, grants):
        user = make_user(name, grants)
        _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="test", brands=list(grants),
                                     permissions=sorted({p for ps in grants.values() for p in ps}))
        return ApiClient(token)

    return make


@pytest.fixture
def task(frozen, flow, brand_a, system):
    instance = start_instance("example_activation", brand=brand_a, data={"amount": 150}, subject_id="API-1",
                              actor=system, at=clock.now())
    return HumanTask.objects.get(instance=instance)


def test_list_claim_and_complete_with_field_errors(task, api_for, brand_a):
    api = api_for("ada", {brand_a: ["workflows.view", "workflows.work"]})
    listing = api.get("/api/v1/workflows/tasks", desk="backoffice")
    assert listing.status_code == 200 and [t["id"] for t in listing.json()] == [task.pk]
    assert api.post(f"/api/v1/workflows/tasks/{task.pk}/claim").json()["state"] == "claimed"
    bad = api.post(f"/api/v1/workflows/tasks/{task.pk}/complete", {"data": {"channel": "fax"}})
    assert bad.status_code == 400 and "channel" in bad.content.decode()
    done = api.post(f"/api/v1/workflows/tasks/{task.pk}/complete", {"data": {"channel": "shop"}})
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert api.post("/api/v1/workflows/messages", {"name": "network_ack", "correlation": "API-1"}).json() == {
        "resumed": 1}


def test_brand_b_cannot_see_or_act_or_deliver(task, api_for, brand_b, system):
    create_desk(brand_b, "backoffice", "B office", actor=system, at=clock.now())
    api = api_for("bob", {brand_b: ["workflows.view", "workflows.work"]})
    assert api.get("/api/v1/workflows/tasks").json() == []
    assert api.get(f"/api/v1/workflows/tasks/{task.pk}").status_code == 404
    assert api.post(f"/api/v1/workflows/tasks/{task.pk}/complete", {"data": {"channel": "shop"}}).status_code == 404
    HumanTask.objects.filter(pk=task.pk).update(state="done")  # let the instance wait for its message
    FlowInstance.objects.filter(pk=task.instance_id).update(waiting_messages=["network_ack"])
    assert api.post("/api/v1/workflows/messages", {"name": "network_ack", "correlation": "API-1"}).json() == {
        "resumed": 0}


def test_view_only_cannot_act(task, api_for, brand_a):
    api = api_for("vic", {brand_a: ["workflows.view"]})
    assert api.get(f"/api/v1/workflows/tasks/{task.pk}").status_code == 200
    assert api.post(f"/api/v1/workflows/tasks/{task.pk}/claim").status_code == 403
    assert api.post("/api/v1/workflows/messages", {"name": "x", "correlation": "y"}).status_code == 403
