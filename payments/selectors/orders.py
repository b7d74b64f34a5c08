"""Reads of orders, payments and refunds."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from courses.models import Course
from payments.models import Order, Payment, Refund


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
