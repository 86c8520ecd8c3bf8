"""API keys in the GUI: the token is shown once and only its hash is stored."""

import datetime as dt
import hashlib

import pytest
from django.urls import reverse

from telora.core.models import ApiKey

pytestmark = pytest.mark.django_db


def create_key(client, user, brand, **extra):
    return client.post(reverse("ui:apikey_create"), {
        "user": user.pk, "name": "billing bridge", "brands": [brand.pk], "permissions": ["users.view"], **extra})


def test_token_is_shown_once_and_only_a_hash_is_stored(partner_admin, brand_b, client_for):
    client = client_for(partner_admin)
    response = create_key(client, partner_admin, brand_b)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.context["token"]
    assert token in response.content.decode()

    key = ApiKey.objects.get(name="billing bridge")
    _prefix, key_id, secret = token.split("_", 2)
    assert key.key_id == key_id
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key.secret_hash
    assert list(key.brands.all()) == [brand_b]

    # Nowhere to be seen again: not in the list, not in the session, not in messages.
    listing = client.get(reverse("ui:apikey_list")).content.decode()
    assert key.key_id in listing
    assert secret not in listing
    assert secret not in str(dict(client.session))


def test_key_for_a_managed_user_and_expiry(partner_admin, make_user, brand_b, client_for):
    bob = make_user("bob", {brand_b: ["users.view"]})
    response = create_key(client_for(partner_admin), bob, brand_b, expires_at="2031-01-31")
    assert response.status_code == 200
    key = ApiKey.objects.get(user=bob)
    # The key stops when 31 January begins in the brand's timezone (London: UTC in winter).
    assert key.expires_at == dt.datetime(2031, 1, 31, tzinfo=dt.UTC)


def test_keys_of_users_in_other_brands_cannot_be_made(partner_admin, make_user, brand_a, client_for):
    alf = make_user("alf", {brand_a: ["users.view"]})
    response = create_key(client_for(partner_admin), alf, brand_a)
    assert response.status_code == 200
    assert response.context["form"].errors["user"]
    assert not ApiKey.objects.filter(user=alf).exists()


def test_key_needs_a_brand_the_user_holds(partner_admin, make_user, brand_a, brand_b, client_for):
    make_user("both", {brand_a: ["users.view"], brand_b: ["users.view"]})  # makes brand A visible to nobody here
    response = create_key(client_for(partner_admin), partner_admin, brand_a)
    assert response.context["form"].errors["brands"]


def test_revoking_a_key(partner_admin, brand_b, client_for):
    client = client_for(partner_admin)
    create_key(client, partner_admin, brand_b)
    key = ApiKey.objects.get()
    response = client.post(reverse("ui:apikey_revoke", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked" in client.get(reverse("ui:apikey_list")).content.decode()


def test_keys_of_other_brands_users_are_out_of_reach(partner_admin, make_user, brand_a, client_for, system):
    from telora.core import clock
    from telora.core.services.users import create_api_key

    alf = make_user("alf", {brand_a: ["users.view"]})
    key, _token = create_api_key(actor=system, at=clock.now(), user=alf, name="alf's", brands=[brand_a],
                                 permissions=["users.view"])
    client = client_for(partner_admin)
    assert key not in client.get(reverse("ui:apikey_list")).context["object_list"]
    assert client.post(reverse("ui:apikey_revoke", args=[key.pk])).status_code == 404
