"""Applying what a gateway verifiably said about a trade: the one path to "paid".

Notifications, our own queries of the gateway ("I have paid", the periodic sync, a close answered
with "already paid") and reconciliation all hand their verified PaymentEvent to
`payment_event_apply`. It checks the event against our records, then changes state exactly once
under row locks (order first, then payment: every path locks in that order).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from courses.models import Enrollment
from courses.services import enrollment_grant
from knowpay.metrics import PAYMENTS_DUPLICATED, PAYMENTS_SUCCEEDED, count_after_commit
from payments.gateways.base import PaymentEvent, TradeStatus
from payments.models import Order, Payment
from payments.services import ledger, risk
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
    CLOSED = "closed"  # an unpaid attempt was closed at the gateway
    NO_CHANGE = "no_change"  # nothing to do (still waiting)
    REFUNDED = "refunded"  # a refund succeeded at the gateway
    REFUND_FAILED = "refund_failed"  # the gateway refused or failed a refund


@dataclass(frozen=True)
class ApplyResult:
    outcome: ApplyOutcome
    payment: Payment

    @property
    def changed(self) -> bool:
        return self.outcome not in (ApplyOutcome.ALREADY_APPLIED, ApplyOutcome.NO_CHANGE)


def payment_event_apply(*, channel: str, event: PaymentEvent) -> ApplyResult:
    """Apply a verified event of `channel` to our payment with the same out_trade_no.

    Raises:
        EventMismatch: no payment of ours at this channel has this out_trade_no, or the currency or
            the amount differs.
    """
    payment = (
        Payment.objects.filter(out_trade_no=event.out_trade_no, channel=channel)
        .annotate(order_currency=F("order__currency"))
        .first()
    )
    if payment is None:
        raise EventMismatch(f"unknown out_trade_no {event.out_trade_no!r} for {channel}", code="unknown_trade")
    if event.currency != payment.order_currency:
        # Amounts in different currencies are never compared, let alone booked: staff look at it.
        raise EventMismatch(
            f"the gateway reported {event.currency}, our order is in {payment.order_currency}",
            code="currency_mismatch",
        )
    if event.status == TradeStatus.PAID:
        # Only a payment moves money; gateways may omit the amount of unpaid or closed trades.
        if event.amount_fen != payment.amount_fen:
            raise EventMismatch(
                f"amount {event.amount_fen} fen differs from our {payment.amount_fen} fen", code="amount_mismatch"
            )
        return _payment_succeed(payment_id=payment.pk, order_id=payment.order_id, event=event)
    if event.status == TradeStatus.CLOSED:
        return payment_closed_mark(payment_id=payment.pk)
    return ApplyResult(ApplyOutcome.NO_CHANGE, payment)


# savepoint=False: it raises only on bugs, so it never needs to roll back apart from its caller.
@transaction.atomic(savepoint=False)
def _payment_succeed(*, payment_id: int, order_id: int, event: PaymentEvent) -> ApplyResult:
    order = (
        Order.objects.select_for_update(no_key=True, of=("self",))
        .select_related("course__creator__creator_profile", "learner")
        .get(pk=order_id)
    )
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment_id)
    if payment.status == Payment.Status.SUCCEEDED:
        return ApplyResult(ApplyOutcome.ALREADY_APPLIED, payment)

    now = timezone.now()
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = event.paid_at or now
    payment.gateway_trade_no = event.gateway_trade_no or payment.gateway_trade_no
    payment.payer_ref = event.payer_ref[:128]

    if _order_is_settled_elsewhere(order):
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
    return (
        Enrollment.objects.filter(learner=order.learner_id, course=order.course_id, revoked_at__isnull=True)
        .exclude(source=Enrollment.Source.PURCHASE, reference=order.order_no)
        .exists()
    )


def _duplicate_payment_handle(*, order: Order, payment: Payment) -> None:
    from payments.services.refunds import refund_create_for_duplicate  # refunds build on events

    ledger.ledger_duplicate_payment_post(payment=payment)
    refund_create_for_duplicate(payment=payment)
    notice_duplicate_payment(order=order, payment=payment)
    logger.warning("duplicate payment; automatic refund started", extra={"out_trade_no": payment.out_trade_no})


@transaction.atomic(savepoint=False)
def payment_closed_mark(*, payment_id: int) -> ApplyResult:
    """Record that an unpaid attempt is closed at its gateway (it said so, or we closed it)."""
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    Order.objects.select_for_update(no_key=True).filter(pk=order_id).first()
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment_id)
    if payment.status != Payment.Status.CREATED:
        # A paid trade reported closed later (e.g. after a full refund) changes nothing here.
        return ApplyResult(ApplyOutcome.NO_CHANGE, payment)
    payment.status = Payment.Status.CLOSED
    payment.closed_at = timezone.now()
    payment.save(update_fields=["status", "closed_at", "updated_at"])
    return ApplyResult(ApplyOutcome.CLOSED, payment)
