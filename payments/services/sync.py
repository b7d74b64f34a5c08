"""Asking gateways instead of waiting for them: "I have paid", closing attempts, the periodic sweep.

Every answer goes through the same `payment_event_apply` as a notification would.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import GatewayCircuitOpen, GatewayError, PaymentEvent, TradeAlreadyPaid, TradeNotFound
from payments.gateways.boundary import GuardedGateway
from payments.models import Order, Payment
from payments.services.events import (
    ApplyOutcome,
    ApplyResult,
    EventMismatch,
    payment_closed_mark,
    payment_event_apply,
)
from payments.services.gateway_calls import gateway_call_record
from payments.services.sweeps import sweep_backing_off, sweep_each

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
    queries = [_GatewayQuery(payment) for payment in attempts]
    if queries:
        pool = ThreadPoolExecutor(max_workers=SYNC_PARALLEL_QUERIES, thread_name_prefix="order-sync")
        wait([pool.submit(query.run) for query in queries], timeout=settings.PAYMENT_SYNC_BUDGET_SECONDS)
        # Queries still running finish on their own (GATEWAY_TIMEOUT_SECONDS); nobody waits for them.
        pool.shutdown(wait=False, cancel_futures=True)
    answered = [query for query in queries if query.hand_over()]
    for query in answered:  # in this thread (its database connection), most recent first
        for record in query.records:
            gateway_call_record(**record)
        if isinstance(query.answer, PaymentEvent):
            payment_event_apply(channel=query.payment.channel, event=query.answer)
    failures = [query.answer for query in answered if isinstance(query.answer, GatewayError)]
    if failures and len(failures) == len(queries):
        raise failures[0]
    still_checking = len(answered) < len(queries)
    if still_checking:
        logger.info("i-have-paid budget ran out", extra={"order_no": order.order_no, "asked": len(queries)})
    return OrderSyncResult(order=Order.objects.get(pk=order.pk), still_checking=still_checking)


class _GatewayQuery:
    """One attempt's query, run in a worker thread that never touches the database.

    Its answer and its call record are handed over to the request's thread if it finished within
    the budget; otherwise the worker writes the record itself when the gateway finally answers.
    Who writes is decided under a lock, so the record is written exactly once.
    """

    def __init__(self, payment: Payment) -> None:
        self.payment = payment
        self.answer: PaymentEvent | GatewayError | None = None
        self.records: list[dict] = []
        self._lock = threading.Lock()
        self._finished = self._abandoned = False

    def run(self) -> None:
        # The boundary as gateway_get hands it out, recording into this query instead of the database.
        gateway = GuardedGateway(gateway_get(self.payment.channel).wrapped, record=self._keep)
        try:
            answer = gateway.query_payment(self.payment.out_trade_no, gateway_ref=self.payment.gateway_ref)
        except TradeNotFound:
            answer = None
        except GatewayError as exc:
            answer = exc
        with self._lock:
            self.answer, self._finished, late = answer, True, self._abandoned
        if late:
            try:
                for record in self.records:
                    gateway_call_record(**record)
            finally:
                connections.close_all()

    def hand_over(self) -> bool:
        """In the request's thread: True if the answer is in; otherwise the worker keeps it."""
        with self._lock:
            self._abandoned = not self._finished
            return self._finished

    def _keep(self, **record) -> None:
        self.records.append(record)


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
    paused: set[str] = set()  # channels whose circuit is open: not asked again in this sweep
    changes = sweep_each(
        sweep="payments_sync",
        model=Payment,
        ids=list(open_attempts[:500]),
        work=lambda pk: _payment_sync_open(pk, paused=paused),
        now=now,
    )
    return sum(changes)


def _payment_sync_open(payment_id: int, *, paused: set[str]) -> bool:
    """Query one open attempt and finish what its answer means. True if it changed state.

    Raises: EventMismatch (the gateway's answer is not ours) and anything unexpected, recorded by the sweep.
    """
    payment = Payment.objects.get(pk=payment_id)
    if payment.channel in paused:
        return False
    try:
        result = payment_sync(payment=payment)
    except GatewayCircuitOpen:
        paused.add(payment.channel)
        logger.info("sync paused for a channel whose circuit is open", extra={"channel": payment.channel})
        return False
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
