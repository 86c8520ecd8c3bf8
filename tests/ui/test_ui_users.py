"""Users, grants, passwords and roles through the GUI, with partner administrators kept in their brands."""

import pytest
from django.urls import reverse

from telora.core.models import AuditEvent, BrandGrant, Role, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "fresh-and-long-secret-31"


def test_editing_a_user_leaves_an_audit_event_with_old_and_new(partner_admin, make_user, brand_b, client_for):
    bob = make_user("bob", {brand_b: ["users.view"]})
    response = client_for(partner_admin).post(reverse("ui:user_edit", args=[bob.pk]), {
        "first_name": "Bob", "last_name": "", "email": "bob@bravo.example", "language": "", "default_brand": "",
        "is_active": "on",
    })
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.email == "bob@bravo.example"
    event = AuditEvent.objects.for_object(bob).filter(action="update").latest("at")
    assert event.actor_user == partner_admin
    assert event.changes["email"] == ["bob@example.test", "bob@bravo.example"]
    assert event.changes["first_name"] == ["", "Bob"]
    # ...and the user's page shows it in the History panel.
    page = client_for(partner_admin).get(reverse("ui:user_detail", args=[bob.pk])).content.decode()
    assert "bob@example.test" in page and "bob@bravo.example" in page


def test_user_list_filters_by_text_brand_and_status(admin_user, make_user, brand_a, brand_b, client_for):
    make_user("ann", {brand_a: ["users.view"]}, first_name="Ann", last_name="Smith")
    make_user("bob", {brand_b: ["users.view"]})
    carl = make_user("carl", {brand_b: ["users.view"]})
    User.objects.filter(pk=carl.pk).update(is_active=False)
    client = client_for(admin_user)

    def names(**params):
        return {u.username for u in client.get(reverse("ui:user_list"), params).context["object_list"]}

    assert names(q="ann smith") == {"ann"}
    assert names(brand=brand_b.pk) == {"bob", "carl"}
    assert names(brand=brand_b.pk, active="no") == {"carl"}
    assert names(active="yes") >= {"ann", "bob", "root"}


