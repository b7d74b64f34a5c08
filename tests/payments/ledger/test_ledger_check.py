"""`manage.py ledger_check`: silent success on a consistent ledger, every violation named otherwise."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.models import LedgerAccount, LedgerEntry, LedgerLine, Order, Payment, Payout, Refund
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import OrderFactory, PaymentFactory, RefundFactory
from tests.payments.ledger.helpers import pay_twice, refund, sell

pytestmark = pytest.mark.django_db


def ledger_check() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger_check", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def violations() -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"\d+ ledger violation"):
        call_command("ledger_check", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def history(course_at, creator, staff, settings):
    """Sales, a refund, a duplicate payment and a payout, all through the services."""
    settings.PAYOUT_MIN_FEN = 100
    course = course_at(1000)
    first = sell(course, days_ago=8)
    second = sell(course)
    refund(second, staff=staff, amount_fen=250)
    pay_twice(first)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=500)
    return {"sale": first, "held_sale": second, "payout": payout}


def test_a_paid_payment_without_its_sale_is_named(history, course_at):
    order = OrderFactory(course=course_at(700), status=Order.Status.PAID, paid_at=timezone.now())
    payment = PaymentFactory(order=order, status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())

    assert f"payment {payment.out_trade_no}: paid, with 0 sale entries instead of 1" in violations()


def test_a_cached_balance_that_differs_from_its_lines_is_named(history, creator):
    LedgerAccount.objects.filter(creator=creator, kind=LedgerAccount.Kind.CREATOR_AVAILABLE).update(balance_fen=1)

    assert "cached balance 1 fen, lines give 400 fen" in violations()


def test_a_succeeded_refund_without_its_posting_is_named(history):
    Payment.objects.filter(pk=history["sale"].pk).update(refunded_fen=100)
    forged = RefundFactory(
        payment=history["sale"], amount_fen=100, status=Refund.Status.SUCCEEDED, succeeded_at=timezone.now()
    )

    report = violations()

    assert f"refund {forged.refund_no}: succeeded, with 0 refund entries instead of 1" in report
    assert f"payment {history['sale'].out_trade_no}: 100 fen refunded, the ledger's refunds of it total 0 fen" in report


def test_a_duplicate_payment_without_its_posting_is_named(history):
    duplicate = PaymentFactory(
        order=history["sale"].order,
        out_trade_no=f"{history['sale'].order.order_no}X01",
        status=Payment.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        is_duplicate=True,
    )

    assert f"payment {duplicate.out_trade_no}: a duplicate payment with 0 duplicate postings" in violations()


def test_a_payout_whose_state_its_entries_do_not_explain_is_named(history, staff):
    payout = history["payout"]
    Payout.objects.filter(pk=payout.pk).update(
        status=Payout.Status.PAID,
        method=Payout.Method.BANK_TRANSFER,
        bank_reference="never posted",
        paid_at=timezone.now(),
        decided_by=staff,
        decided_at=timezone.now(),
    )

    report = violations()

    assert f"payout {payout.payout_no}: paid must be reserved and paid once" in report
    assert f"payout {payout.payout_no}: 500 fen in transit, expected 0 fen" in report


def test_an_entry_that_does_not_balance_is_named(history, on_postgres):
    if on_postgres:
        pytest.skip("PostgreSQL refuses such an entry itself (test_append_only); only SQLite can hold one")
    sale = LedgerEntry.objects.get(payment=history["held_sale"], kind=LedgerEntry.Kind.SALE)
    entry = LedgerEntry.objects.create(
        kind=LedgerEntry.Kind.SETTLEMENT,
        reference="forged",
        description="forged",
        payment=sale.payment,
        occurred_at=timezone.now(),
    )
    LedgerLine.objects.create(entry=entry, account=sale.lines.first().account, amount_fen=7)

    assert "entry forged: 1 lines summing to 7 fen; it must balance" in violations()


def test_a_consistent_ledger_passes(history):
    out, err = ledger_check()

    assert out.startswith("Ledger OK:")
    assert err == ""
