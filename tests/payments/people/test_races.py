"""Real concurrency against PostgreSQL: a cancel racing an approval, scheduler runs racing each other,
and workers raising the same alert at once."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from payments.models import Alert, InboxItem, LedgerAccount, LedgerEntry, OutboxMessage, Payout, PayoutSchedule
from payments.selectors.ledger import ledger_violations
from payments.services.alerts import alert_raise
from payments.services.payouts import (
    PayoutError,
    payout_approve,
    payout_cancel,
    payout_request,
    payout_schedule_set,
    payouts_create_due,
)
from payments.services.settlement import earnings_settle_due
from tests.concurrency import run_at_once
from tests.factories import CourseFactory, CreatorFactory, UserFactory
from tests.payments.ledger.helpers import balance, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Kind = LedgerAccount.Kind


def settled_earnings(creator, *, sales=2):
    course = CourseFactory(creator=creator, price_fen=10000)
    for _ in range(sales):
        sell(course, days_ago=9)
    earnings_settle_due()


def test_a_cancel_racing_an_approval_either_wins_and_the_money_moves_once(creator, staff, transfer_gateway, settings):
    settings.PAYOUT_MIN_FEN = 10000
    settled_earnings(creator)
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=10000)

    def work(i):
        if i == 0:
            return payout_cancel(payout=payout, creator=creator)
        return payout_approve(payout=payout, staff=staff)

    results = run_at_once(2, work)

    refusals = [r for r in results if not isinstance(r, Payout)]
    assert len(refusals) == 1, results
    assert isinstance(refusals[0], PayoutError), results
    assert refusals[0].code == "decided"
    final = Payout.objects.get(pk=payout.pk)
    releases = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYOUT_RELEASE, payout=payout).count()
    if final.status == Payout.Status.CANCELLED:
        assert releases == 1
        assert balance(creator, Kind.CREATOR_AVAILABLE) == 18000
    else:
        assert final.status in (Payout.Status.SENDING, Payout.Status.PAID)
        assert releases == 0
    assert ledger_violations() == []


def test_many_cancels_and_approvals_of_different_payouts_keep_the_books(transfer_gateway, settings):
    """Different creators' payouts, each raced by its creator's cancel and a staff approval."""
    settings.PAYOUT_MIN_FEN = 10000
    staff = UserFactory(is_staff=True)
    creators = [CreatorFactory() for _ in range(3)]
    payouts = []
    for creator in creators:
        settled_earnings(creator)
        payouts.append(payout_request(creator=creator, requested_by=creator, amount_fen=18000))

    def work(i):
        payout = payouts[i // 2]
        if i % 2:
            return payout_cancel(payout=payout, creator=creators[i // 2])
        return payout_approve(payout=payout, staff=staff)

    results = run_at_once(6, work)

    assert sum(isinstance(r, Payout) for r in results) == 3, results
    for payout in payouts:
        status = Payout.objects.get(pk=payout.pk).status
        assert status in (Payout.Status.CANCELLED, Payout.Status.SENDING, Payout.Status.PAID)
    assert ledger_violations() == []


def test_scheduler_runs_at_once_create_one_payout_per_creator_and_period(settings):
    settings.PAYOUT_MIN_FEN = 10000
    creators = [CreatorFactory() for _ in range(3)]
    for creator in creators:
        settled_earnings(creator)
        schedule = payout_schedule_set(creator=creator, frequency="weekly", threshold_fen=10000)
        PayoutSchedule.objects.filter(pk=schedule.pk).update(active_since=dt.date(2020, 1, 1))

    results = run_at_once(4, lambda i: payouts_create_due())

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 3
    for creator in creators:
        payout = Payout.objects.get(creator=creator)
        assert payout.amount_fen == 18000
        assert balance(creator, Kind.CREATOR_IN_TRANSIT) == 18000
    assert ledger_violations() == []


def test_a_scheduled_payout_racing_a_payout_asked_by_hand_never_reserves_more_than_is_available(creator, settings):
    settings.PAYOUT_MIN_FEN = 10000
    settled_earnings(creator, sales=2)  # ¥180.00
    schedule = payout_schedule_set(creator=creator, frequency="weekly", threshold_fen=10000)
    PayoutSchedule.objects.filter(pk=schedule.pk).update(active_since=dt.date(2020, 1, 1))

    def work(i):
        if i == 0:
            return payouts_create_due()
        return payout_request(creator=creator, requested_by=creator, amount_fen=10000)

    run_at_once(2, work)

    assert balance(creator, Kind.CREATOR_AVAILABLE) >= 0
    assert balance(creator, Kind.CREATOR_AVAILABLE) + balance(creator, Kind.CREATOR_IN_TRANSIT) == 18000
    assert ledger_violations() == []


def test_workers_raising_the_same_incident_at_once_open_it_once(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get_or_create(name="Finance")[0])

    results = run_at_once(
        6, lambda i: alert_raise(kind="circuit_open", incident_key="circuit_open:alipay.query", subject="open")
    )

    assert all(isinstance(r, Alert) for r in results), results
    alert = Alert.objects.get()
    assert (alert.status, alert.occurrences) == ("open", 6)
    assert InboxItem.objects.filter(user=finance).count() == 1
    assert OutboxMessage.objects.filter(topic="alert").count() == 2  # ops, and the Finance member


def test_workers_raising_different_incidents_at_once_open_each(settings):
    settings.ADMINS = []

    run_at_once(4, lambda i: alert_raise(kind="circuit_open", incident_key=f"circuit_open:c{i % 2}", subject="x"))

    assert sorted(Alert.objects.values_list("incident_key", "occurrences")) == [
        ("circuit_open:c0", 2),
        ("circuit_open:c1", 2),
    ]