def test_user_list_answers_htmx_with_the_table_only(admin_user, client_for):
    response = client_for(admin_user).get(reverse("ui:user_list"), {"q": "root"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'data-testid="user-table"' in html
    assert "<html" not in html


def test_partner_admin_creates_a_user_in_own_brand(partner_admin, brand_b, make_role, client_for):
    clerk = make_role("Clerk", ["users.view"], brand=brand_b)
    response = client_for(partner_admin).post(reverse("ui:user_create"), {
        "username": "newbie", "first_name": "New", "last_name": "Bie", "email": "newbie@example.test",
        "password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "brand": brand_b.pk, "role": clerk.pk,
    })
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert response.url == reverse("ui:user_detail", args=[newbie.pk])
    assert newbie.check_password(NEW_PASSWORD)
    assert BrandGrant.objects.filter(user=newbie, brand=brand_b, role=clerk).exists()
    assert AuditEvent.objects.for_object(newbie).filter(action="create", actor_user=partner_admin).exists()


def test_partner_admin_cannot_create_in_another_brand_or_a_superuser(partner_admin, brand_a, make_role, client_for):
    alpha_role = make_role("Alpha clerk", ["users.view"], brand=brand_a)
    response = client_for(partner_admin).post(reverse("ui:user_create"), {
        "username": "sneaky", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
        "brand": brand_a.pk, "role": alpha_role.pk, "is_superuser": "on",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["brand"]  # brand A is not offered
    assert "is_superuser" not in response.context["form"].fields
    assert not User.objects.filter(username="sneaky").exists()


def test_service_errors_show_on_their_field(partner_admin, brand_b, make_role, client_for, make_user):
    make_user("taken", {brand_b: ["users.view"]})
    clerk = make_role("Clerk", ["users.view"], brand=brand_b)
    client = client_for(partner_admin)
    base = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "brand": brand_b.pk, "role": clerk.pk}
    taken = client.post(reverse("ui:user_create"), {**base, "username": "TAKEN"})
    assert "is taken" in taken.context["form"].errors["username"][0]
    weak = client.post(reverse("ui:user_create"), {**base, "username": "weak", "password": "123",
                                                   "password_again": "123"})
    assert weak.context["form"].errors["password"]


def test_partner_admin_cannot_hand_out_rights_it_lacks(partner_admin, brand_b, make_role, make_user, client_for):
    bob = make_user("bob", {brand_b: ["users.view"]})
    mighty = make_role("Mighty", ["users.view", "audit.view"], brand=brand_b)
    response = client_for(partner_admin).post(reverse("ui:grant_add", args=[bob.pk]),
                                              {"brand": brand_b.pk, "role": mighty.pk})
    assert response.status_code == 200
    assert "audit.view" in str(response.context["form"].errors)
    assert not BrandGrant.objects.filter(user=bob, role=mighty).exists()


def test_grants_are_added_and_removed(partner_admin, brand_b, make_role, make_user, client_for):
    bob = make_user("bob", {brand_b: ["users.view"]})
    extra = make_role("Extra", ["users.change"], brand=brand_b)
    client = client_for(partner_admin)
    response = client.post(reverse("ui:grant_add", args=[bob.pk]), {"brand": brand_b.pk, "role": extra.pk})
    assert response.status_code == 302
    grant = BrandGrant.objects.get(user=bob, role=extra)
    response = client.post(reverse("ui:grant_remove", args=[grant.pk]))
    assert response.status_code == 302
    assert not BrandGrant.objects.filter(pk=grant.pk).exists()
    actions = AuditEvent.objects.for_object(bob).filter(action__in=["grant", "revoke"]).values_list("action", flat=True)
    assert list(actions[:2]) == ["revoke", "grant"]


def test_user_without_grant_right_cannot_remove_grants(make_user, brand_b, client_for):
    viewer = make_user("vic", {brand_b: ["users.view", "users.change"]})
    bob = make_user("bob", {brand_b: ["users.view"]})
    grant = bob.grants.get()
    response = client_for(viewer).post(reverse("ui:grant_remove", args=[grant.pk]))
    assert response.status_code == 302
    assert BrandGrant.objects.filter(pk=grant.pk).exists()


def test_user_page_hides_grants_of_other_brands(partner_admin, make_user, brand_a, brand_b, client_for):
    both = make_user("both", {brand_a: ["audit.view"], brand_b: ["users.view"]})
    response = client_for(partner_admin).get(reverse("ui:user_detail", args=[both.pk]))
    assert {g.brand for g in response.context["grants"]} == {brand_b}
    assert "Alpha Mobile" not in response.content.decode()


def test_set_password_of_a_managed_user(partner_admin, make_user, brand_b, brand_a, client_for):
    bob = make_user("bob", {brand_b: ["users.view"]})
    client = client_for(partner_admin)
    response = client.post(reverse("ui:user_set_password", args=[bob.pk]),
                           {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.for_object(bob).filter(action="set_password", actor_user=partner_admin).exists()

    # A user who also works in brand A is not bea's alone to manage: the form is forbidden.
    shared = make_user("shared", {brand_a: ["users.view"], brand_b: ["users.view"]})
    assert client.get(reverse("ui:user_set_password", args=[shared.pk])).status_code == 200
    refused = client.post(reverse("ui:user_set_password", args=[shared.pk]),
                          {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors()
    shared.refresh_from_db()
    assert not shared.check_password(NEW_PASSWORD)


def test_viewer_without_change_gets_403_on_edit(make_user, brand_b, client_for):
    viewer = make_user("vic", {brand_b: ["users.view"]})
    bob = make_user("bob", {brand_b: ["users.view"]})
    client = client_for(viewer)
    assert client.get(reverse("ui:user_detail", args=[bob.pk])).status_code == 200
    assert client.get(reverse("ui:user_edit", args=[bob.pk])).status_code == 403
    assert client.get(reverse("ui:user_create")).status_code == 403


def test_admin_creates_a_system_administrator(admin_user, client_for):
    response = client_for(admin_user).post(reverse("ui:user_create"), {
        "username": "root2", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "is_superuser": "on"})
    assert response.status_code == 302
    assert User.objects.get(username="root2").is_superuser


# ---- roles -------------------------------------------------------------------------------


def test_role_created_from_the_matrix(partner_admin, brand_b, client_for):
    response = client_for(partner_admin).post(reverse("ui:role_create"), {
        "name": "Helpdesk", "brand": brand_b.pk, "description": "first line",
        "permissions": ["users.view", "users.change"],
    })
    assert response.status_code == 302
    role = Role.objects.get(name="Helpdesk")
    assert role.brand == brand_b
    assert role.permissions == ["users.change", "users.view"]


def test_role_edit_form_shows_the_matrix_and_saves(admin_user, make_role, brand_a, client_for):
    role = make_role("Auditors", ["audit.view"], brand=brand_a)
    client = client_for(admin_user)
    page = client.get(reverse("ui:role_edit", args=[role.pk])).content.decode()
    assert 'data-testid="permission-matrix"' in page
    assert 'value="audit.view" aria-label="audit.view" checked' in page
    assert 'value="brands.view"' not in page  # admin-only areas are not handed out through roles
    response = client.post(reverse("ui:role_edit", args=[role.pk]), {
        "name": "Auditors", "description": "", "permissions": ["audit.view", "jobs.view"]})
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.permissions == ["audit.view", "jobs.view"]
    event = AuditEvent.objects.for_object(role).get(action="update")
    assert event.changes["permissions"] == [["audit.view"], ["audit.view", "jobs.view"]]


def test_partner_admin_cannot_edit_platform_roles(partner_admin, make_role, client_for):
    platform = make_role("Everyone", ["users.view"])
    client = client_for(partner_admin)
    assert client.get(reverse("ui:role_detail", args=[platform.pk])).status_code == 200
    assert client.get(reverse("ui:role_edit", args=[platform.pk])).status_code == 403


def test_role_page_has_history(admin_user, make_role, brand_a, client_for):
    role = make_role("Auditors", ["audit.view"], brand=brand_a)
    page = client_for(admin_user).get(reverse("ui:role_detail", args=[role.pk])).content.decode()
    assert 'data-testid="history"' in page
    assert "create" in page
