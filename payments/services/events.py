"""Applying what a gateway verifiably said about a trade: the one path to "paid".

Notifications, our own queries of the gateway ("I have paid", the periodic sync, a close answered
with "already paid") and reconciliation all hand their verified PaymentEvent to
`payment_event_apply`. It checks the event against our records, then changes state exactly once
under the learner's purchase lock and the order and payment row locks (payments.locks: every path
takes them in that order), so a second payment for something the learner already bought, through
this order or another, is always seen and becomes a duplicate.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment
from courses.services import enrollment_grant
from knowpay.metrics import PAYMENTS_DUPLICATED, PAYMENTS_SUCCEEDED, count_after_commit
from knowpay.money import format_cny
from payments.gateways.base import PaymentEvent, TradeStatus
from payments.locks import order_lock, payment_lock, purchase_lock
from payments.models import Alert, GatewayNotification, Order, Payment, PaymentAnomaly
from payments.services import ledger, risk
from payments.services.alerts import alert_raise
from payments.services.notices import notice_duplicate_payment, notice_order_paid
from payments.services.orders import payments_close_at_gateway_later

logger = logging.getLogger(__name__)


class EventMismatch(Exception):
    """A verified event that does not match our records (unknown trade, wrong amount)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class ApplyOutcome(enum.StrEnum):
    FULFILLED = "fulfilled"  # the order became paid and the learner got the course
    FULFILLED_LATE = "fulfilled_late"  # same, for an order we had already closed
    DUPLICATE = "duplicate"  # a second payment for a paid order: recorded, refund started
    ALREADY_APPLIED = "already_applied"  # nothing new: acknowledged without side effects
    ANOMALY = "anomaly"  # another gateway trade for a paid attempt: recorded and alerted, no money moved
    CLOSED = "closed"  # an unpaid attempt was closed at the gateway
    NO_CHANGE = "no_change"  # nothing to do (still waiting)
    REFUNDED = "refunded"  # a refund succeeded at the gateway
    REFUND_FAILED = "refund_failed"  # the gateway refused or failed a refund


@dataclass(frozen=True)
class ApplyResult:
    outcome: ApplyOutcome
    payment: Payment
    anomaly: PaymentAnomaly | None = None

    @property
    def changed(self) -> bool:
        return self.outcome not in (ApplyOutcome.ALREADY_APPLIED, ApplyOutcome.NO_CHANGE)


def payment_event_apply(
    *, channel: str, event: PaymentEvent, notification: GatewayNotification | None = None
) -> ApplyResult:
    """Apply a verified event of `channel` to our payment with the same out_trade_no.

    `notification` is the raw message the event came from, if any: kept with what it reported.

    Raises:
        EventMismatch: no payment of ours at this channel has this out_trade_no, or the currency or
            the amount differs.
    """
    payment = Payment.objects.select_related("order").filter(out_trade_no=event.out_trade_no, channel=channel).first()
    if payment is None:
        raise EventMismatch(f"unknown out_trade_no {event.out_trade_no!r} for {channel}", code="unknown_trade")
    if event.currency != payment.order.currency:
        # Amounts in different currencies are never compared, let alone booked: staff look at it.
        raise EventMismatch(
            f"the gateway reported {event.currency}, our order is in {payment.order.currency}",
            code="currency_mismatch",
        )
    if event.status == TradeStatus.PAID:
        # Only a payment moves money; gateways may omit the amount of unpaid or closed trades.
        if event.amount_fen != payment.amount_fen:
            raise EventMismatch(
                f"amount {event.amount_fen} fen differs from our {payment.amount_fen} fen", code="amount_mismatch"
            )
        return _payment_succeed(payment=payment, event=event, notification=notification)
    if event.status == TradeStatus.CLOSED:
        return payment_closed_mark(payment_id=payment.pk)
    return ApplyResult(ApplyOutcome.NO_CHANGE, payment)


