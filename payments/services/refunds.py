"""Refunds: requested by learners within the window and approved by staff, issued by staff, or
started automatically for a duplicate payment; sent to the gateway with our refund number.

Never more than what is left: the amount is checked against the payment under its row lock, and
the database allows one refund in flight per payment and never a refunded total above the amount.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from courses.services import enrollment_revoke
from knowpay.api import ServiceError
from knowpay.enqueue import enqueue_after_commit
from knowpay.metrics import REFUNDS, count_after_commit
from payments.gateways import gateway_get
from payments.gateways.base import (
    GatewayCircuitOpen,
    GatewayError,
    GatewayRejected,
    RefundEvent,
    RefundNotFound,
    RefundRequest,
    RefundStatus,
)
from payments.models import Order, Payment, Refund
from payments.selectors.orders import refund_deadline
from payments.services import ledger, risk
from payments.services.checkout import notify_url
from payments.services.events import ApplyOutcome, EventMismatch
from payments.services.notices import notice_refund_rejected, notice_refund_succeeded
from payments.services.numbers import refund_no_for
from payments.services.sweeps import sweep_backing_off, sweep_each

logger = logging.getLogger(__name__)


class RefundError(ServiceError):
    pass


@dataclass(frozen=True)
class RefundApplyResult:
    outcome: ApplyOutcome
    refund: Refund


def refund_request(
    *, order: Order, learner: User, amount_fen: int | None = None, reason: str = "", client_ip: str | None = None
) -> Refund:
    """A learner asks for (part of) their money back; staff decide. Defaults to all that is left.

    A request beyond the velocity limits is flagged for review (payments.services.risk).

    Raises:
        RefundError: not their order, not paid, outside the refund window, a bad amount, or a
            refund already in flight.
        RiskRefused: the learner or the address is blocked.
    """
    risk.risk_blocklist_check(action="refund", user=learner, ip=client_ip)
    with transaction.atomic():
        order, payment = _lock_order_and_primary_payment(order)
        if order.learner_id != learner.pk:
            raise RefundError("This is not your order.", code="not_owner")
        if refund_deadline(order=order) < timezone.now():
            raise RefundError(
                f"Refunds can be requested within {settings.REFUND_WINDOW_DAYS} days of payment.",
                code="window_closed",
            )
        flag_reason = risk.risk_refund_flag_reason(learner=learner, ip=client_ip)
        refund = _refund_create(
            order=order,
            payment=payment,
            amount_fen=payment.refundable_fen if amount_fen is None else amount_fen,
            kind=Refund.Kind.LEARNER,
            status=Refund.Status.REQUESTED,
            reason=reason,
            requested_by=learner,
            client_ip=client_ip,
            risk_flagged=bool(flag_reason),
        )
        if flag_reason:
            risk.risk_refund_flagged(refund=refund, reason=flag_reason)
        return refund


def refund_issue(*, order: Order, staff: User, amount_fen: int, reason: str) -> Refund:
    """Staff refund a paid order directly (no window); it is sent to the gateway at once."""
    with transaction.atomic():
        order, payment = _lock_order_and_primary_payment(order)
        refund = _refund_create(
            order=order,
            payment=payment,
            amount_fen=amount_fen,
            kind=Refund.Kind.STAFF,
            status=Refund.Status.PROCESSING,
            reason=reason,
            requested_by=staff,
            decided_by=staff,
        )
        _send_after_commit(refund)
    return refund


def refund_approve(*, refund: Refund, staff: User, note: str = "") -> Refund:
    """Staff approve a requested refund; it is sent to the gateway. Raises RefundError if already decided."""
    with transaction.atomic():
        Order.objects.select_for_update(no_key=True).filter(pk=refund.order_id).first()
        payment = Payment.objects.select_for_update(no_key=True).get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update(no_key=True).get(pk=refund.pk)
        if refund.status != Refund.Status.REQUESTED:
            raise RefundError(f"This refund is already {refund.get_status_display().lower()}.", code="decided")
        if refund.amount_fen > payment.refundable_fen:
            raise RefundError("The refund is larger than what is left to refund.", code="amount_exceeds")
        refund.status = Refund.Status.PROCESSING
        refund.decided_by = staff
        refund.decided_at = timezone.now()
        refund.decision_note = note[:300]
        refund.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        count_after_commit(REFUNDS, state=Refund.Status.PROCESSING)
        _send_after_commit(refund)
    return refund


def refund_reject(*, refund: Refund, staff: User, note: str) -> Refund:
    """Staff reject a requested refund. Raises RefundError if already decided."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(no_key=True, of=("self",))
            .select_related("order__learner", "order__course")
            .get(pk=refund.pk)
        )
        if refund.status != Refund.Status.REQUESTED:
            raise RefundError(f"This refund is already {refund.get_status_display().lower()}.", code="decided")
        refund.status = Refund.Status.REJECTED
        refund.decided_by = staff
        refund.decided_at = timezone.now()
        refund.decision_note = note[:300]
        refund.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        count_after_commit(REFUNDS, state=Refund.Status.REJECTED)
        notice_refund_rejected(refund=refund, note=note)
    return refund


