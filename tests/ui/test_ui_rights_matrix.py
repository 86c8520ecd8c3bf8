"""The GUI half of the rights matrix: a user of brand B holding only the users area."""

import pytest
from django.urls import reverse

from telora.core import clock
from telora.core.services.jobs import start_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user, make_role, brand_a, brand_b, partner_admin, system):
    """Brand A's objects (a user, a role, a job), and bea who manages users in brand B only."""
    return {
        "bea": partner_admin,
        "alpha_user": make_user("alf", {brand_a: ["users.view"]}),
        "alpha_role": make_role("Alpha clerks", ["users.view"], brand=brand_a),
        "alpha_job": start_job("audit_export", actor=system, at=clock.now(), brand=brand_a,
                               params={"brand_id": brand_a.pk}),
        "bravo_user": make_user("bob", {brand_b: ["users.view"]}),
    }


def test_menu_shows_the_users_area_alone(world, client_for):
    response = client_for(world["bea"]).get(reverse("ui:home"))
    assert [area.code for area in response.context["menu"]] == ["users"]
    html = response.content.decode()
    assert f'href="{reverse("ui:user_list")}"' in html
    for other in ("ui:audit_list", "ui:job_list", "ui:brand_list"):
        assert f'href="{reverse(other)}"' not in html


@pytest.mark.parametrize("url_name, key", [
    ("ui:user_detail", "alpha_user"),
    ("ui:user_edit", "alpha_user"),
    ("ui:user_set_password", "alpha_user"),
    ("ui:grant_add", "alpha_user"),
    ("ui:role_detail", "alpha_role"),
    ("ui:role_edit", "alpha_role"),
    ("ui:job_detail", "alpha_job"),
    ("ui:job_progress", "alpha_job"),
    ("ui:job_download", "alpha_job"),
])
def test_brand_a_objects_are_not_found(world, client_for, url_name, key):
    response = client_for(world["bea"]).get(reverse(url_name, args=[world[key].pk]))
    assert response.status_code == 404


def test_brand_a_objects_cannot_be_changed_by_post_either(world, client_for, brand_a):
    client = client_for(world["bea"])
    response = client.post(reverse("ui:user_edit", args=[world["alpha_user"].pk]), {"email": "x@example.test"})
    assert response.status_code == 404
    grant = world["alpha_user"].grants.get()
    assert client.post(reverse("ui:grant_remove", args=[grant.pk])).status_code == 404
    assert world["alpha_user"].grants.count() == 1


@pytest.mark.parametrize("url_name", ["ui:audit_list", "ui:job_list", "ui:brand_list", "ui:brand_create"])
def test_areas_it_lacks_are_forbidden(world, client_for, url_name):
    assert client_for(world["bea"]).get(reverse(url_name)).status_code == 403


def test_starting_a_job_is_forbidden_without_the_jobs_area(world, client_for):
    assert client_for(world["bea"]).post(reverse("ui:job_start_audit_export")).status_code == 403


def test_brand_pages_are_forbidden_even_for_its_own_brand(world, client_for, brand_b):
    assert client_for(world["bea"]).get(reverse("ui:brand_detail", args=[brand_b.pk])).status_code == 403
    assert client_for(world["bea"]).get(reverse("ui:brand_edit", args=[brand_b.pk])).status_code == 403


def test_its_own_area_works_and_shows_only_its_brand(world, client_for):
    client = client_for(world["bea"])
    listing = client.get(reverse("ui:user_list"))
    assert listing.status_code == 200
    assert {u.username for u in listing.context["object_list"]} == {"bea", "bob"}
    assert client.get(reverse("ui:user_detail", args=[world["bravo_user"].pk])).status_code == 200
    roles = client.get(reverse("ui:role_list")).context["object_list"]
    assert world["alpha_role"] not in roles


def test_the_area_is_judged_in_the_active_brand(make_user, client_for, brand_a, brand_b):
    # Users in A, nothing but audit in B: working in B, the users screens are forbidden.
    cat = make_user("cat", {brand_a: ["users.view"], brand_b: ["audit.view"]})
    client = client_for(cat, brand_b)
    assert client.get(reverse("ui:user_list")).status_code == 403
    assert client.get(reverse("ui:audit_list")).status_code == 200
