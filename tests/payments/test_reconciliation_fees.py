"""Gateway fees and the three-way check: each fee on a bill is booked once as the platform's cost; each
class of difference (missing here, missing on the bill, amount, status, fee) and a ledger that does
not follow the bill are reported on the run."""

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.gateways.base import PaymentEvent, StatementEntry, StatementEntryKind, TradeStatus
from payments.models import LedgerAccount, LedgerEntry, Payment, ReconciliationItem, ReconciliationRun
from payments.selectors.ledger import ledger_violations
from payments.services.events import payment_event_apply
from payments.services.reconciliation import reconciliation_run
from payments.services.refunds import refund_issue
from tests.factories import PaymentFactory, UserFactory
from tests.payments.fakes import ScriptedBillGateway

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)
NOON = timezone.make_aware(dt.datetime.combine(YESTERDAY, dt.time(12, 0)))
Kind = ReconciliationItem.Kind


@pytest.fixture(autouse=True)
def billpay(settings):
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "billpay": "tests.payments.fakes.ScriptedBillGateway"}
    settings.PAYMENTS_CHANNELS = [*settings.PAYMENTS_CHANNELS, "billpay"]
    settings.GATEWAY_FEE_BPS = {"billpay": 60}  # 0.6%: 8 fen of ¥12.90
    ScriptedBillGateway.entries = []
    ScriptedBillGateway.trade_status = {}
    yield
    ScriptedBillGateway.entries = []
    ScriptedBillGateway.trade_status = {}


def sold(course, *, at=NOON) -> Payment:
    """A ¥12.90 payment through billpay, applied as the gateway confirmed it at `at`."""
    payment = PaymentFactory(channel="billpay", order__course=course)
    payment_event_apply(
        channel="billpay",
        event=PaymentEvent(
            out_trade_no=payment.out_trade_no,
            status=TradeStatus.PAID,
            amount_fen=payment.amount_fen,
            gateway_trade_no=f"T{payment.pk}",
            paid_at=at,
        ),
    )
    return Payment.objects.get(pk=payment.pk)


def refunded(payment, amount_fen, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(NOON + dt.timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        refund = refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=amount_fen, reason="r")
    refund.refresh_from_db()
    return refund


def on_bill(payment, *, amount_fen=None, fee_fen=8) -> StatementEntry:
    return StatementEntry(
        kind=StatementEntryKind.PAYMENT,
        out_trade_no=payment.out_trade_no,
        gateway_trade_no=f"T{payment.pk}",
        amount_fen=payment.amount_fen if amount_fen is None else amount_fen,
        occurred_at=NOON,
        fee_fen=fee_fen,
    )


def refund_on_bill(refund, *, fee_fen) -> StatementEntry:
    return StatementEntry(
        kind=StatementEntryKind.REFUND,
        out_trade_no=refund.payment.out_trade_no,
        gateway_trade_no=f"T{refund.payment_id}",
        out_refund_no=refund.refund_no,
        amount_fen=refund.amount_fen,
        occurred_at=refund.succeeded_at,
        fee_fen=fee_fen,
    )


def reconcile() -> ReconciliationRun:
    return reconciliation_run(channel="billpay", day=YESTERDAY)


def items(run):
    return [(item.kind, item.out_refund_no or item.out_trade_no) for item in run.items.all()]


def fees_account() -> LedgerAccount:
    return LedgerAccount.objects.get(kind=LedgerAccount.Kind.GATEWAY_FEES, channel="billpay")


# --- Fees are booked ---------------------------------------------------------------------------


def test_a_payments_fee_is_booked_once_as_the_platforms_cost(course):
    payment = sold(course)
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=8)]

    first, again = reconcile(), reconcile()

    assert (first.status, again.status) == (ReconciliationRun.Status.BALANCED, ReconciliationRun.Status.BALANCED)
    fee = LedgerEntry.objects.get(kind=LedgerEntry.Kind.GATEWAY_FEE)
    assert fee.reference == f"gateway-fee:billpay:{payment.out_trade_no}"
    assert (fee.creator_id, fee.payment_id, fee.occurred_at) == (None, payment.pk, NOON)
    lines = {(line.account.kind, line.amount_fen) for line in fee.lines.select_related("account")}
    assert lines == {(LedgerAccount.Kind.GATEWAY_FEES, 8), (LedgerAccount.Kind.GATEWAY_CLEARING, -8)}
    assert (again.bill_fees_fen, again.ledger_fees_fen) == (8, 8)
    assert ledger_violations() == []


def test_a_refunds_fee_given_back_is_booked_back(course, django_capture_on_commit_callbacks):
    payment = sold(course)
    refund = refunded(payment, 645, django_capture_on_commit_callbacks)
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=8), refund_on_bill(refund, fee_fen=4)]

    run = reconcile()

    assert run.status == ReconciliationRun.Status.BALANCED, run.differences()
    returned = LedgerEntry.objects.get(kind=LedgerEntry.Kind.GATEWAY_FEE_RETURN)
    assert (returned.reference, returned.refund_id) == (f"gateway-fee-return:billpay:{refund.refund_no}", refund.pk)
    assert (run.bill_fees_fen, run.ledger_fees_fen) == (4, 4)
    assert -sum(fees_account().lines.values_list("amount_fen", flat=True)) == -4
    assert ledger_violations() == []


# --- Each class of difference is reported ------------------------------------------------------------