def refund_create_for_duplicate(*, payment: Payment) -> Refund:
    """Inside the transaction that found `payment` to be a duplicate: refund all of it."""
    refund = _refund_create(
        order=payment.order,
        payment=payment,
        amount_fen=payment.amount_fen,
        kind=Refund.Kind.DUPLICATE,
        status=Refund.Status.PROCESSING,
        reason="Duplicate payment for an order that was already paid.",
    )
    _send_after_commit(refund)
    return refund


def _lock_order_and_primary_payment(order: Order) -> tuple[Order, Payment]:
    order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
    if order.status not in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED):
        raise RefundError("Only paid orders can be refunded.", code="not_paid")
    payment = Payment.objects.select_for_update(no_key=True).get(
        order=order, status=Payment.Status.SUCCEEDED, is_duplicate=False
    )
    return order, payment


def _refund_create(*, order: Order, payment: Payment, amount_fen: int, kind: str, status: str, **fields) -> Refund:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise RefundError("The refund amount must be a positive number of fen.", code="bad_amount")
    if amount_fen > payment.refundable_fen:
        raise RefundError("The refund is larger than what is left to refund.", code="amount_exceeds")
    sequence = Refund.objects.filter(order=order).count() + 1
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                refund_no=refund_no_for(order.order_no, sequence),
                order=order,
                payment=payment,
                amount_fen=amount_fen,
                kind=kind,
                status=status,
                decided_at=timezone.now() if status == Refund.Status.PROCESSING else None,
                **fields,
            )
    except IntegrityError:
        raise RefundError("A refund for this order is already in progress.", code="in_flight") from None
    count_after_commit(REFUNDS, state=status)
    return refund


def _send_after_commit(refund: Refund) -> None:
    from payments.tasks import refund_send_task  # tasks import services; the reverse only here

    enqueue_after_commit(refund_send_task, refund.pk)


def refund_send(*, refund_id: int) -> Refund:
    """Send a processing refund to its gateway (idempotent there by refund number) and apply the answer.

    A verifiable refusal fails the refund; no answer leaves it processing, to be retried.
    Raises: GatewayError when the gateway could not be reached (the caller retries).
    """
    refund = Refund.objects.select_related("payment", "order").get(pk=refund_id)
    if refund.status != Refund.Status.PROCESSING:
        return refund
    channel = refund.payment.channel
    request = RefundRequest(
        out_trade_no=refund.payment.out_trade_no,
        out_refund_no=refund.refund_no,
        refund_fen=refund.amount_fen,
        total_fen=refund.payment.amount_fen,
        reason=refund.reason or "Refund",
        notify_url=notify_url(channel, kind="refund"),
        currency=refund.order.currency,
        gateway_trade_no=refund.payment.gateway_trade_no,
    )
    try:
        event = gateway_get(channel).refund(request)
    except GatewayRejected as exc:
        logger.warning("refund refused by gateway", extra={"refund_no": refund.refund_no, "code": exc.code})
        return _refund_fail(refund_id=refund.pk, reason=f"{exc.code}: {exc}"[:300]).refund
    except GatewayError:
        logger.warning("refund not confirmed; will retry", extra={"refund_no": refund.refund_no}, exc_info=True)
        raise
    return refund_event_apply(channel=channel, event=event).refund


