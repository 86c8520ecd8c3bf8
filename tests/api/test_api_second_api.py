"""A second API built with make_api (as the TM Forum APIs will be) shares auth, errors and docs.

The test mounts it under /tmf-api/… in a URLconf of its own, next to the main API.
"""

import pytest
from django.db import IntegrityError
from django.http import HttpResponse
from django.urls import path
from ninja import Query, Router

from telora.api.auth import principal
from telora.api.main import api, make_api
from telora.api.paging import Paging, page
from telora.core.models import Brand
from telora.core.services.actors import ServiceError

router = Router()


@router.get("/brand", response=list[str])
def list_brand_codes(request, response: HttpResponse, paging: Query[Paging]):
    brands = Brand.objects.for_user(principal(request)).order_by("code")
    return [b.code for b in page(brands, paging, response)]


@router.post("/conflict")
def conflict(request):
    raise ServiceError("That number is allocated already.", code="conflict")


@router.get("/integrity")
def integrity(request):
    raise IntegrityError("duplicate key value violates unique constraint")


@router.get("/crash")
def crash(request):
    raise RuntimeError("secret internals")


tmf_api = make_api(title="Test Management (TMF999)", version="4.0.0", urls_namespace="tmf-test")
tmf_api.add_router("", router)

urlpatterns = [
    path("api/", api.urls),
    path("tmf-api/testManagement/v4/", tmf_api.urls),
]

pytestmark = pytest.mark.urls(__name__)
BASE = "/tmf-api/testManagement/v4"


@pytest.fixture
def client(make_user, brand_a, brand_b, make_key, token_client):
    ann = make_user("ann", {brand_a: ["users.view"], brand_b: ["users.view"]})
    return token_client(make_key(ann, [brand_a, brand_b], ["users.view"])[1])


def test_it_uses_the_same_auth(db, anonymous, client):
    assert anonymous.get(f"{BASE}/brand").status_code == 401
    assert client.get(f"{BASE}/brand").json() == ["alpha", "bravo"]


def test_it_pages_the_same_way(client):
    response = client.get(f"{BASE}/brand", offset=1, limit=1)
    assert response.json() == ["bravo"]
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("2", "1")


def test_a_service_conflict_is_409(client):
    response = client.post(f"{BASE}/conflict")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["message"] == "That number is allocated already."


def test_an_integrity_error_is_409(client):
    response = client.get(f"{BASE}/integrity")
    assert (response.status_code, response.json()["status"]) == (409, "409")


def test_a_crash_is_a_500_that_hides_the_details(client, caplog):
    response = client.get(f"{BASE}/crash")
    assert response.status_code == 500
    body = response.json()
    assert (body["code"], body["status"]) == ("internal_error", "500")
    assert "secret" not in response.content.decode()
    assert response["X-Request-ID"] in body["message"]
    assert "secret internals" in caplog.text


def test_it_has_its_own_openapi_document_and_docs_page(db, anonymous):
    paths = anonymous.get(f"{BASE}/openapi.json").json()["paths"]
    assert set(paths) == {f"{BASE}/brand", f"{BASE}/conflict", f"{BASE}/integrity", f"{BASE}/crash"}
    docs = anonymous.get(f"{BASE}/docs")
    assert docs.status_code == 200
    assert f"{BASE}/docs/assets/swagger-ui-bundle.js" in docs.content.decode()
    assert anonymous.get(f"{BASE}/unknown").json()["code"] == "not_found"
