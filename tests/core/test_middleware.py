"""Request context: the request id kept only when it is a plain short token; the client address behind proxies."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from telora.core.middleware import client_address
from telora.core.models import AuditEvent

PASSWORD = "a-login-secret-17"


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["x" * 65, "abc def", "=cmd|' /C calc'!A0", "id\u00e9", "a,b"])
def test_an_odd_request_id_is_replaced_and_writes_still_work(client, make_user, brand_a, given):
    """An id over 64 characters used to make every audited write fail with a 500."""
    ann = make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)
    client.force_login(ann)
    new = "a-much-better-secret-42"
    response = client.post(reverse("ui:password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
                           HTTP_X_REQUEST_ID=given)
    assert response.status_code == 302
    fresh = response["X-Request-ID"]
    assert fresh != given and re.fullmatch(r"[0-9a-f]{32}", fresh)
    assert AuditEvent.objects.for_object(ann).get(action="set_password").request_id == fresh


@pytest.mark.django_db
def test_a_plain_request_id_is_kept(client, make_user, brand_a):
    ann = make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)
    client.force_login(ann)
    given = "lb-01:2026-12-01T09.00.00_" + "a" * 38  # 64 characters
    response = client.get(reverse("ui:home"), HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] == given


def address(remote, forwarded=None, header="HTTP_X_FORWARDED_FOR"):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta[header] = forwarded
    return client_address(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.TELORA_TRUSTED_PROXIES = []
    assert address("203.0.113.9", "198.51.100.7") == "203.0.113.9"


def test_the_right_most_untrusted_address_of_a_trusted_proxys_chain(settings):
    settings.TELORA_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::1"]
    assert address("10.1.2.3", "1.2.3.4, 198.51.100.7, 10.0.0.9") == "198.51.100.7"
    assert address("2001:db8::1", "198.51.100.7:51234") == "198.51.100.7"
    assert address("10.1.2.3", "[2001:db8::7]:443, 10.9.9.9") == "2001:db8::7"
    # nothing usable in the header: the proxy's own address
    assert address("10.1.2.3") == "10.1.2.3"
    assert address("10.1.2.3", "not-an-address") == "10.1.2.3"
    assert address("10.1.2.3", "10.0.0.8") == "10.1.2.3"


def test_the_header_is_ignored_unless_the_peer_is_a_trusted_proxy(settings):
    settings.TELORA_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address("203.0.113.9", "198.51.100.7") == "203.0.113.9"


def test_the_configured_header_is_the_one_read(settings):
    settings.TELORA_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.TELORA_CLIENT_IP_HEADER = "X-Real-IP"
    assert address("127.0.0.1", "198.51.100.7", header="HTTP_X_REAL_IP") == "198.51.100.7"
    assert address("127.0.0.1", "198.51.100.7") == "127.0.0.1"
