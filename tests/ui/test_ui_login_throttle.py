"""Login throttling: per user name and client address with growing delays, a per-address limit,
and the client address taken from a trusted proxy's header only."""

import datetime as dt

import pytest
from django.urls import reverse

from telora.core.models import LoginAttempt

pytestmark = pytest.mark.django_db

PASSWORD = "a-login-secret-17"
ATTACKER = "203.0.113.9"
HOME = "198.51.100.7"
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def ann(make_user, brand_a):
    return make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)


def log_in(client, username, password, address, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address,
                       **headers)


def test_right_password_works_from_another_address_while_an_attacker_is_throttled(client, ann, frozen):
    for _ in range(20):
        log_in(client, "ann", "guess", ATTACKER)
    refused = log_in(client, "ann", PASSWORD, ATTACKER)
    assert refused.status_code == 429  # from the attacker's address even the right password waits
    assert "_auth_user_id" not in client.session

    response = log_in(client, "ann", PASSWORD, HOME)
    assert response.status_code == 302
    assert LoginAttempt.objects.filter(username="ann", address=HOME, succeeded=True).exists()
    # ann's success does not wipe the attacker's record
    assert LoginAttempt.objects.filter(username="ann", address=ATTACKER, succeeded=False).exists()


def test_delays_grow_after_the_free_failures_and_are_capped(client, ann, frozen, settings):
    settings.LOGIN_THROTTLE_FREE_FAILURES = 3
    settings.LOGIN_THROTTLE_MAX_DELAY_SECONDS = 8
    for _ in range(3):
        assert log_in(client, "ann", "guess", ATTACKER).status_code == 200
    waits = []
    for _ in range(4):
        response = log_in(client, "ann", "guess", ATTACKER)
        assert response.status_code == 429
        waits.append(int(response["Retry-After"]))
        assert (f"Too many failed log-ins for this user name from your address. Try again in {waits[-1]} seconds"
                in response.content.decode())
        frozen.shift(waits[-1] - 1)
        assert log_in(client, "ann", "guess", ATTACKER).status_code == 429  # one second early
        frozen.shift(1)
        assert log_in(client, "ann", "guess", ATTACKER).status_code == 200  # a real try again, which failed
    assert waits == [2, 4, 8, 8]
    # throttled tries are refused without checking the password and are not counted
    assert LoginAttempt.objects.filter(username="ann", succeeded=False).count() == 7


def test_failures_leave_the_window_and_a_success_clears_them(client, ann, frozen, settings):
    for _ in range(settings.LOGIN_THROTTLE_FREE_FAILURES + 2):
        log_in(client, "ann", "guess", HOME)
    assert log_in(client, "ann", PASSWORD, HOME).status_code == 429
    frozen.shift(settings.LOGIN_THROTTLE_WINDOW_SECONDS + 1)
    assert log_in(client, "ann", PASSWORD, HOME).status_code == 302
    assert not LoginAttempt.objects.filter(username="ann", address=HOME, succeeded=False).exists()


def test_one_address_trying_many_names_is_limited(client, make_user, brand_a, frozen, settings):
    settings.LOGIN_THROTTLE_MAX_PER_ADDRESS = 6
    make_user("zoe", {brand_a: ["users.view"]}, password=PASSWORD)
    for n in range(6):
        assert log_in(client, f"user{n}", "guess", ATTACKER).status_code == 200
    response = log_in(client, "zoe", PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert "Too many failed log-ins from your address" in response.content.decode()
    assert log_in(client, "zoe", PASSWORD, HOME).status_code == 302  # zoe elsewhere is not held back
    frozen.shift(settings.LOGIN_THROTTLE_WINDOW_SECONDS + 1)
    client.post(reverse("logout"))
    assert log_in(client, "zoe", PASSWORD, ATTACKER).status_code == 302


def test_a_trusted_proxys_header_names_the_client(client, ann, frozen, settings):
    settings.TELORA_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.TELORA_CLIENT_IP_HEADER = "X-Forwarded-For"
    for _ in range(settings.LOGIN_THROTTLE_FREE_FAILURES + 1):
        log_in(client, "ann", "guess", "10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.1, {ATTACKER}, 10.0.0.9")
    assert set(LoginAttempt.objects.values_list("address", flat=True)) == {ATTACKER}
    # the attacker is throttled, ann behind the same proxy is not
    assert log_in(client, "ann", PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert log_in(client, "ann", PASSWORD, "10.0.0.2", HTTP_X_FORWARDED_FOR=HOME).status_code == 302


def test_the_header_is_ignored_from_an_untrusted_peer(client, ann, frozen, settings):
    settings.TELORA_TRUSTED_PROXIES = ["10.0.0.0/8"]
    for n in range(settings.LOGIN_THROTTLE_FREE_FAILURES + 1):
        log_in(client, "ann", "guess", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert set(LoginAttempt.objects.values_list("address", flat=True)) == {ATTACKER}
    # changing the header does not get the attacker a fresh address
    assert log_in(client, "ann", PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR=HOME).status_code == 429
