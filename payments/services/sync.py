"""Asking gateways instead of waiting for them: "I have paid", closing attempts, the periodic sweep.

Every answer goes through the same `payment_event_apply` as a notification would.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import GatewayError, PaymentEvent, TradeAlreadyPaid, TradeNotFound
from payments.models import Order, Payment
from payments.services.events import ApplyOutcome, ApplyResult, payment_closed_mark, payment_event_apply
from payments.services.sweeps import sweep_backing_off, sweep_each

logger = logging.getLogger(__name__)


def payment_sync(*, payment: Payment) -> ApplyResult | None:
    """Query the gateway about one attempt and apply the answer; None if the gateway never saw it.

    Raises: GatewayError if the gateway could not answer; EventMismatch if its answer is not ours.
    """
    try:
        event = gateway_get(payment.channel).query_payment(payment.out_trade_no)
    except TradeNotFound:
        return None
    return payment_event_apply(channel=payment.channel, event=event)


@dataclass(frozen=True)
class OrderSyncResult:
    order: Order
    # Some gateway had not answered when the budget ran out: its answer comes by notification or sweep.
    still_checking: bool


# Gateways asked at the same time by one "I have paid" (an order rarely has more open attempts).
SYNC_PARALLEL_QUERIES = 4


def order_sync(*, order: Order) -> OrderSyncResult:
    """The learner says they paid: ask the gateway of every open attempt now and apply the answers.

    The attempts are asked at the same time, the most recent first, and the answers that came within
    PAYMENT_SYNC_BUDGET_SECONDS are applied (the rest are left to the notification and the periodic
    query), so a hung gateway never holds the learner's request longer than that.

    Raises: GatewayError if every gateway answered with an error (the caller tells the learner to retry).
    """
    attempts = list(order.payments.filter(status=Payment.Status.CREATED).order_by("-created_at", "-pk"))
    answers: dict[int, PaymentEvent | GatewayError | None] = {}
    if attempts:
        pool = ThreadPoolExecutor(max_workers=SYNC_PARALLEL_QUERIES, thread_name_prefix="order-sync")
        queries = {pool.submit(_gateway_answer, payment): payment for payment in attempts}
        done, _ = wait(queries, timeout=settings.PAYMENT_SYNC_BUDGET_SECONDS)
        # Queries still running finish on their own (GATEWAY_TIMEOUT_SECONDS); nobody waits for them.
        pool.shutdown(wait=False, cancel_futures=True)
        answers = {queries[query].pk: query.result() for query in done}
    for payment in attempts:  # apply in the calling thread (its transaction), most recent first
        answer = answers.get(payment.pk)
        if isinstance(answer, PaymentEvent):
            payment_event_apply(channel=payment.channel, event=answer)
    failures = [answer for answer in answers.values() if isinstance(answer, GatewayError)]
    if failures and len(failures) == len(attempts):
        raise failures[0]
    still_checking = len(answers) < len(attempts)
    if still_checking:
        logger.info("i-have-paid budget ran out", extra={"order_no": order.order_no, "asked": len(attempts)})
    return OrderSyncResult(order=Order.objects.get(pk=order.pk), still_checking=still_checking)


def _gateway_answer(payment: Payment) -> PaymentEvent | GatewayError | None:
    """What the gateway says about one attempt: its event, its error, or None if it never saw it."""
    try:
        return gateway_get(payment.channel).query_payment(payment.out_trade_no)
    except TradeNotFound:
        return None
    except GatewayError as exc:
        return exc
    finally:
        connections.close_all()  # this thread's own connections, if the gateway used the database


def payment_close(*, payment_id: int) -> None:
    """Close an open attempt at its gateway; if the gateway says it was paid, apply the payment.

    Raises: GatewayError when the gateway could not be reached (the caller retries).
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.CREATED:
        return
    try:
        gateway_get(payment.channel).close_payment(payment.out_trade_no)
    except TradeAlreadyPaid:
        logger.info("close refused: trade was paid; applying it", extra={"out_trade_no": payment.out_trade_no})
        payment_sync(payment=payment)
        return
    payment_closed_mark(payment_id=payment.pk)


def payments_sync_open(*, now: dt.datetime | None = None, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Query attempts still open a while after they started (a notification may never come).

    Covers orders closed meanwhile too: a payment can land after we closed the order. An attempt
    still payable at the gateway whose order is no longer pending is closed there.
    Returns how many attempts changed state.
    """
    now = now or timezone.now()
    open_attempts = (
        Payment.objects.filter(
            status=Payment.Status.CREATED, created_at__lte=now - older_than, created_at__gte=now - dt.timedelta(days=2)
        )
        .exclude(pk__in=sweep_backing_off(sweep="payments_sync", now=now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    changes = sweep_each(
        sweep="payments_sync", model=Payment, ids=list(open_attempts[:500]), work=_payment_sync_open, now=now
    )
    return sum(changes)


def _payment_sync_open(payment_id: int) -> bool:
    """Query one open attempt and finish what its answer means. True if it changed state.

    Raises: EventMismatch (the gateway's answer is not ours) and anything unexpected, recorded by the sweep.
    """
    payment = Payment.objects.get(pk=payment_id)
    try:
        result = payment_sync(payment=payment)
    except GatewayError:
        logger.warning("sync query failed; asked again next time", extra={"out_trade_no": payment.out_trade_no})
        return False
    order_status = Order.objects.values_list("status", flat=True).get(pk=payment.order_id)
    if result is None and order_status == Order.Status.CLOSED:
        # The gateway never saw it and our order is closed: nothing can be paid any more.
        payment_closed_mark(payment_id=payment.pk)
    elif result is not None and result.outcome == ApplyOutcome.NO_CHANGE and order_status != Order.Status.PENDING:
        # Still payable at the gateway for an order closed or paid meanwhile: the close sent after
        # that commit was lost (broker down, worker crash) or refused; close it now.
        try:
            payment_close(payment_id=payment.pk)
        except GatewayError:
            logger.warning("close failed; tried again next time", extra={"out_trade_no": payment.out_trade_no})
    return bool(result and result.changed)
