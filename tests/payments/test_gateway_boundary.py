"""The contract boundary: a gateway module that raises outside its contract never leaks a bare
exception, and a reconciliation run never stays `running` or stops the channels after it."""

import datetime as dt
import logging

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import GatewayContractViolation, GatewayError, IncomingNotification
from payments.models import GatewayNotification, ReconciliationRun, SimulatedTrade
from payments.services import reconciliation
from payments.services.notifications import notification_process, notification_store
from payments.services.reconciliation import reconciliation_run, reconciliation_run_all
from payments.simulators.alipay import bill as alipay_bill

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)
NOON = timezone.make_aware(dt.datetime.combine(YESTERDAY, dt.time(12, 0)))


@pytest.fixture
def brokenpay(settings):
    """A channel whose module raises a bare KeyError on its bill, offered first."""
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "brokenpay": "tests.payments.fakes.BrokenBillGateway"}
    settings.PAYMENTS_CHANNELS = ["brokenpay", "sandbox"]
    return gateway_get("brokenpay")


def test_a_stray_exception_leaves_the_gateway_as_a_typed_error_with_the_original_chained(db, brokenpay, caplog):
    caplog.set_level(logging.ERROR, logger="payments.gateways.boundary")

    with pytest.raises(GatewayContractViolation) as raised:
        brokenpay.fetch_statement(YESTERDAY)

    assert isinstance(raised.value, GatewayError)
    assert raised.value.code == "CONTRACT_VIOLATION"
    assert isinstance(raised.value.__cause__, KeyError)
    [record] = caplog.records
    assert (record.channel, record.operation, record.error_type) == ("brokenpay", "fetch_statement", "KeyError")
    assert record.bill_day == YESTERDAY


def test_a_stray_exception_while_parsing_a_notification_fails_it_for_a_resend(db, brokenpay):
    stored = notification_store(
        channel="brokenpay", kind="payment", body=b"not a number", truncated=False, meta={}, remote_addr=None
    )

    result = notification_process(notification=stored)

    assert result.acknowledge is False
    stored.refresh_from_db()
    assert stored.outcome == GatewayNotification.Outcome.FAILED
    assert "CONTRACT_VIOLATION" in stored.detail


def test_parsing_that_raises_a_typed_error_is_passed_on_unchanged(brokenpay):
    with pytest.raises(GatewayContractViolation):
        brokenpay.parse_notification(IncomingNotification(kind="payment", body=b"x", content_type=""))


@pytest.mark.django_db(transaction=True)
def test_alipay_bill_missing_a_column_fails_the_run_with_a_typed_error(gateway_site, settings, monkeypatch):
    SimulatedTrade.objects.create(
        gateway="alipay",
        merchant_id=settings.ALIPAY_APP_ID,
        out_trade_no="KP20260101000000000001P01",
        trade_no="2026010122001400000000000001",
        amount_fen=1290,
        subject="A course",
        status=SimulatedTrade.Status.PAID,
        paid_at=NOON,
    )
    # The order-number column renamed in place: every other column still reads as before.
    without_order_no = ["商户订单编号" if name == "商户订单号" else name for name in alipay_bill.DETAIL_HEADER]
    monkeypatch.setattr(alipay_bill, "DETAIL_HEADER", without_order_no)

    with pytest.raises(GatewayError):
        reconciliation_run(channel="alipay", day=YESTERDAY)

    run = ReconciliationRun.objects.get(channel="alipay")
    assert run.status == ReconciliationRun.Status.FAILED
    assert run.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_run_that_breaks_while_comparing_is_marked_failed(gateway_site, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("comparison bug")

    monkeypatch.setattr(reconciliation, "_ours_missing_on_bill", broken)

    with pytest.raises(RuntimeError):
        reconciliation_run(channel="sandbox", day=YESTERDAY)

    run = ReconciliationRun.objects.get(channel="sandbox")
    assert run.status == ReconciliationRun.Status.FAILED
    assert "comparison bug" in run.detail


@pytest.mark.django_db(transaction=True)
def test_reconciling_every_channel_goes_on_after_one_fails(gateway_site, brokenpay):
    runs = reconciliation_run_all(day=YESTERDAY)

    assert [(run.channel, run.status) for run in runs] == [
        ("brokenpay", ReconciliationRun.Status.FAILED),
        ("sandbox", ReconciliationRun.Status.BALANCED),
    ]


@pytest.mark.django_db(transaction=True)
def test_reconcile_without_arguments_prints_every_channel_and_fails_if_one_did(gateway_site, brokenpay, capsys):
    with pytest.raises(CommandError, match="brokenpay"):
        call_command("reconcile", "--date", YESTERDAY.isoformat())

    out = capsys.readouterr().out
    assert f"brokenpay {YESTERDAY}: failed" in out
    assert f"sandbox {YESTERDAY}: balanced" in out
