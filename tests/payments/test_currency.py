"""Events carry the currency the gateway reported; one in another currency than the order's is never applied."""

import pytest
from django.utils import timezone

from payments.gateways.base import PaymentEvent, RefundEvent, RefundStatus, TradeStatus
from payments.models import LedgerEntry, Order, Payment, Refund
from payments.services.events import EventMismatch, payment_event_apply
from payments.services.refunds import refund_event_apply
from tests.factories import PaymentFactory, RefundFactory

pytestmark = pytest.mark.django_db


def _paid_event(payment, currency):
    return PaymentEvent(
        out_trade_no=payment.out_trade_no,
        status=TradeStatus.PAID,
        amount_fen=payment.amount_fen,
        gateway_trade_no="T1",
        paid_at=timezone.now(),
        currency=currency,
    )


def test_a_payment_in_another_currency_is_refused_and_changes_nothing(payment):
    with pytest.raises(EventMismatch) as caught:
        payment_event_apply(channel=payment.channel, event=_paid_event(payment, "USD"))

    assert caught.value.code == "currency_mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_payment_in_the_orders_currency_is_applied(payment):
    result = payment_event_apply(channel=payment.channel, event=_paid_event(payment, "CNY"))

    assert result.payment.status == Payment.Status.SUCCEEDED


def test_a_refund_reported_in_another_currency_is_refused_and_changes_nothing():
    payment = PaymentFactory(status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())
    refund = RefundFactory(payment=payment, status=Refund.Status.PROCESSING, amount_fen=100)
    event = RefundEvent(
        out_trade_no=payment.out_trade_no,
        out_refund_no=refund.refund_no,
        status=RefundStatus.SUCCEEDED,
        refund_fen=100,
        currency="EUR",
    )

    with pytest.raises(EventMismatch) as caught:
        refund_event_apply(channel=payment.channel, event=event)

    assert caught.value.code == "currency_mismatch"
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PROCESSING
