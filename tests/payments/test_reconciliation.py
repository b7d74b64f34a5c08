"""Reconciliation against the sandbox gateway's bill, over real HTTP."""

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import GatewayUnavailable, PaymentRequest
from payments.models import (
    Order,
    Payment,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
    SimulatedRefund,
    SimulatedTrade,
)
from payments.services.checkout import notify_url
from payments.services.reconciliation import reconciliation_run
from payments.services.refunds import refund_issue
from tests.factories import PaymentFactory, UserFactory
from tests.payments.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)
NOON = timezone.make_aware(dt.datetime.combine(YESTERDAY, dt.time(12, 0)))
Kind = ReconciliationItem.Kind


def pay_at_the_gateway(site, payment):
    start = gateway_get("sandbox").start_payment(
        PaymentRequest(
            out_trade_no=payment.out_trade_no,
            amount_fen=payment.amount_fen,
            subject="Reconciliation",
            method="page",
            notify_url=notify_url("sandbox"),
            return_url=f"{site.url}/",
            expires_at=payment.order.expires_at,
            client_ip="127.0.0.1",
        )
    )
    browser = Browser(site.url)
    browser.submit(browser.get(start.url), "/pay/")


def move_to_yesterday():
    """Both books, the gateway's and ours, as if everything happened yesterday at noon."""
    SimulatedTrade.objects.exclude(paid_at=None).update(paid_at=NOON)
    SimulatedRefund.objects.update(succeeded_at=NOON)
    Payment.objects.filter(status=Payment.Status.SUCCEEDED).update(succeeded_at=NOON)
    Refund.objects.filter(status=Refund.Status.SUCCEEDED).update(succeeded_at=NOON)


def kinds(run):
    return sorted(run.items.values_list("kind", flat=True))


def test_matching_books_balance(gateway_site, payment):
    with time_machine.travel(NOON, tick=True):
        pay_at_the_gateway(gateway_site, payment)
        refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=290, reason="partial")

    run = reconciliation_run(channel="sandbox", day=YESTERDAY)

    assert run.status == ReconciliationRun.Status.BALANCED
    assert kinds(run) == []
    assert (run.bill_payments_fen, run.our_payments_fen) == (payment.amount_fen, payment.amount_fen)
    assert (run.bill_refunds_fen, run.our_refunds_fen) == (290, 290)
    assert (run.ledger_payments_fen, run.ledger_refunds_fen) == (payment.amount_fen, 290)


def test_payment_we_missed_is_confirmed_by_query_and_fulfilled(gateway_site, payment, monkeypatch):
    monkeypatch.setattr("payments.simulators.common.deliver_over_http", lambda *args: (None, "unreachable"))
    pay_at_the_gateway(gateway_site, payment)
    move_to_yesterday()
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CREATED

    run = reconciliation_run(channel="sandbox", day=YESTERDAY)

    assert kinds(run) == [Kind.REPAIRED]
    assert run.status == ReconciliationRun.Status.BALANCED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


def test_money_for_a_trade_we_never_issued_is_reported(gateway_site, settings):
    SimulatedTrade.objects.create(
        gateway="sandbox",
        merchant_id=settings.SANDBOX_MERCHANT_ID,
        out_trade_no="KP20260101000000999999P01",
        trade_no="SBX-stray",
        amount_fen=500,
        status=SimulatedTrade.Status.PAID,
        paid_at=NOON,
    )

    run = reconciliation_run(channel="sandbox", day=YESTERDAY)

    assert run.status == ReconciliationRun.Status.DISCREPANCIES
    item = run.items.get()
    assert (item.kind, item.out_trade_no, item.bill_amount_fen) == (Kind.MISSING_HERE, "KP20260101000000999999P01", 500)


def test_payment_we_recorded_that_the_bill_lacks_is_reported(gateway_site):
    ours = PaymentFactory(status=Payment.Status.SUCCEEDED, succeeded_at=NOON)

    run = reconciliation_run(channel="sandbox", day=YESTERDAY)

    item = run.items.get()
    assert (item.kind, item.out_trade_no, item.our_amount_fen) == (Kind.MISSING_ON_BILL, ours.out_trade_no, 1290)


def test_running_again_replaces_the_findings(gateway_site):
    PaymentFactory(status=Payment.Status.SUCCEEDED, succeeded_at=NOON)
    reconciliation_run(channel="sandbox", day=YESTERDAY)

    run = reconciliation_run(channel="sandbox", day=YESTERDAY)

    assert ReconciliationRun.objects.count() == 1
    assert run.items.count() == 1


def test_unreachable_gateway_records_a_failed_run(gateway_site, settings):
    settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"

    with pytest.raises(GatewayUnavailable):
        reconciliation_run(channel="sandbox", day=YESTERDAY)

    assert ReconciliationRun.objects.get().status == ReconciliationRun.Status.FAILED


def test_command_fails_when_the_books_differ(gateway_site):
    PaymentFactory(status=Payment.Status.SUCCEEDED, succeeded_at=NOON)

    with pytest.raises(CommandError, match="discrepancies"):
        call_command("reconcile", "--channel", "sandbox", "--date", YESTERDAY.isoformat())