def test_money_under_a_number_we_never_issued_is_missing_here(course):
    stranger = PaymentFactory.build(channel="billpay", out_trade_no="KP20260101000000999999P01", amount_fen=500)
    ScriptedBillGateway.entries = [on_bill(stranger, fee_fen=3)]

    run = reconcile()

    assert run.status == ReconciliationRun.Status.DISCREPANCIES
    assert items(run) == [(Kind.MISSING_HERE, "KP20260101000000999999P01")]


def test_our_payment_that_the_bill_lacks_is_missing_on_bill(course):
    payment = sold(course)

    run = reconcile()

    assert items(run) == [(Kind.MISSING_ON_BILL, payment.out_trade_no)]
    assert run.differences() == ["Payments: bill ¥0.00, ours ¥12.90, ledger clearing ¥12.90"]


def test_a_different_amount_is_an_amount_mismatch(course):
    payment = sold(course)
    ScriptedBillGateway.entries = [on_bill(payment, amount_fen=1300)]

    run = reconcile()

    assert run.status == ReconciliationRun.Status.DISCREPANCIES
    assert items(run) == [(Kind.AMOUNT_MISMATCH, payment.out_trade_no)]
    item = run.items.get()
    assert (item.bill_amount_fen, item.our_amount_fen) == (1300, 1290)


def test_done_on_the_bill_but_not_here_even_after_asking_is_a_status_mismatch(course):
    payment = PaymentFactory(channel="billpay", order__course=course)
    ScriptedBillGateway.entries = [on_bill(payment)]
    ScriptedBillGateway.trade_status = {payment.out_trade_no: TradeStatus.WAITING}

    run = reconcile()

    assert items(run) == [(Kind.STATUS_MISMATCH, payment.out_trade_no)]
    assert "ours is created" in run.items.get().note


def test_done_on_the_bill_and_confirmed_by_a_query_is_repaired(course):
    payment = PaymentFactory(channel="billpay", order__course=course)
    ScriptedBillGateway.entries = [on_bill(payment)]
    ScriptedBillGateway.trade_status = {payment.out_trade_no: TradeStatus.PAID}

    run = reconcile()

    assert items(run) == [(Kind.REPAIRED, payment.out_trade_no)]
    assert run.status == ReconciliationRun.Status.BALANCED, run.differences()


def test_a_fee_off_the_contracted_rate_is_a_fee_mismatch_and_booked_as_billed(course):
    payment = sold(course)
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=9)]

    run = reconcile()

    assert items(run) == [(Kind.FEE_MISMATCH, payment.out_trade_no)]
    item = run.items.get()
    assert (item.bill_fee_fen, item.expected_fee_fen) == (9, 8)
    assert (run.bill_fees_fen, run.ledger_fees_fen) == (9, 9)


def test_a_refunds_fee_given_back_off_the_rate_is_a_fee_mismatch(course, django_capture_on_commit_callbacks):
    payment = sold(course)
    refund = refunded(payment, 645, django_capture_on_commit_callbacks)
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=8), refund_on_bill(refund, fee_fen=0)]

    run = reconcile()

    assert items(run) == [(Kind.FEE_MISMATCH, refund.refund_no)]
    assert run.items.get().expected_fee_fen == 4


def test_a_fee_the_bill_now_states_otherwise_than_booked_is_a_fee_mismatch_booked_once(course):
    payment = sold(course)
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=8)]
    reconcile()
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=10)]

    run = reconcile()

    notes = sorted(run.items.filter(kind=Kind.FEE_MISMATCH).values_list("note", flat=True))
    assert notes == [
        "8 fen was booked for this fee from an earlier bill; the bill now says 10 fen.",
        "The contracted rate gives 8 fen; booked as billed.",
    ]
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.GATEWAY_FEE).count() == 1
    assert run.differences() == ["Gateway fees: bill ¥0.10, ledger ¥0.08"]


def test_a_paid_payment_the_ledger_never_recorded_breaks_the_three_way_check(course):
    payment = PaymentFactory(
        channel="billpay", order__course=course, status=Payment.Status.SUCCEEDED, succeeded_at=NOON
    )
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=8)]

    run = reconcile()

    assert items(run) == []
    assert run.status == ReconciliationRun.Status.DISCREPANCIES
    assert run.differences() == ["Payments: bill ¥12.90, ours ¥12.90, ledger clearing ¥0.00"]


def test_reconcile_prints_the_differences_and_fails(course, capsys):
    sold(course)

    with pytest.raises(CommandError, match="discrepancies"):
        call_command("reconcile", "--channel", "billpay", "--date", YESTERDAY.isoformat())

    out = capsys.readouterr().out
    assert "Payments: bill ¥0.00, ours ¥12.90, ledger clearing ¥12.90" in out
    assert "missing_on_bill" in out


# --- ledger_check ---------------------------------------------------------------------------------------


def test_ledger_check_names_a_fee_on_a_reconciled_bill_that_is_not_booked(course):
    payment = sold(course)
    ScriptedBillGateway.entries = [on_bill(payment, fee_fen=8)]
    run = reconcile()
    ReconciliationRun.objects.filter(pk=run.pk).update(bill_fees_fen=11)

    assert ledger_violations() == [
        f"reconciliation billpay {YESTERDAY}: the bill's gateway fees total 11 fen, the ledger booked 8 fen"
    ]
