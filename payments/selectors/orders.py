"""Reads of orders, payments and refunds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from courses.models import Course
from knowpay.money import format_cny
from payments.gateways import channel_display_name
from payments.models import GatewayCall, GatewayNotification, LedgerEntry, Order, Payment, PayoutAllocation, Refund


def order_get_for_learner(*, order_no: str, learner: User) -> Order:
    """The learner's own order; someone else's (or an unknown number) is a 404, never a 403."""
    order = (
        Order.objects.select_related("course", "course__creator__creator_profile")
        .filter(order_no=order_no, learner=learner)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def order_list_for_learner(*, learner: User) -> QuerySet[Order]:
    return (
        Order.objects.filter(learner=learner)
        .select_related("course")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("-created_at")))
        .order_by("-created_at")
    )


def payment_get_open_for_order(*, order: Order, out_trade_no: str) -> Payment:
    payment = order.payments.filter(out_trade_no=out_trade_no).first()
    if payment is None:
        raise Http404("No such payment.")
    return payment


def course_get_for_purchase(*, slug: str) -> Course:
    course = Course.objects.filter(slug=slug, status=Course.Status.PUBLISHED).first()
    if course is None:
        raise Http404("No such course.")
    return course


def refund_in_flight_for_order(*, order: Order) -> Refund | None:
    return order.refunds.filter(status__in=Refund.IN_FLIGHT).first()


@dataclass(frozen=True)
class TrailEvent:
    """One thing that happened to an order's money, for the order's admin page."""

    at: dt.datetime
    source: str  # attempt, gateway call, notification, refund, ledger
    reference: str
    what: str


def order_money_trail(*, order: Order) -> list[TrailEvent]:
    """Everything about an order's money in time order: attempts, every call to a gateway and what it
    answered, raw notifications, refunds, ledger entries and the payouts that paid the sale to its
    creator; so support can say what the gateway said, and when, and who was paid."""
    payments = list(order.payments.order_by("pk"))
    refunds = list(order.refunds.order_by("pk"))
    trade_nos = [p.out_trade_no for p in payments]
    refund_nos = [r.refund_no for r in refunds]
    events = []
    for payment in payments:
        events.append(
            TrailEvent(
                payment.created_at, "attempt", payment.out_trade_no, f"{payment.channel}/{payment.method} started"
            )
        )
        if payment.succeeded_at:
            duplicate = " (a duplicate)" if payment.is_duplicate else ""
            events.append(
                TrailEvent(payment.succeeded_at, "attempt", payment.out_trade_no, f"paid{duplicate}, per the gateway")
            )
        if payment.closed_at:
            events.append(TrailEvent(payment.closed_at, "attempt", payment.out_trade_no, "closed unpaid"))
    calls = GatewayCall.objects.filter(Q(out_trade_no__in=trade_nos) | Q(out_refund_no__in=refund_nos))
    for call in calls:
        said = call.result or f"{call.code} {call.error}".strip()
        events.append(
            TrailEvent(
                call.started_at,
                "gateway call",
                call.out_refund_no or call.out_trade_no,
                f"{call.channel} {call.get_operation_display().lower()}: {call.get_outcome_display().lower()}"
                f" in {call.duration_ms} ms; {said}",
            )
        )
    notifications = GatewayNotification.objects.filter(
        Q(payment__in=payments) | Q(refund__in=refunds) | Q(out_trade_no__in=trade_nos)
    )
    for notification in notifications:
        events.append(
            TrailEvent(
                notification.received_at,
                "notification",
                notification.out_trade_no or f"#{notification.pk}",
                f"{notification.channel} {notification.kind} {notification.event_type}: "
                f"{notification.get_outcome_display().lower()}",
            )
        )
    for refund in refunds:
        events.append(
            TrailEvent(
                refund.created_at,
                "refund",
                refund.refund_no,
                f"{refund.get_kind_display()}: {format_cny(refund.amount_fen)}",
            )
        )
        if refund.succeeded_at:
            events.append(TrailEvent(refund.succeeded_at, "refund", refund.refund_no, "succeeded at the gateway"))
    for entry in LedgerEntry.objects.filter(Q(payment__in=payments) | Q(refund__in=refunds)):
        events.append(TrailEvent(entry.created_at, "ledger", entry.reference, entry.description))
    allocations = PayoutAllocation.objects.filter(sale__payment__in=payments).select_related("payout")
    for allocation in allocations:
        payout = allocation.payout
        events.append(
            TrailEvent(
                payout.created_at,
                "payout",
                payout.payout_no,
                f"{format_cny(allocation.amount_fen)} of this sale in payout {payout.payout_no} to the creator "
                f"({payout.get_status_display().lower()})",
            )
        )
    return sorted(events, key=lambda event: event.at)


def refund_deadline(*, order: Order) -> dt.datetime | None:
    """Until when the learner may ask for a refund of this order; None if it was never paid."""
    if order.paid_at is None:
        return None
    return order.paid_at + dt.timedelta(days=settings.REFUND_WINDOW_DAYS)


@dataclass(frozen=True)
class OrderRefundSummary:
    """What My orders says about an order's refunds."""

    in_flight: tuple[Refund, ...]
    # The latest learner request, when staff turned it down (and nothing was asked since).
    rejected: Refund | None
    # Set while the learner can still ask for a refund.
    refundable_until: dt.datetime | None


@dataclass(frozen=True)
class OrderRow:
    order: Order
    refunds: OrderRefundSummary


def order_refund_summary(*, order: Order, now: dt.datetime | None = None) -> OrderRefundSummary:
    """Uses `order.refunds.all()`, so a prefetched list costs no query."""
    refunds = sorted(order.refunds.all(), key=lambda refund: (refund.created_at, refund.pk), reverse=True)
    in_flight = tuple(refund for refund in refunds if refund.status in Refund.IN_FLIGHT)
    learner_requests = [refund for refund in refunds if refund.kind == Refund.Kind.LEARNER]
    latest = learner_requests[0] if learner_requests else None
    rejected = latest if latest is not None and latest.status == Refund.Status.REJECTED else None
    deadline = refund_deadline(order=order)
    refundable = (
        order.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
        and not in_flight
        and deadline is not None
        and deadline > (now or timezone.now())
    )
    return OrderRefundSummary(in_flight=in_flight, rejected=rejected, refundable_until=deadline if refundable else None)


def order_rows_for_learner(*, learner: User) -> list[OrderRow]:
    """My orders: each order with what its refunds and refund window say."""
    now = timezone.now()
    return [
        OrderRow(order=order, refunds=order_refund_summary(order=order, now=now))
        for order in order_list_for_learner(learner=learner)
    ]


@dataclass(frozen=True)
class DuplicatePaymentRefund:
    refund: Refund
    channel_name: str


def duplicate_refunds_for_order(*, order: Order) -> list[DuplicatePaymentRefund]:
    """Automatic refunds of payments that arrived after the order was already paid."""
    refunds = order.refunds.filter(kind=Refund.Kind.DUPLICATE).select_related("payment").order_by("created_at")
    return [DuplicatePaymentRefund(refund, channel_display_name(refund.payment.channel)) for refund in refunds]
