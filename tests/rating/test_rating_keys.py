"""Claiming record keys: new ids are claimed, ids taken before are reported as duplicates, an id
claimed by another transaction at the same moment is never claimed twice, and keys older than the
operator's window (TELORA_USAGE_KEY_DAYS) are forgotten at night, none when it is unset."""

import datetime as dt
import threading
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection, connections, transaction

from telora.rating.models import UsageKey
from telora.rating.services.storage import claim_keys, forget_keys, release_keys


def _batch(brand, source="msc"):
    return SimpleNamespace(brand_id=brand.pk, file=SimpleNamespace(source=source))


@pytest.mark.django_db
def test_claim_reports_only_new_ids_and_release_gives_them_back(brand_a):
    batch = _batch(brand_a)
    assert claim_keys(batch, ["a", "b", "a"]) == {"a", "b"}  # one id twice in a batch is claimed once
    assert claim_keys(batch, ["b", "c"]) == {"c"}
    assert claim_keys(_batch(brand_a, "other"), ["b"]) == {"b"}  # keys are per source
    release_keys(batch, {"c"})
    assert sorted(UsageKey.objects.filter(source="msc").values_list("record_id", flat=True)) == ["a", "b"]
    assert claim_keys(batch, ["x\x1fy", "b"]) == {"x\x1fy"}  # an id holding the separator travels as an array


@pytest.mark.django_db(transaction=True)
def test_an_id_claimed_meanwhile_by_another_transaction_is_not_claimed_again(brand_a):
    batch = _batch(brand_a)
    claimed_first = threading.Event()
    release_first = threading.Event()
    results = {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = claim_keys(batch, ["shared"])
                claimed_first.set()
                release_first.wait(30)
        finally:
            connections.close_all()

    def second():
        try:
            claimed_first.wait(30)
            with transaction.atomic():
                results["second"] = claim_keys(batch, ["shared", "own"])  # waits for the first to commit
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    claimed_first.wait(30)
    threading.Timer(0.5, release_first.set).start()
    for thread in threads:
        thread.join(60)
    assert results == {"first": {"shared"}, "second": {"own"}}
    with connection.cursor() as cursor:
        cursor.execute("SELECT record_id, count(*) FROM rating_usagekey GROUP BY record_id ORDER BY record_id")
        assert cursor.fetchall() == [("own", 1), ("shared", 1)]


@pytest.mark.django_db
def test_keys_older_than_the_window_are_forgotten_and_none_without_one(brand_a, settings):
    batch = _batch(brand_a)
    with time_machine.travel(dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC), tick=False):
        claim_keys(batch, ["old"])
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        claim_keys(batch, ["recent"])
    with time_machine.travel(dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC), tick=False):
        assert dict(UsageKey.objects.values_list("record_id", "claimed_on")) == {
            "old": dt.date(2026, 1, 10), "recent": dt.date(2026, 3, 1)}
        settings.TELORA_USAGE_KEY_DAYS = None
        assert forget_keys() == 0 and UsageKey.objects.count() == 2  # unset: kept forever
        settings.TELORA_USAGE_KEY_DAYS = 30
        assert forget_keys(chunk=1) == 1  # claimed 69 days ago; a chunk at a time
        assert list(UsageKey.objects.values_list("record_id", flat=True)) == ["recent"]
        assert claim_keys(batch, ["old", "recent"]) == {"old"}  # a forgotten key can be charged again
        assert forget_keys(days=10) == 1  # "recent" (19 days) goes with a shorter window, "old" was claimed today


def test_forgetting_keys_is_a_nightly_task():
    from procrastinate.contrib.django import app

    assert any(p.task.name == "telora.rating.forget_keys" and p.cron == "37 3 * * *"
               for p in app.periodic_registry.periodic_tasks.values())
