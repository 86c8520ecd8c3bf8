"""Logging in and out, throttling, password change, home page, brand switch, errors pages."""

import pytest
from django.urls import reverse

from telora.core.middleware import SESSION_BRAND_KEY
from telora.core.models import AuditEvent, LoginAttempt

pytestmark = pytest.mark.django_db

PASSWORD = "a-login-secret-17"  # the users below are made with it


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("ui:user_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders_with_assets(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "vendor/tabler/tabler.min.css" in html
    assert "vendor/htmx/htmx.min.js" in html


def test_login_records_success_and_lands_home(client, make_user, brand_a):
    make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)
    response = log_in(client, "ann", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("ui:home")
    assert LoginAttempt.objects.filter(username="ann", succeeded=True).count() == 1
    home = client.get(reverse("ui:home"))
    assert home.status_code == 200
    assert "Alpha Mobile" in home.content.decode()


def test_logout_is_a_post(client_for, make_user, brand_a):
    client = client_for(make_user("ann", {brand_a: ["users.view"]}))
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(reverse("ui:home")).status_code == 302


def test_password_change_is_audited_and_keeps_the_session(client, make_user, brand_a):
    ann = make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)
    log_in(client, "ann", PASSWORD)
    new = "a-much-better-secret-42"
    response = client.post(reverse("ui:password_change"), {
        "old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert client.get(reverse("ui:home")).status_code == 200  # still logged in
    ann.refresh_from_db()
    assert ann.check_password(new)
    event = AuditEvent.objects.for_object(ann).get(action="set_password")
    assert event.actor_user == ann


def test_password_change_needs_the_old_password_and_a_good_new_one(client_for, make_user, brand_a):
    ann = make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)
    client = client_for(ann)
    wrong_old = client.post(reverse("ui:password_change"), {
        "old_password": "nope", "new_password1": "a-much-better-secret-42", "new_password2": "a-much-better-secret-42"})
    assert wrong_old.status_code == 200
    assert wrong_old.context["form"].errors["old_password"]
    too_short = client.post(reverse("ui:password_change"), {
        "old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assert too_short.status_code == 200
    assert too_short.context["form"].errors
    ann.refresh_from_db()
    assert ann.check_password(PASSWORD)


def test_home_shows_active_brand_and_areas(client_for, make_user, brand_a):
    ann = make_user("ann", {brand_a: ["users.view", "audit.view"]}, first_name="Ann")
    response = client_for(ann).get(reverse("ui:home"))
    html = response.content.decode()
    assert "Ann" in html
    assert response.context["active_brand"] == brand_a
    assert [a.code for a in response.context["areas"]] == ["users", "audit"]


def test_brand_switch_changes_active_brand_and_menu(client_for, make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["audit.view"], brand_b: ["users.view"]})  # alpha comes first
    client = client_for(ann)
    assert [a.code for a in client.get(reverse("ui:home")).context["menu"]] == ["audit"]

    response = client.post(reverse("ui:switch_brand"), {"brand": brand_b.pk, "next": reverse("ui:home")})
    assert response.status_code == 302
    assert client.session[SESSION_BRAND_KEY] == brand_b.pk
    home = client.get(reverse("ui:home"))
    assert home.context["active_brand"] == brand_b
    assert [a.code for a in home.context["menu"]] == ["users"]


def test_brand_switch_refuses_a_brand_not_held(client_for, make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["users.view"]})
    client = client_for(ann)
    response = client.post(reverse("ui:switch_brand"), {"brand": brand_b.pk})
    assert response.status_code == 404
    assert client.session.get(SESSION_BRAND_KEY) != brand_b.pk
    assert client.get(reverse("ui:home")).context["active_brand"] == brand_a
    assert client.post(reverse("ui:switch_brand"), {"brand": "nonsense"}).status_code == 404


def test_brand_switch_leaves_a_page_the_new_brand_does_not_open(client_for, make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["audit.view"], brand_b: ["users.view"]})  # alpha comes first
    client = client_for(ann, brand_a)
    response = client.post(reverse("ui:switch_brand"), {"brand": brand_b.pk, "next": reverse("ui:audit_list")})
    assert response.url == reverse("ui:home")
    response = client.post(reverse("ui:switch_brand"), {"brand": brand_a.pk, "next": reverse("ui:audit_list")})
    assert response.url == reverse("ui:audit_list")


def test_brand_switch_ignores_foreign_next(client_for, make_user, brand_a):
    client = client_for(make_user("ann", {brand_a: ["users.view"]}))
    response = client.post(reverse("ui:switch_brand"), {"brand": brand_a.pk, "next": "https://evil.example/"})
    assert response.url == reverse("ui:home")


def test_header_carries_brand_colour_csrf_for_htmx_and_messages(client_for, make_user, make_brand):
    brand = make_brand("gamma", primary_colour="#0a7d5a")
    client = client_for(make_user("ann", {brand: ["users.view"]}))
    client.post(reverse("ui:switch_brand"), {"brand": brand.pk})
    html = client.get(reverse("ui:home")).content.decode()
    assert "--tblr-primary: #0a7d5a" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "You now work in Gamma" in html  # the switch's message, shown as an alert


def test_error_pages_use_the_shell(client_for, make_user, brand_a):
    client = client_for(make_user("ann", {brand_a: ["users.view"]}))
    forbidden = client.get(reverse("ui:audit_list"))
    assert forbidden.status_code == 403
    assert "Your role does not include this screen" in forbidden.content.decode()
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    assert 'data-testid="main-menu"' in missing.content.decode()


def test_htmx_request_after_logout_redirects_the_whole_page(client):
    response = client.get(reverse("ui:search"), {"q": "ann"},
                          headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/users/?q=a"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + "?next=%2Fusers%2F%3Fq%3Da"
