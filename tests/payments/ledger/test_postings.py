"""What the payment core's hooks post: sales, duplicate payments and refunds, each balanced, once."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from courses.models import Enrollment
from payments.models import LedgerAccount, LedgerEntry, Order, Payment, Refund
from payments.selectors.ledger import ledger_violations
from payments.services import ledger
from payments.services.payouts import payout_request
from payments.services.refunds import RefundError, refund_issue
from payments.services.settlement import earnings_settle_due
from tests.factories import OrderFactory, PaymentFactory
from tests.payments.ledger.helpers import balance, pay, pay_twice, refund, refund_succeed, sell, shared_balance

pytestmark = pytest.mark.django_db

Kind = LedgerAccount.Kind
PENDING, AVAILABLE = Kind.CREATOR_PENDING, Kind.CREATOR_AVAILABLE


def settle_all():
    return earnings_settle_due(now=timezone.now() + dt.timedelta(days=30))


def test_a_refund_above_what_is_left_is_refused_and_posts_nothing(course_at, staff):
    payment = sell(course_at(1290))
    refund(payment, staff=staff, amount_fen=1000)

    with pytest.raises(RefundError, match="larger than what is left"):
        refund_issue(order=payment.order, staff=staff, amount_fen=291, reason="too much")

    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 290


def test_a_second_refund_while_one_is_in_flight_is_refused_and_posts_nothing(course_at, staff):
    payment = sell(course_at(1290))
    refund_issue(order=payment.order, staff=staff, amount_fen=500, reason="first")

    with pytest.raises(RefundError, match="already in progress"):
        refund_issue(order=payment.order, staff=staff, amount_fen=100, reason="second")

    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).exists()
    assert balance(payment.order.course.creator, PENDING) == 1161


def test_the_same_sale_cannot_be_posted_twice(course_at):
    payment = sell(course_at(1290))

    with pytest.raises(IntegrityError), transaction.atomic():
        ledger.ledger_sale_post(payment=payment)

    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SALE).count() == 1


def test_a_replayed_payment_event_posts_the_sale_once(course_at):
    payment = sell(course_at(1290))

    pay(payment)

    assert LedgerEntry.objects.filter(payment=payment).count() == 1
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 1290


def test_a_sale_puts_the_gross_at_the_gateway_the_fee_to_the_platform_and_the_rest_on_hold(course_at, creator):
    payment = sell(course_at(1290))

    entry = LedgerEntry.objects.get(payment=payment)
    assert (entry.kind, entry.reference, entry.creator) == (
        LedgerEntry.Kind.SALE,
        f"sale:{payment.out_trade_no}",
        creator,
    )
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 1290
    assert shared_balance(Kind.PLATFORM_REVENUE) == 129
    assert balance(creator, PENDING) == 1161
    assert LedgerAccount.objects.get(creator=creator, kind=PENDING).balance_fen == 1161
    assert ledger_violations() == []


def test_the_fee_is_rounded_half_up_and_the_creator_gets_the_exact_rest(course_at, creator):
    sell(course_at(1295))

    assert shared_balance(Kind.PLATFORM_REVENUE) == 130
    assert balance(creator, PENDING) == 1165


def test_a_creators_own_fee_rate_replaces_the_default(course_at, creator):
    creator.creator_profile.platform_fee_bps = 500
    creator.creator_profile.save()

    sell(course_at(1290))

    assert shared_balance(Kind.PLATFORM_REVENUE) == 65  # 64.5 rounds up
    assert balance(creator, PENDING) == 1225


def test_a_sale_is_held_for_the_hold_days_after_payment(course_at, settings):
    settings.SETTLEMENT_HOLD_DAYS = 3

    payment = sell(course_at(1290), days_ago=1)

    sale = LedgerEntry.objects.get(payment=payment)
    assert sale.settles_at == payment.succeeded_at + dt.timedelta(days=3)


def test_a_duplicate_payment_is_owed_back_to_the_payer_without_touching_the_creator(course_at, creator):
    payment = sell(course_at(1290))

    duplicate = pay_twice(payment)

    assert duplicate.is_duplicate
    entry = LedgerEntry.objects.get(payment=duplicate)
    assert (entry.kind, entry.creator) == (LedgerEntry.Kind.DUPLICATE_PAYMENT, None)
    assert shared_balance(Kind.REFUNDS_PAYABLE) == 1290
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 2580
    assert balance(creator, PENDING) == 1161
    assert ledger_violations() == []


def test_refunding_a_duplicate_payment_reverses_its_posting(course_at, creator):
    duplicate = pay_twice(sell(course_at(1290)))

    refund_succeed(Refund.objects.get(payment=duplicate))

    assert shared_balance(Kind.REFUNDS_PAYABLE) == 0
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 1290
    assert balance(creator, PENDING) == 1161
    assert ledger_violations() == []


def test_a_partial_refund_during_the_hold_comes_out_of_held_earnings(course_at, creator, staff):
    payment = sell(course_at(1000))

    refund(payment, staff=staff, amount_fen=333)

    assert shared_balance(Kind.PLATFORM_REVENUE) == 100 - 33
    assert balance(creator, PENDING) == 900 - 300
    assert balance(creator, AVAILABLE) == 0
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 1000 - 333
    assert ledger_violations() == []


def test_partial_refunds_that_complete_a_sale_reverse_it_to_the_fen(course_at, creator, staff):
    payment = sell(course_at(1000))

    for amount in (333, 333, 334):
        refund(payment, staff=staff, amount_fen=amount)

    assert shared_balance(Kind.PLATFORM_REVENUE) == 0
    assert balance(creator, PENDING) == 0
    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == 0
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.REFUNDED
    assert ledger_violations() == []


def test_a_full_refund_reverses_the_sale_and_revokes_the_course(course_at, creator, staff):
    payment = sell(course_at(1295))

    refund(payment, staff=staff)

    assert (shared_balance(Kind.PLATFORM_REVENUE), balance(creator, PENDING)) == (0, 0)
    assert Enrollment.objects.get(course=payment.order.course).revoked_at is not None


def test_a_refund_after_settlement_comes_out_of_available_earnings(course_at, creator, staff):
    payment = sell(course_at(1000), days_ago=8)
    settle_all()

    refund(payment, staff=staff, amount_fen=500)

    assert balance(creator, PENDING) == 0
    assert balance(creator, AVAILABLE) == 900 - 450
    assert ledger_violations() == []


def test_a_refund_of_paid_out_earnings_leaves_a_negative_balance_that_later_sales_cover(
    course_at, creator, staff, settings
):
    settings.PAYOUT_MIN_FEN = 100
    course = course_at(1000)
    payment = sell(course, days_ago=8)
    settle_all()
    payout_request(creator=creator, requested_by=creator, amount_fen=900)

    refund(payment, staff=staff)

    assert balance(creator, AVAILABLE) == -900
    assert LedgerAccount.objects.get(creator=creator, kind=AVAILABLE).balance_fen == -900
    sell(course, days_ago=8)
    settle_all()
    assert balance(creator, AVAILABLE) == 0
    assert ledger_violations() == []


def test_a_refund_of_a_payment_paid_around_the_core_is_recorded_and_reported(course_at, creator, staff):
    order = OrderFactory(course=course_at(1000), status=Order.Status.PAID, paid_at=timezone.now())
    payment = PaymentFactory(order=order, status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())

    refund(payment, staff=staff, amount_fen=1000)

    assert shared_balance(Kind.GATEWAY_CLEARING, "sandbox") == -1000
    assert balance(creator, AVAILABLE) == -900
    assert ledger_violations() == [
        f"payment {payment.out_trade_no}: paid, with 0 sale entries instead of 1",
        f"payment {payment.out_trade_no}: its refunds gave back more than its sale brought",
    ]