def refund_sync(*, refund_id: int) -> Refund:
    """Ask the gateway about a refund still processing, and apply what it says."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PROCESSING:
        return refund
    channel = refund.payment.channel
    event = gateway_get(channel).query_refund(
        refund.payment.out_trade_no,
        refund.refund_no,
        gateway_trade_no=refund.payment.gateway_trade_no,
        gateway_refund_no=refund.gateway_refund_no,
    )
    return refund_event_apply(channel=channel, event=event).refund


def refund_event_apply(*, channel: str, event: RefundEvent) -> RefundApplyResult:
    """Apply a verified refund event (refund reply, query or notification) exactly once.

    Raises: EventMismatch for an unknown refund number, another trade, another currency or amount.
    """
    refund = Refund.objects.select_related("payment", "order").filter(refund_no=event.out_refund_no).first()
    if refund is None or refund.payment.channel != channel or refund.payment.out_trade_no != event.out_trade_no:
        raise EventMismatch(f"unknown refund {event.out_refund_no!r} for {channel}", code="unknown_refund")
    if event.currency != refund.order.currency:
        raise EventMismatch(
            f"the gateway reported {event.currency}, our order is in {refund.order.currency}", code="currency_mismatch"
        )
    if event.refund_fen != refund.amount_fen:
        raise EventMismatch(
            f"refund amount {event.refund_fen} fen differs from our {refund.amount_fen} fen", code="amount_mismatch"
        )
    if event.status == RefundStatus.SUCCEEDED:
        return _refund_succeed(refund_id=refund.pk, gateway_refund_no=event.gateway_refund_no)
    if event.status == RefundStatus.FAILED:
        return _refund_fail(refund_id=refund.pk, reason=f"gateway reported {event.raw_status or 'failure'}")
    if event.gateway_refund_no and not refund.gateway_refund_no:
        Refund.objects.filter(pk=refund.pk, gateway_refund_no="").update(gateway_refund_no=event.gateway_refund_no)
        refund.gateway_refund_no = event.gateway_refund_no
    return RefundApplyResult(ApplyOutcome.NO_CHANGE, refund)


@transaction.atomic
def _refund_succeed(*, refund_id: int, gateway_refund_no: str) -> RefundApplyResult:
    refund = Refund.objects.get(pk=refund_id)
    order = (
        Order.objects.select_for_update(no_key=True, of=("self",))
        .select_related("learner", "course")
        .get(pk=refund.order_id)
    )
    payment = Payment.objects.select_for_update(no_key=True).get(pk=refund.payment_id)
    refund = Refund.objects.select_for_update(no_key=True).get(pk=refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return RefundApplyResult(ApplyOutcome.ALREADY_APPLIED, refund)
    if refund.status not in (Refund.Status.PROCESSING, Refund.Status.FAILED):
        # Requested or rejected refunds were never sent: a success for one is not ours to believe.
        raise EventMismatch(f"refund {refund.refund_no} was never sent", code="refund_not_sent")
    refund.status = Refund.Status.SUCCEEDED
    refund.succeeded_at = timezone.now()
    refund.gateway_refund_no = gateway_refund_no or refund.gateway_refund_no
    refund.failure_reason = ""
    refund.save(update_fields=["status", "succeeded_at", "gateway_refund_no", "failure_reason", "updated_at"])
    payment.refunded_fen += refund.amount_fen
    payment.save(update_fields=["refunded_fen", "updated_at"])
    if not payment.is_duplicate:
        order.refunded_fen += refund.amount_fen
        fully = order.refunded_fen == order.amount_fen
        order.status = Order.Status.REFUNDED if fully else Order.Status.PARTIALLY_REFUNDED
        order.save(update_fields=["refunded_fen", "status", "updated_at"])
        if fully:
            enrollment_revoke(learner=order.learner, course=order.course, reason=f"Refunded ({refund.refund_no})")
    entry = ledger.ledger_refund_post(refund=refund)
    count_after_commit(REFUNDS, state=Refund.Status.SUCCEEDED)
    notice_refund_succeeded(order=order, refund=refund, entry=entry)
    return RefundApplyResult(ApplyOutcome.REFUNDED, refund)


@transaction.atomic(savepoint=False)
def _refund_fail(*, refund_id: int, reason: str) -> RefundApplyResult:
    refund = Refund.objects.select_for_update(no_key=True).get(pk=refund_id)
    if refund.status != Refund.Status.PROCESSING:
        return RefundApplyResult(ApplyOutcome.ALREADY_APPLIED, refund)
    refund.status = Refund.Status.FAILED
    refund.failure_reason = reason[:300]
    refund.save(update_fields=["status", "failure_reason", "updated_at"])
    count_after_commit(REFUNDS, state=Refund.Status.FAILED)
    logger.warning("refund failed", extra={"refund_no": refund.refund_no, "reason": reason})
    return RefundApplyResult(ApplyOutcome.REFUND_FAILED, refund)


def refunds_sync_processing(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Query refunds stuck in processing (a lost reply, a refund notification not yet come), and send
    again those the gateway never received: it treats the same refund number as the same refund.

    Oldest first; returns how many finished now.
    """
    stuck = (
        Refund.objects.filter(status=Refund.Status.PROCESSING, updated_at__lte=timezone.now() - older_than)
        .exclude(pk__in=sweep_backing_off(sweep="refunds_sync"))
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)
    )
    paused: set[str] = set()  # channels whose circuit is open: not asked again in this sweep
    finished = sweep_each(
        sweep="refunds_sync",
        model=Refund,
        ids=list(stuck[:200]),
        work=lambda pk: _refund_sync_processing(pk, paused=paused),
    )
    return sum(finished)


def _refund_sync_processing(refund_id: int, *, paused: set[str]) -> bool:
    """Ask about (or send again) one processing refund; True if it finished now.

    Raises: EventMismatch (the gateway's answer is not ours) and anything unexpected, recorded by the sweep.
    """
    channel = Refund.objects.values_list("payment__channel", flat=True).get(pk=refund_id)
    if channel in paused:
        return False
    try:
        try:
            refund = refund_sync(refund_id=refund_id)
        except RefundNotFound:
            refund = refund_send(refund_id=refund_id)
    except GatewayCircuitOpen:
        paused.add(channel)
        logger.info("refund sync paused for a channel whose circuit is open", extra={"channel": channel})
        return False
    except GatewayError:
        logger.warning("refund still unconfirmed", extra={"refund": refund_id}, exc_info=True)
        return False
    return refund.status != Refund.Status.PROCESSING
