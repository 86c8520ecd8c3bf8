"""What rating makes of prepaid renewals: a bundle is held over its product instance's life less
the unpaid spans of its renewals (pure `held_spans`), and a top-up stands whatever a top-up hook
(billing's renewal retry) does."""

import datetime as dt
from decimal import Decimal

import pytest

from telora.core import clock
from telora.rating.services import balances
from telora.rating.services.context import held_spans

pytestmark = pytest.mark.usefixtures("nord_kept")

UTC = dt.UTC


def t(day, hour=0):
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def test_held_spans_leave_out_the_unpaid_time():
    assert held_spans(t(1), None, []) == [(t(1), None)]
    # skipped from the 1st to the 31st (a whole period), held again from then
    assert held_spans(t(1), None, [(t(1), t(31))]) == [(t(31), None)]
    # paid late on the 10th at noon, the instance on since before
    assert held_spans(t(1), t(31), [(t(5), t(10, 12))]) == [(t(1), t(5)), (t(10, 12), t(31))]
    # two gaps, given in any order; a gap after the end changes nothing
    assert held_spans(t(1), t(20), [(t(15), t(16)), (t(3), t(4)), (t(25), t(28))]) == [
        (t(1), t(3)), (t(4), t(15)), (t(16), t(20))]
    # a gap covering the whole life leaves nothing
    assert held_spans(t(2), t(9), [(t(1), t(10))]) == []


@pytest.mark.django_db
def test_a_failing_top_up_hook_leaves_the_top_up(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")

    def broken(subscription, *, actor, at):
        raise RuntimeError("hook broken")

    balances.register_topup_hook(broken)
    try:
        balances.top_up(sub, Decimal("10"), actor=system, at=clock.now())
    finally:
        balances._topup_hooks.remove(broken)
    assert balances.balance_of(sub) == Decimal("10")