# savepoint=False: it raises only on bugs, so it never needs to roll back apart from its caller.
@transaction.atomic(savepoint=False)
def _payment_succeed(*, payment: Payment, event: PaymentEvent, notification: GatewayNotification | None) -> ApplyResult:
    # The learner and course of an order never change: reading them before locking is safe.
    purchase_lock(learner_id=payment.order.learner_id, course_id=payment.order.course_id)
    order = order_lock(order_id=payment.order_id, related=("course__creator__creator_profile", "learner"))
    payment = payment_lock(payment_id=payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        if event.gateway_trade_no and payment.gateway_trade_no and event.gateway_trade_no != payment.gateway_trade_no:
            anomaly = _second_gateway_trade_record(payment=payment, event=event, notification=notification)
            return ApplyResult(ApplyOutcome.ANOMALY, payment, anomaly)
        return ApplyResult(ApplyOutcome.ALREADY_APPLIED, payment)

    now = timezone.now()
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = event.paid_at or now
    payment.gateway_trade_no = event.gateway_trade_no or payment.gateway_trade_no
    payment.payer_ref = event.payer_ref[:128]

    if _order_is_settled_elsewhere(order):
        # Under the purchase lock, so a paid order of the same learner and course committed
        # a moment ago is seen here: never two sales of one purchase.
        payment.is_duplicate = True
        payment.save()
        _duplicate_payment_handle(order=order, payment=payment)
        count_after_commit(PAYMENTS_DUPLICATED, channel=payment.channel)
        return ApplyResult(ApplyOutcome.DUPLICATE, payment)

    late = order.status == Order.Status.CLOSED
    payment.save()
    order.status = Order.Status.PAID
    order.paid_at = payment.succeeded_at
    order.paid_after_close = late
    order.save(update_fields=["status", "paid_at", "paid_after_close", "updated_at"])
    enrollment_grant(
        learner=order.learner, course=order.course, source=Enrollment.Source.PURCHASE, reference=order.order_no
    )
    payment.order = order  # the ledger reads the course and its creator's fee from it
    sale = ledger.ledger_sale_post(payment=payment)
    payments_close_at_gateway_later(order=order, keep=payment)
    if payment.payer_ref:
        risk.risk_payer_check(order=order, payer_ref=payment.payer_ref)
    notice_order_paid(order=order, sale=sale)
    count_after_commit(PAYMENTS_SUCCEEDED, channel=payment.channel)
    if late:
        logger.warning("payment arrived after the order was closed; fulfilled", extra={"order_no": order.order_no})
    return ApplyResult(ApplyOutcome.FULFILLED_LATE if late else ApplyOutcome.FULFILLED, payment)


def _order_is_settled_elsewhere(order: Order) -> bool:
    """Whether the learner already paid for (or otherwise has) this course through something else."""
    if order.status not in (Order.Status.PENDING, Order.Status.CLOSED):
        return True
    bought_in_another_order = (
        Order.objects.filter(learner=order.learner_id, course=order.course_id, status__in=Order.PURCHASED)
        .exclude(pk=order.pk)
        .exists()
    )
    return (
        bought_in_another_order
        or Enrollment.objects.filter(learner=order.learner_id, course=order.course_id, revoked_at__isnull=True)
        .exclude(source=Enrollment.Source.PURCHASE, reference=order.order_no)
        .exists()
    )


def _duplicate_payment_handle(*, order: Order, payment: Payment) -> None:
    from payments.services.refunds import refund_create_for_duplicate  # refunds build on events

    ledger.ledger_duplicate_payment_post(payment=payment)
    refund_create_for_duplicate(payment=payment)
    notice_duplicate_payment(order=order, payment=payment)
    logger.warning("duplicate payment; automatic refund started", extra={"out_trade_no": payment.out_trade_no})


def _second_gateway_trade_record(
    *, payment: Payment, event: PaymentEvent, notification: GatewayNotification | None
) -> PaymentAnomaly:
    """The gateway verifiably reports a success of this paid attempt under another trade number.

    Never the same trade: the payment keeps the trade it was paid by and no money is posted (what
    the other trade is, a second charge or the gateway's mistake, only the gateway can tell staff).
    Recorded once per reported trade; staff are alerted (an incident of its own) the first time.
    """
    try:
        with transaction.atomic():
            anomaly = PaymentAnomaly.objects.create(
                payment=payment,
                kind=PaymentAnomaly.Kind.SECOND_GATEWAY_TRADE,
                gateway_trade_no=event.gateway_trade_no[:64],
                recorded_trade_no=payment.gateway_trade_no,
                amount_fen=event.amount_fen,
                reported_paid_at=event.paid_at,
                notification=notification,
            )
    except IntegrityError:
        # Reported before (the gateway resends until acknowledged): recorded and alerted already.
        return PaymentAnomaly.objects.get(
            payment=payment, kind=PaymentAnomaly.Kind.SECOND_GATEWAY_TRADE, gateway_trade_no=event.gateway_trade_no[:64]
        )
    facts = {
        "alert": Alert.Kind.PAYMENT_ANOMALY,
        "anomaly": anomaly.pk,
        "channel": payment.channel,
        "out_trade_no": payment.out_trade_no,
        "gateway_trade_no": anomaly.gateway_trade_no,
        "recorded_trade_no": anomaly.recorded_trade_no,
        "amount_fen": anomaly.amount_fen,
        "notification": notification.pk if notification else None,
    }
    logger.error("another gateway trade reported for a paid attempt; recorded for staff", extra=facts)
    link = settings.SITE_URL + reverse("admin:payments_paymentanomaly_change", args=[anomaly.pk])
    alert_raise(
        kind=Alert.Kind.PAYMENT_ANOMALY,
        incident_key=f"payment_anomaly:{anomaly.pk}",
        subject=f"{payment.channel} reported {payment.out_trade_no} paid again, as trade {anomaly.gateway_trade_no}",
        body=(
            f"We had recorded {payment.out_trade_no} (order {payment.order.order_no}) as paid by trade "
            f"{anomaly.recorded_trade_no}; the gateway verifiably reported a payment of "
            f"{format_cny(anomaly.amount_fen)} under trade {anomaly.gateway_trade_no}. Nothing was posted or "
            "refunded. Ask the gateway which trade is real and whether the payer was charged twice, and refund "
            f"an extra charge at the gateway. {link}"
        ),
    )
    return anomaly


@transaction.atomic(savepoint=False)
def payment_closed_mark(*, payment_id: int) -> ApplyResult:
    """Record that an unpaid attempt is closed at its gateway (it said so, or we closed it)."""
    order_lock(order_id=Payment.objects.values_list("order_id", flat=True).get(pk=payment_id))
    payment = payment_lock(payment_id=payment_id)
    if payment.status != Payment.Status.CREATED:
        # A paid trade reported closed later (e.g. after a full refund) changes nothing here.
        return ApplyResult(ApplyOutcome.NO_CHANGE, payment)
    payment.status = Payment.Status.CLOSED
    payment.closed_at = timezone.now()
    payment.save(update_fields=["status", "closed_at", "updated_at"])
    return ApplyResult(ApplyOutcome.CLOSED, payment)
