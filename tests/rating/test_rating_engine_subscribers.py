"""Which subscription a record belongs to, and records that fail before any rate is looked up:
unknown subscriber, inactive subscription, duplicates, parse failures passed through."""

import datetime as dt
from decimal import Decimal

from rating_helpers import SUB, at, rate, rater_for, voice

from telora.rating.engine import (
    DUPLICATE,
    INACTIVE_SUBSCRIPTION,
    PARSE_ERROR,
    UNKNOWN_SUBSCRIBER,
    Ignored,
    NumberSpan,
    ParseFailure,
    SubscriberContext,
    SubscriberDirectory,
)

RATER = rater_for([rate("voice", "DK", "0.30", 60, (60, 60))])


def reasons(result):
    return [(f.record_id, f.reason) for f in result.failed]


def test_an_unknown_number_fails_unknown_subscriber():
    result = RATER.rate([voice("x", "4533123456", "2026-10-05 09:15", 60, a_number="4599999999")],
                        [SubscriberContext(1, "P", numbers=(SUB,))])
    assert reasons(result) == [("x", UNKNOWN_SUBSCRIBER)] and result.rated == []
    assert "4599999999" in result.failed[0].detail


def test_a_number_moved_between_subscriptions_is_rated_for_its_holder_then():
    moved = at("2026-10-10 00:00")
    contexts = [SubscriberContext(1, "P", numbers=(NumberSpan(SUB, valid_to=moved),)),
                SubscriberContext(2, "P", numbers=(NumberSpan(SUB, valid_from=moved),))]
    result = RATER.rate([voice("old", "4533123456", "2026-10-09 23:59", 60),
                         voice("new", "4533123456", "2026-10-10 00:00", 60)], contexts)
    assert [(r.record.record_id, r.subscription_id) for r in result.rated] == [("old", 1), ("new", 2)]


def test_terminated_or_not_yet_active_subscriptions_are_inactive():
    contexts = [SubscriberContext(1, "P", numbers=(SUB,), active_from=at("2026-10-02 00:00"),
                                  terminated_at=at("2026-10-20 00:00"))]
    result = RATER.rate([voice("early", "4533123456", "2026-10-01 12:00", 60),
                         voice("ok", "4533123456", "2026-10-05 12:00", 60),
                         voice("late", "4533123456", "2026-10-21 12:00", 60)], contexts)
    assert reasons(result) == [("early", INACTIVE_SUBSCRIPTION), ("late", INACTIVE_SUBSCRIPTION)]
    assert [r.record.record_id for r in result.rated] == ["ok"]


def test_a_number_released_by_a_terminated_subscription_is_inactive_not_unknown():
    ended = at("2026-10-20 00:00")
    contexts = [SubscriberContext(1, "P", numbers=(NumberSpan(SUB, valid_to=ended),), terminated_at=ended)]
    result = RATER.rate([voice("after", "4533123456", "2026-10-21 12:00", 60)], contexts)
    assert reasons(result) == [("after", INACTIVE_SUBSCRIPTION)]


def test_a_number_released_while_its_subscription_lives_on_is_unknown():
    contexts = [SubscriberContext(1, "P", numbers=(NumberSpan(SUB, valid_to=at("2026-10-20 00:00")),))]
    result = RATER.rate([voice("after", "4533123456", "2026-10-21 12:00", 60)], contexts)
    assert reasons(result) == [("after", UNKNOWN_SUBSCRIBER)]


def test_suspended_subscriptions_are_still_rated():
    # suspension is not the engine's business: a context without terminated_at is rated
    result = RATER.rate([voice("a", "4533123456", "2026-10-05 12:00", 60)], [SubscriberContext(1, "P", numbers=(SUB,))])
    assert result.rated[0].charge == Decimal("0.300000")


def test_the_same_record_id_twice_is_a_duplicate_and_charged_once():
    record = voice("nord-0001", "4533123456", "2026-10-05 09:15", 125)
    result = RATER.rate([record, record], [SubscriberContext(1, "P", numbers=(SUB,))])
    assert len(result.rated) == 1 and reasons(result) == [("nord-0001", DUPLICATE)]


def test_ids_seen_in_an_earlier_batch_are_duplicates():
    seen: set[str] = set()
    contexts = SubscriberDirectory([SubscriberContext(1, "P", numbers=(SUB,))])
    first = RATER.rate([voice("a", "4533123456", "2026-10-05 09:15", 60)], contexts, seen=seen)
    second = RATER.rate([voice("a", "4533123456", "2026-10-05 09:15", 60),
                         voice("b", "4533123456", "2026-10-05 09:16", 60)], contexts, seen=seen)
    assert len(first.rated) == 1 and reasons(second) == [("a", DUPLICATE)] and seen == {"a", "b"}


def test_parse_failures_and_ignored_records_pass_through():
    failure = ParseFailure(13, "start_time: 'not-a-time' is not ISO 8601", "nord-0011,voice,...", "nord-0011")
    ignored = Ignored(7, "locUpdateVLRRecord is not usage")
    result = RATER.rate([failure, ignored], [])
    assert [(f.record, f.reason) for f in result.failed] == [(failure, PARSE_ERROR)]
    assert result.failed[0].detail.startswith("start_time") and result.ignored == [ignored]


def test_subscriptions_without_a_rate_plan_fail_no_rate():
    result = RATER.rate([voice("a", "4533123456", "2026-10-05 12:00", 60)],
                        [SubscriberContext(1, "FIBER", numbers=(SUB,))])
    assert result.failed[0].reason == "NO_RATE" and "has no rate plan" in result.failed[0].detail


def test_the_context_can_name_its_rate_plan():
    result = RATER.rate([voice("a", "4533123456", "2026-10-05 12:00", 60)],
                        [SubscriberContext(1, "FIBER", numbers=(SUB,), rate_plan="PLAN")])
    assert result.rated[0].rate_plan == "PLAN"


def test_naive_times_in_a_context_are_refused():
    import pytest

    with pytest.raises(ValueError, match="no timezone"):
        SubscriberDirectory([SubscriberContext(1, "P", numbers=(NumberSpan(SUB, dt.datetime(2026, 1, 1)),))])
