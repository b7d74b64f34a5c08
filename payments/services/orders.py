"""Orders: created at the price of the moment, reused while pending, closed when cancelled or expired."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from courses.models import Course
from courses.selectors import course_is_enrolled
from knowpay.api import ServiceError
from knowpay.enqueue import enqueue_after_commit
from payments.models import Order, Payment
from payments.services import risk
from payments.services.numbers import order_no_new
from payments.services.sweeps import sweep_backing_off, sweep_each

logger = logging.getLogger(__name__)


class OrderError(ServiceError):
    pass


def order_create(*, learner: User, course: Course, client_ip: str | None = None) -> Order:
    """The learner's pending order for this course: the existing one if still valid, else a new one.

    A new order beyond the velocity limits is held for review (payments.services.risk).

    Raises:
        OrderError: the course cannot be bought (draft, archived, free, own course) or is already owned.
        RiskRefused: the learner or the address is blocked.
    """
    if not course.is_published or course.is_free:
        raise OrderError("This course cannot be bought.", code="not_purchasable")
    if course.creator_id == learner.pk:
        raise OrderError("You cannot buy your own course.", code="own_course")
    if course_is_enrolled(learner=learner, course=course):
        raise OrderError("You already have this course.", code="already_enrolled")
    risk.risk_blocklist_check(action="order", user=learner, ip=client_ip)
    for _ in range(3):
        with transaction.atomic():
            existing = Order.objects.select_for_update(no_key=True).filter(
                learner=learner, course=course, status=Order.Status.PENDING
            )
            order = existing.first()
            if order is not None:
                if order.expires_at > timezone.now() and order.amount_fen == course.price_fen:
                    return order
                # Expired, or the price changed since: the old order goes, a new one takes its place.
                reason = (
                    Order.CloseReason.EXPIRED if order.expires_at <= timezone.now() else Order.CloseReason.CANCELLED
                )
                _order_close_locked(order, reason=reason)
            hold_reason = risk.risk_order_hold_reason(learner=learner, ip=client_ip)
            try:
                with transaction.atomic():
                    order = Order.objects.create(
                        order_no=order_no_new(),
                        learner=learner,
                        course=course,
                        amount_fen=course.price_fen,
                        expires_at=timezone.now() + dt.timedelta(minutes=settings.ORDER_TIMEOUT_MINUTES),
                        client_ip=client_ip,
                        held_for_review=bool(hold_reason),
                    )
            except IntegrityError:
                # A concurrent click created the pending order (or the order number collided): look again.
                continue
            if hold_reason:
                risk.risk_order_held(order=order, reason=hold_reason)
            return order
    raise OrderError("Could not create the order; please try again.", code="conflict")


def order_cancel(*, order: Order) -> Order:
    """The learner gives up on a pending order. Raises OrderError if it is not pending."""
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            raise OrderError(f"This order is {order.get_status_display().lower()} and cannot be cancelled.")
        _order_close_locked(order, reason=Order.CloseReason.CANCELLED)
    return order


def order_expire(*, order_id: int, now: dt.datetime | None = None) -> bool:
    """Close one pending order whose time is up. Returns True if it was closed now."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True).filter(pk=order_id, status=Order.Status.PENDING).first()
        if order is None or order.expires_at > now:
            return False
        _order_close_locked(order, reason=Order.CloseReason.EXPIRED)
    return True


def orders_expire_due(*, now: dt.datetime | None = None) -> int:
    """Close every pending order whose time is up, the longest overdue first. Returns how many."""
    now = now or timezone.now()
    due = (
        Order.objects.filter(status=Order.Status.PENDING, expires_at__lte=now)
        .exclude(pk__in=sweep_backing_off(sweep="orders_expire", now=now))
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)
    )
    closed = sweep_each(
        sweep="orders_expire",
        model=Order,
        ids=list(due[:1000]),
        work=lambda pk: order_expire(order_id=pk, now=now),
        now=now,
    )
    return sum(closed)


def _order_close_locked(order: Order, *, reason: str) -> None:
    order.status = Order.Status.CLOSED
    order.close_reason = reason
    order.closed_at = timezone.now()
    order.save(update_fields=["status", "close_reason", "closed_at", "updated_at"])
    payments_close_at_gateway_later(order=order)


def payments_close_at_gateway_later(*, order: Order, keep: Payment | None = None) -> None:
    """After commit, close the order's open attempts at their gateways so they cannot be paid.

    A payment can still arrive (the gateway was slow, the close failed); it is then fulfilled late.
    """
    open_attempts = order.payments.filter(status=Payment.Status.CREATED)
    if keep is not None:
        open_attempts = open_attempts.exclude(pk=keep.pk)
    ids = list(open_attempts.values_list("pk", flat=True))
    if not ids:
        return
    from payments.tasks import payment_close_task  # tasks import services; the reverse only here

    for payment_id in ids:
        enqueue_after_commit(payment_close_task, payment_id)
