"""Real concurrency against PostgreSQL: threads released together, then assertions on balances and rows."""

import pytest

from payments.gateways.base import RefundEvent, RefundStatus
from payments.models import LedgerAccount, LedgerEntry, Order, Payment, Payout
from payments.selectors.ledger import ledger_violations
from payments.services.payouts import PayoutError, payout_request
from payments.services.refunds import RefundError, refund_event_apply, refund_issue
from payments.services.settlement import earnings_settle_due
from tests.concurrency import run_at_once
from tests.factories import CourseFactory, CreatorFactory, PaymentFactory
from tests.payments.ledger.helpers import balance, pay, refund_succeed, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Kind = LedgerAccount.Kind


@pytest.fixture(autouse=True)
def _gateway_unreachable(settings):
    # Refunds are sent to the gateway after commit; here the tests answer for the gateway instead.
    settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"


def test_concurrent_payout_requests_never_reserve_more_than_is_available(creator):
    course = CourseFactory(creator=creator, price_fen=10000)
    for _ in range(5):
        sell(course, days_ago=8)
    earnings_settle_due()  # 5 x 90 yuan available

    results = run_at_once(10, lambda i: payout_request(creator=creator, requested_by=creator, amount_fen=10000))

    assert sum(isinstance(r, Payout) for r in results) == 4
    refusals = [r for r in results if not isinstance(r, Payout)]
    assert all(isinstance(r, PayoutError) and r.code == "exceeds_available" for r in refusals), refusals
    assert (balance(creator, Kind.CREATOR_AVAILABLE), balance(creator, Kind.CREATOR_IN_TRANSIT)) == (5000, 40000)
    assert LedgerAccount.objects.get(creator=creator, kind=Kind.CREATOR_AVAILABLE).balance_fen == 5000
    assert ledger_violations() == []


def test_concurrent_refunds_never_refund_more_than_was_paid(creator):
    staff = CreatorFactory(is_staff=True)
    payment = sell(CourseFactory(creator=creator, price_fen=1290))

    def refund_500_until_refused(i):
        refunded = []
        for _ in range(200):
            order = Order.objects.get(pk=payment.order_id)
            try:
                refunded.append(refund_succeed(refund_issue(order=order, staff=staff, amount_fen=500, reason="race")))
            except RefundError as exc:
                if exc.code != "in_flight":  # another thread's refund is at the gateway: try again
                    return refunded
        raise AssertionError("never refused")

    results = run_at_once(10, refund_500_until_refused)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(len(r) for r in results) == 2  # a third 500 would exceed the 1290 paid
    payment.refresh_from_db()
    assert payment.refunded_fen == 1000
    refund_lines = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND, payment=payment)
    assert -sum(e.lines.get(account__kind=Kind.GATEWAY_CLEARING).amount_fen for e in refund_lines) == 1000
    assert ledger_violations() == []


def test_the_same_refund_confirmed_many_times_at_once_is_posted_once(creator):
    staff = CreatorFactory(is_staff=True)
    payment = sell(CourseFactory(creator=creator, price_fen=1290))
    refund = refund_issue(order=payment.order, staff=staff, amount_fen=1290, reason="race")
    event = RefundEvent(
        out_trade_no=payment.out_trade_no,
        out_refund_no=refund.refund_no,
        status=RefundStatus.SUCCEEDED,
        refund_fen=1290,
    )

    results = run_at_once(20, lambda i: refund_event_apply(channel="sandbox", event=event))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert LedgerEntry.objects.filter(refund=refund).count() == 1
    assert balance(creator, Kind.CREATOR_PENDING) == 0
    assert ledger_violations() == []


def test_settlement_racing_refunds_takes_each_refund_from_the_right_balance(creator):
    staff = CreatorFactory(is_staff=True)
    course = CourseFactory(creator=creator, price_fen=10000)
    payments = [sell(course, days_ago=8) for _ in range(4)]

    def work(i):
        if i == 0:
            return earnings_settle_due()
        order = Order.objects.get(pk=payments[i - 1].order_id)
        return refund_succeed(refund_issue(order=order, staff=staff, amount_fen=3000, reason="race"))

    results = run_at_once(5, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0] == 4
    # Whichever came first for each sale, its refund was taken from where its money was at that moment.
    assert balance(creator, Kind.CREATOR_PENDING) == 0
    assert balance(creator, Kind.CREATOR_AVAILABLE) == 4 * 9000 - 4 * 2700
    assert ledger_violations() == []


def test_concurrent_settlement_runs_settle_each_sale_once(creator):
    course = CourseFactory(creator=creator, price_fen=1000)
    for _ in range(10):
        sell(course, days_ago=8)

    results = run_at_once(5, lambda i: earnings_settle_due())

    assert sum(results) == 10, results
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SETTLEMENT).count() == 10
    assert balance(creator, Kind.CREATOR_AVAILABLE) == 9000
    assert ledger_violations() == []


def test_a_new_creators_first_sales_at_once_open_one_set_of_accounts(creator):
    course = CourseFactory(creator=creator, price_fen=1000)
    payments = [PaymentFactory(order__course=course) for _ in range(10)]

    results = run_at_once(10, lambda i: pay(Payment.objects.get(pk=payments[i].pk)))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert LedgerAccount.objects.filter(creator=creator).count() == 3
    assert balance(creator, Kind.CREATOR_PENDING) == 9000
    assert LedgerAccount.objects.get(creator=creator, kind=Kind.CREATOR_PENDING).balance_fen == 9000
    assert ledger_violations() == []
