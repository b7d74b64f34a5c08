"""Orders: created at the price of the moment, one pending per learner and course, closed cleanly."""

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from courses.models import Course
from payments.models import Order
from payments.services.orders import OrderError, order_cancel, order_create, orders_expire_due
from tests.factories import CourseFactory, EnrollmentFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [Course.Status.DRAFT, Course.Status.ARCHIVED])
def test_unpublished_course_cannot_be_bought(learner, status):
    course = CourseFactory(status=status)

    with pytest.raises(OrderError, match="cannot be bought"):
        order_create(learner=learner, course=course)

    assert not Order.objects.exists()


def test_free_course_cannot_be_bought(learner):
    with pytest.raises(OrderError):
        order_create(learner=learner, course=CourseFactory(price_fen=0))

    assert not Order.objects.exists()


def test_creator_cannot_buy_own_course(course):
    with pytest.raises(OrderError, match="own course"):
        order_create(learner=course.creator, course=course)


def test_enrolled_learner_cannot_buy_again(learner, course):
    EnrollmentFactory(learner=learner, course=course)

    with pytest.raises(OrderError, match="already have"):
        order_create(learner=learner, course=course)

    assert not Order.objects.exists()


def test_order_copies_price_and_gets_a_readable_number(learner, course):
    order = order_create(learner=learner, course=course)

    assert order.amount_fen == course.price_fen == 1290
    assert order.order_no.startswith("KP")
    assert len(order.order_no) == 22
    assert order.status == Order.Status.PENDING
    assert order.expires_at - order.created_at == pytest.approx(dt.timedelta(minutes=30), abs=dt.timedelta(seconds=5))


def test_buying_twice_reuses_the_pending_order(learner, course):
    first = order_create(learner=learner, course=course)

    again = order_create(learner=learner, course=course)

    assert again.pk == first.pk
    assert Order.objects.count() == 1


def test_expired_pending_order_is_replaced(learner, course):
    first = order_create(learner=learner, course=course)
    Order.objects.filter(pk=first.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    again = order_create(learner=learner, course=course)

    assert again.pk != first.pk
    first.refresh_from_db()
    assert (first.status, first.close_reason) == (Order.Status.CLOSED, Order.CloseReason.EXPIRED)


def test_price_change_replaces_the_pending_order(learner, course):
    first = order_create(learner=learner, course=course)
    Course.objects.filter(pk=course.pk).update(price_fen=4900)
    course.refresh_from_db()

    again = order_create(learner=learner, course=course)

    assert again.amount_fen == 4900
    first.refresh_from_db()
    assert first.status == Order.Status.CLOSED


def test_database_refuses_a_second_pending_order(learner, course):
    OrderFactory(learner=learner, course=course)

    with pytest.raises(IntegrityError):
        OrderFactory(learner=learner, course=course)


def test_cancel_closes_a_pending_order(learner, course):
    order = order_create(learner=learner, course=course)

    order_cancel(order=order)

    order.refresh_from_db()
    assert (order.status, order.close_reason) == (Order.Status.CLOSED, Order.CloseReason.CANCELLED)
    assert order.closed_at is not None


def test_cancel_of_a_closed_order_is_refused(learner, course):
    order = order_create(learner=learner, course=course)
    order_cancel(order=order)

    with pytest.raises(OrderError, match="cannot be cancelled"):
        order_cancel(order=order)


def test_expiry_closes_only_orders_whose_time_is_up(learner, course):
    due = order_create(learner=learner, course=course)
    fresh = OrderFactory()
    Order.objects.filter(pk=due.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert orders_expire_due() == 1

    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, due.close_reason) == (Order.Status.CLOSED, Order.CloseReason.EXPIRED)
    assert fresh.status == Order.Status.PENDING


@pytest.mark.parametrize(
    ("field", "value"), [("amount_fen", 0), ("refunded_fen", 99999)], ids=["zero-amount", "over-refunded"]
)
def test_database_refuses_impossible_amounts(field, value):
    with pytest.raises(IntegrityError):
        OrderFactory(**{field: value})
