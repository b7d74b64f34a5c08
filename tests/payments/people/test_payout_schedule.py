"""Payouts on a schedule: weekly or monthly, above the creator's threshold, one per creator and period,
through the same reservation and approval as a payout asked for by hand."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import LedgerAccount, Payout, PayoutSchedule
from payments.selectors.ledger import ledger_violations
from payments.selectors.payouts import payout_schedule_next
from payments.services.payouts import (
    PayoutError,
    payout_approve,
    payout_cancel,
    payout_create_scheduled,
    payout_schedule_set,
    payouts_create_due,
)
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory
from tests.payments.ledger.helpers import balance, sell

pytestmark = pytest.mark.django_db

Kind = LedgerAccount.Kind
# A Monday and the Wednesday after it, at 10:00 Beijing time.
MONDAY = timezone.make_aware(dt.datetime(2026, 11, 30, 10, 0))
WEDNESDAY = MONDAY + dt.timedelta(days=2)
A_WEEK_BEFORE = MONDAY.date() - dt.timedelta(days=7)


@pytest.fixture(autouse=True)
def _wednesday(settings):
    settings.PAYOUT_MIN_FEN = 10000
    with time_machine.travel(WEDNESDAY, tick=False):
        yield


@pytest.fixture
def available(creator):
    """¥180.00 available: two settled sales of ¥100.00 less the 10% fee."""
    course = CourseFactory(creator=creator, price_fen=10000)
    sell(course, days_ago=9)
    sell(course, days_ago=8)
    earnings_settle_due()


def weekly(creator, *, threshold_fen=10000, since=A_WEEK_BEFORE):
    schedule = payout_schedule_set(creator=creator, frequency="weekly", threshold_fen=threshold_fen)
    PayoutSchedule.objects.filter(pk=schedule.pk).update(active_since=since)
    return schedule


def test_a_due_weekly_payout_withdraws_everything_available(available, creator):
    weekly(creator)

    created = payouts_create_due(now=MONDAY)

    payout = Payout.objects.get()
    assert created == 1
    assert (payout.origin, payout.period, payout.status) == ("scheduled", "2026-W49", "requested")
    assert payout.amount_fen == 18000
    assert sum(a.amount_fen for a in payout.allocations.all()) == 18000
    assert (balance(creator, Kind.CREATOR_AVAILABLE), balance(creator, Kind.CREATOR_IN_TRANSIT)) == (0, 18000)
    assert ledger_violations() == []


def test_the_scheduler_run_twice_in_a_period_creates_one_payout(available, creator):
    weekly(creator)

    runs = [payouts_create_due(now=MONDAY), payouts_create_due(now=WEDNESDAY)]

    assert runs == [1, 0]
    assert Payout.objects.count() == 1


def test_a_period_whose_payout_was_cancelled_gets_no_second_one(available, creator):
    weekly(creator)
    payouts_create_due(now=MONDAY)
    payout_cancel(payout=Payout.objects.get(), creator=creator)

    with pytest.raises(PayoutError, match="exists already"):
        payout_create_scheduled(creator=creator, period="2026-W49", amount_fen=10000)

    assert Payout.objects.count() == 1
    assert payouts_create_due(now=WEDNESDAY) == 0


def test_the_database_allows_one_payout_per_creator_and_period(creator):
    Payout.objects.create(payout_no="PO1", creator=creator, amount_fen=100, origin="scheduled", period="2026-W49")

    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(payout_no="PO2", creator=creator, amount_fen=100, origin="scheduled", period="2026-W49")


def test_no_payout_below_the_creators_threshold(available, creator):
    weekly(creator, threshold_fen=20000)

    assert payouts_create_due(now=MONDAY) == 0
    assert not Payout.objects.exists()


def test_a_schedule_turned_on_mid_week_starts_the_next_week(available, creator):
    weekly(creator, since=WEDNESDAY.date())

    assert payouts_create_due(now=WEDNESDAY) == 0
    assert payouts_create_due(now=MONDAY + dt.timedelta(days=7)) == 1
    assert Payout.objects.get().period == "2026-W50"


def test_monthly_payouts_are_paid_once_a_month(available, creator):
    schedule = payout_schedule_set(creator=creator, frequency="monthly", threshold_fen=10000)
    PayoutSchedule.objects.filter(pk=schedule.pk).update(active_since=dt.date(2026, 11, 1))
    first_of_december = timezone.make_aware(dt.datetime(2026, 12, 1, 9, 0))

    assert payouts_create_due(now=first_of_december) == 1
    assert payouts_create_due(now=first_of_december + dt.timedelta(days=3)) == 0
    assert Payout.objects.get().period == "2026-12"


def test_creators_who_ask_by_hand_get_no_automatic_payout(available, creator):
    payout_schedule_set(creator=creator, frequency="off", threshold_fen=10000)

    assert payouts_create_due(now=MONDAY) == 0


def test_a_scheduled_payout_waits_for_staff_like_any_other(available, creator, staff, transfer_gateway):
    weekly(creator)
    payouts_create_due(now=MONDAY)
    payout = Payout.objects.get()

    assert payout.status == Payout.Status.REQUESTED
    payout_approve(payout=payout, staff=staff)
    assert Payout.objects.get().status in (Payout.Status.SENDING, Payout.Status.PAID)


def test_a_threshold_below_the_minimum_payout_is_refused(creator):
    with pytest.raises(PayoutError, match=r"at least ¥100\.00"):
        payout_schedule_set(creator=creator, frequency="weekly", threshold_fen=9999)

    assert not PayoutSchedule.objects.exists()


def test_only_creators_have_a_payout_schedule(learner):
    with pytest.raises(PayoutError):
        payout_schedule_set(creator=learner, frequency="weekly", threshold_fen=10000)


def test_the_next_payout_is_next_monday_with_what_is_available_by_then(available, creator):
    weekly(creator)
    payouts_create_due(now=MONDAY)
    course = CourseFactory(creator=creator, price_fen=5000)
    sell(course, days_ago=3)  # ¥45.00 on hold until next Sunday: available by next Monday
    sell(course, days_ago=1)  # on hold until next Tuesday

    upcoming = payout_schedule_next(schedule=PayoutSchedule.objects.get(), now=WEDNESDAY)

    assert upcoming.on == dt.date(2026, 12, 7)
    assert upcoming.amount_fen == 4500
    assert upcoming.below_threshold


def test_the_next_payout_is_today_while_this_periods_is_still_due(available, creator):
    weekly(creator)

    upcoming = payout_schedule_next(schedule=PayoutSchedule.objects.get(), now=MONDAY)

    assert (upcoming.on, upcoming.amount_fen, upcoming.below_threshold) == (MONDAY.date(), 18000, False)


def test_the_dashboard_shows_the_next_payout_date_and_amount(client, available, creator):
    weekly(creator)
    client.force_login(creator)

    page = client.get("/earnings/").content.decode()

    assert 'data-figure="next_payout_amount">¥180.00' in page
    assert 'data-figure="next_payout_on"' in page


def test_the_creator_chooses_a_schedule_on_the_dashboard(client, creator):
    client.force_login(creator)

    response = client.post("/earnings/schedule/", {"frequency": "monthly", "threshold": "250.00"})

    assert response.status_code == 302
    schedule = PayoutSchedule.objects.get(creator=creator)
    assert (schedule.frequency, schedule.threshold_fen) == ("monthly", 25000)


def test_a_bad_schedule_is_refused_with_a_message_and_changes_nothing(client, creator):
    client.force_login(creator)

    response = client.post("/earnings/schedule/", {"frequency": "daily", "threshold": "-1"}, follow=True)

    assert response.status_code == 200
    assert not PayoutSchedule.objects.exists()
