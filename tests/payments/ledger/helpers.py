"""Drive the real services the way production does: payments paid through the core's event path,
refunds issued by staff and confirmed by a gateway event, payouts requested and decided."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils import timezone

from payments.gateways.base import PaymentEvent, RefundEvent, RefundStatus, TradeStatus
from payments.models import LedgerAccount, LedgerLine, Order, Payment, Refund
from payments.services.events import payment_event_apply
from payments.services.refunds import refund_event_apply, refund_issue
from tests.factories import PaymentFactory


def pay(payment: Payment, *, paid_at: dt.datetime | None = None) -> Payment:
    payment_event_apply(
        channel=payment.channel,
        event=PaymentEvent(
            out_trade_no=payment.out_trade_no,
            status=TradeStatus.PAID,
            amount_fen=payment.amount_fen,
            gateway_trade_no=f"SBX{payment.pk:020d}",
            paid_at=paid_at or timezone.now(),
        ),
    )
    payment.refresh_from_db()
    return payment


def sell(course, *, days_ago: float = 0, **order_fields) -> Payment:
    """A learner buys `course`; the payment succeeds `days_ago` days ago through the payment core."""
    payment = PaymentFactory(order__course=course, **{f"order__{k}": v for k, v in order_fields.items()})
    return pay(payment, paid_at=timezone.now() - dt.timedelta(days=days_ago))


def pay_twice(payment: Payment) -> Payment:
    """A second successful payment of an already paid order: the core records a duplicate."""
    attempt = Payment.objects.filter(order=payment.order_id).count() + 1
    second = PaymentFactory(order=payment.order, out_trade_no=f"{payment.order.order_no}D{attempt:02d}")
    return pay(second)


def refund_succeed(refund: Refund) -> Refund:
    refund_event_apply(
        channel=refund.payment.channel,
        event=RefundEvent(
            out_trade_no=refund.payment.out_trade_no,
            out_refund_no=refund.refund_no,
            status=RefundStatus.SUCCEEDED,
            refund_fen=refund.amount_fen,
            gateway_refund_no=f"GR{refund.pk}",
        ),
    )
    refund.refresh_from_db()
    return refund


def refund(payment: Payment, *, staff, amount_fen: int | None = None) -> Refund:
    """Staff refund (part of) a paid order and the gateway confirms it."""
    order = Order.objects.get(pk=payment.order_id)
    amount = order.refundable_fen if amount_fen is None else amount_fen
    return refund_succeed(refund_issue(order=order, staff=staff, amount_fen=amount, reason="test"))


def balance(creator, kind: str) -> int:
    """A creator account's balance recomputed from its lines (credits positive)."""
    total = LedgerLine.objects.filter(account__creator=creator, account__kind=kind).aggregate(t=Sum("amount_fen"))["t"]
    return -(total or 0)


def shared_balance(kind: str, channel: str = "") -> int:
    """A shared account's balance from its lines, in its normal sign."""
    total = LedgerLine.objects.filter(account__kind=kind, account__channel=channel).aggregate(t=Sum("amount_fen"))["t"]
    sign = 1 if kind in LedgerAccount.DEBIT_NORMAL else -1
    return sign * (total or 0)
