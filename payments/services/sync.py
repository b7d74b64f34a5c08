"""Asking gateways instead of waiting for them: "I have paid", closing attempts, the periodic sweep.

Every answer goes through the same `payment_event_apply` as a notification would.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import GatewayCircuitOpen, GatewayError, TradeAlreadyPaid, TradeNotFound
from payments.models import Order, Payment
from payments.services.events import ApplyResult, EventMismatch, payment_closed_mark, payment_event_apply

logger = logging.getLogger(__name__)


def payment_sync(*, payment: Payment) -> ApplyResult | None:
    """Query the gateway about one attempt and apply the answer; None if the gateway never saw it.

    Raises: GatewayError if the gateway could not answer; EventMismatch if its answer is not ours.
    """
    try:
        event = gateway_get(payment.channel).query_payment(payment.out_trade_no, gateway_ref=payment.gateway_ref)
    except TradeNotFound:
        return None
    return payment_event_apply(channel=payment.channel, event=event)


def order_sync(*, order: Order) -> Order:
    """The learner says they paid: ask every open attempt's gateway now. Returns the fresh order.

    Raises: GatewayError if no gateway could be asked (the caller tells the learner to retry).
    """
    attempts = list(order.payments.filter(status=Payment.Status.CREATED))
    failures = []
    for payment in attempts:
        try:
            payment_sync(payment=payment)
        except GatewayError as exc:
            failures.append(exc)
    if failures and len(failures) == len(attempts):
        raise failures[0]
    return Order.objects.get(pk=order.pk)


def order_return_complete(*, order: Order) -> Order:
    """The learner is back from a gateway's page: let each open attempt's gateway finish what the
    learner approved there (PayPal: capture) and apply its verified answer. Returns the fresh order.

    Gateways that need no step of ours answer nothing; their notification or a query tells.
    Raises: GatewayError (a declined capture is a GatewayRejected: the order stays payable).
    """
    for payment in order.payments.filter(status=Payment.Status.CREATED):
        event = gateway_get(payment.channel).complete_payment(payment.out_trade_no, gateway_ref=payment.gateway_ref)
        if event is None:
            continue
        try:
            payment_event_apply(channel=payment.channel, event=event)
        except EventMismatch:
            # Verified, yet not what we asked for (another amount or currency): never applied; the
            # gateway's notification of the same capture is stored and refused for staff to see.
            logger.error("completed payment does not match our records", extra={"out_trade_no": payment.out_trade_no})
    return Order.objects.get(pk=order.pk)


def payment_close(*, payment_id: int) -> None:
    """Close an open attempt at its gateway; if the gateway says it was paid, apply the payment.

    Raises: GatewayError when the gateway could not be reached (the caller retries).
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.CREATED:
        return
    try:
        gateway_get(payment.channel).close_payment(payment.out_trade_no, gateway_ref=payment.gateway_ref)
    except TradeAlreadyPaid:
        logger.info("close refused: trade was paid; applying it", extra={"out_trade_no": payment.out_trade_no})
        payment_sync(payment=payment)
        return
    payment_closed_mark(payment_id=payment.pk)


def payments_sync_open(*, now: dt.datetime | None = None, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Query attempts still open a while after they started (a notification may never come).

    Covers orders closed meanwhile too: a payment can land after we closed the order.
    Returns how many attempts changed state.
    """
    now = now or timezone.now()
    open_attempts = Payment.objects.filter(
        status=Payment.Status.CREATED, created_at__lte=now - older_than, created_at__gte=now - dt.timedelta(days=2)
    )
    changed = 0
    paused: set[str] = set()  # channels whose circuit is open: not asked again in this sweep
    for payment in open_attempts.order_by("created_at")[:500]:
        if payment.channel in paused:
            continue
        try:
            result = payment_sync(payment=payment)
        except GatewayCircuitOpen:
            paused.add(payment.channel)
            logger.info("sync paused for a channel whose circuit is open", extra={"channel": payment.channel})
            continue
        except (GatewayError, EventMismatch):
            logger.warning("sync query failed", extra={"out_trade_no": payment.out_trade_no}, exc_info=True)
            continue
        changed += bool(result and result.changed)
        if result is None and payment.order.status == Order.Status.CLOSED:
            # The gateway never saw it and our order is closed: nothing can be paid any more.
            payment_closed_mark(payment_id=payment.pk)
    return changed
