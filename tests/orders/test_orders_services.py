"""Orders as services: gap-free numbers (also under concurrency), every account action an order,
future-dated orders started by the periodic runner, cancellation, failures kept with their reason."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction

from telora.core import clock
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.customers.models import ProductInstance
from telora.orders.models import Order
from telora.orders.services import cancel_order, create_order, run_due_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]  # the transactional test is last


def order(customer, actor, order_type, subscription=None, **values):
    return create_order(customer, actor=actor, at=clock.now(), order_type=order_type, subscription=subscription,
                        **values)


def test_a_plan_change_order_completes_at_once_and_keeps_its_log(ann, mobile, system):
    done = order(ann, system, "change_plan", mobile, items=[{"product_offering": "MOB_POST_10GB"}])
    assert done.state == "completed" and done.number.startswith("O")
    plans = ProductInstance.objects.filter(subscription=mobile, kind="plan").order_by("start_at", "id")
    assert [p.product.code for p in plans if p.end_at is None] == ["MOB_POST_10GB"]
    assert [e.kind for e in done.entries.all()] == ["created", "started", "step", "completed"]
    assert done.items.get().state == "completed"


def test_numbers_are_sequential_per_brand(ann, mobile, bob_line, system):
    first = order(ann, system, "suspend", mobile, items=[{"characteristics": {"reason": "lost"}}])
    second = order(ann, system, "resume", mobile)
    other = order(bob_line.customer, system, "suspend", bob_line)
    year = clock.localtime(clock.now(), ann.brand).year
    assert (first.number, second.number) == (f"O{year}000001", f"O{year}000002")
    assert other.number == f"O{year}000001"  # brand_b counts on its own


def test_a_refused_order_fails_with_its_reason_and_changes_nothing(ann, mobile, system):
    failed = order(ann, system, "change_plan", mobile, items=[{"product_offering": "MOB_POST_BASIC"}])
    assert failed.state == "failed" and "current plan already" in failed.state_reason
    assert failed.failure.field == "plan"
    assert failed.entries.filter(kind="failed").exists()
    assert ProductInstance.objects.filter(subscription=mobile, kind="plan", end_at__isnull=True).count() == 1


def test_bad_input_names_the_field(ann, mobile, system):
    with pytest.raises(ServiceError) as exc:
        order(ann, system, "teleport", mobile)
    assert exc.value.field == "order_type"
    with pytest.raises(ServiceError) as exc:
        order(ann, system, "change_plan", mobile, request_mode="date", requested_for=dt.date(2000, 1, 1))
    assert exc.value.field == "requested_for"
    with pytest.raises(ServiceError) as exc:
        order(ann, system, "swap_sim", mobile, request_mode="next_period")
    assert exc.value.field == "request_mode"
    with pytest.raises(ServiceError) as exc:
        order(ann, system, "suspend", mobile, items=[{"characteristics": {"reason": "x" * 5000}}])
    assert exc.value.field == "items[0].characteristics"
    assert not Order.objects.exists()  # a refused order takes no number


def test_a_future_dated_order_waits_and_runs_on_its_date(ann, mobile, system):
    start = clock.now()
    day = (clock.localtime(start, ann.brand) + dt.timedelta(days=3)).date()
    waiting = order(ann, system, "change_plan", mobile, items=[{"product_offering": "MOB_POST_10GB"}],
                    request_mode="date", requested_for=day)
    assert waiting.state == "acknowledged"
    assert run_due_orders(at=start + dt.timedelta(days=1)) == {"started": 0, "failed": 0}
    due = waiting.requested_at + dt.timedelta(minutes=1)
    with time_machine.travel(due, tick=False):
        assert run_due_orders(at=clock.now()) == {"started": 1, "failed": 0}
    waiting.refresh_from_db()
    assert waiting.state == "completed"
    new = ProductInstance.objects.get(subscription=mobile, kind="plan", end_at__isnull=True)
    assert (new.product.code, new.start_at) == ("MOB_POST_10GB", due)


def test_the_next_period_is_the_start_of_the_next_bill_period(ann, mobile, system):
    waiting = order(ann, system, "terminate", mobile, request_mode="next_period",
                    items=[{"characteristics": {"reason": "moving"}}])
    local = clock.localtime(waiting.requested_at, ann.brand)
    assert waiting.state == "acknowledged" and (local.hour, local.minute) == (0, 0)
    assert waiting.requested_at > clock.now()


def test_cancel_a_waiting_order_and_not_a_finished_one(ann, mobile, system, make_user):
    waiting = order(ann, system, "suspend", mobile, request_mode="date",
                    requested_for=clock.now() + dt.timedelta(days=2))
    clerk = make_user("clerk", {ann.brand: ["customers.view", "orders.view"]})
    with pytest.raises(PermissionDeniedError):
        cancel_order(waiting, actor=Actor(user=clerk), at=clock.now(), reason="asked")
    cancelled = cancel_order(waiting, actor=system, at=clock.now(), reason="the customer changed their mind")
    assert (cancelled.state, cancelled.state_reason) == ("cancelled", "the customer changed their mind")
    assert run_due_orders(at=clock.now() + dt.timedelta(days=3))["started"] == 0
    mobile.refresh_from_db()
    assert mobile.status == "active"
    with pytest.raises(ServiceError) as exc:
        cancel_order(cancelled, actor=system, at=clock.now())
    assert exc.value.field == "state"


def test_the_due_runner_follows_the_modules(ann, mobile, system, settings):
    waiting = order(ann, system, "suspend", mobile, request_mode="date",
                    requested_for=clock.now() + dt.timedelta(days=1))
    ann.brand.modules_off = ["orders"]
    ann.brand.save()
    from telora.core import modules
    modules._cache["at"] = 0.0
    assert run_due_orders(at=clock.now() + dt.timedelta(days=2))["started"] == 0
    ann.brand.modules_off = []
    ann.brand.save()
    modules._cache["at"] = 0.0
    assert run_due_orders(at=clock.now() + dt.timedelta(days=2))["started"] == 1
    waiting.refresh_from_db()
    assert waiting.state == "completed"


def test_notes_and_files_of_an_order(ann, mobile, system, shop, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from telora.customers import services as s
    from telora.orders.services import add_note, attach_file

    settings.MEDIA_ROOT = str(tmp_path)
    done = order(ann, system, "suspend", mobile)
    pdf = SimpleUploadedFile("form.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
                             content_type="application/pdf")
    kept = s.upload_customer_file(ann, pdf, actor=system, at=clock.now())
    attach_file(done, kept, actor=system, at=clock.now())
    assert list(done.files.values_list("file_id", flat=True)) == [kept.pk]
    other = s.create_customer(shop, actor=system, at=clock.now(), kind="private", first_name="Eve",
                              last_name="Other", email="eve@example.com", phone="")
    theirs = s.upload_customer_file(other, SimpleUploadedFile("id.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n",
                                                              content_type="application/pdf"),
                                    actor=system, at=clock.now())
    with pytest.raises(ServiceError) as exc:
        attach_file(done, theirs, actor=system, at=clock.now())
    assert exc.value.field == "file"
    with pytest.raises(ServiceError) as exc:
        add_note(done, actor=system, at=clock.now(), text="   ")
    assert exc.value.field == "text"
    add_note(done, actor=system, at=clock.now(), text="customer called")
    assert [e.kind for e in done.entries.all()][-2:] == ["file", "note"]


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_gap_free_under_concurrency(ann, mobile, system):
    """Eight threads take orders at once; one rolls back after taking its number. The numbers are
    1..7 with no gap and no repeat."""
    errors, barrier = [], threading.Barrier(8)

    def take(n):
        try:
            barrier.wait()
            if n == 3:
                with pytest.raises(RuntimeError), transaction.atomic():
                    order(ann, system, "resume", mobile, request_mode="date",
                          requested_for=clock.now() + dt.timedelta(days=1))
                    raise RuntimeError("rolled back")
            else:
                order(ann, system, "resume", mobile, request_mode="date",
                      requested_for=clock.now() + dt.timedelta(days=1))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(int(n[-6:]) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 8))
