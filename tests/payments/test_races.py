"""Real concurrency against PostgreSQL: many threads at once, then assertions on rows."""

import pytest
from django.test import Client

from courses.models import Enrollment
from payments.models import GatewayNotification, LedgerEntry, Order, OutboxMessage, Payment
from payments.services.checkout import payment_start
from payments.services.orders import order_create
from tests.concurrency import run_at_once
from tests.payments.conftest import NOTIFY_URL, sandbox_notification_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_identical_notifications_at_once_pay_exactly_once(payment):
    body = sandbox_notification_body(payment)

    replies = run_at_once(
        50, lambda i: Client().post(NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded")
    )

    assert [r.content for r in replies] == [b"SUCCESS"] * 50
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Enrollment.objects.filter(learner=payment.order.learner, course=payment.order.course).count() == 1
    assert OutboxMessage.objects.filter(topic="order_paid").count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SALE, payment=payment).count() == 1
    # Stored once, counted fifty times; "processed" stays the outcome on record.
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == ("processed", 50)


def test_concurrent_buy_clicks_create_one_pending_order(learner, course):
    orders = run_at_once(20, lambda i: order_create(learner=learner, course=course))

    assert all(isinstance(o, Order) for o in orders), orders
    assert len({o.pk for o in orders}) == 1
    assert Order.objects.filter(learner=learner, course=course).count() == 1


def test_concurrent_pay_clicks_create_one_attempt(learner, course):
    order = order_create(learner=learner, course=course)

    results = run_at_once(
        10, lambda i: payment_start(order=order, channel="sandbox", method="page", client_ip="127.0.0.1")
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert len({payment.pk for payment, _ in results}) == 1
    assert Payment.objects.filter(order=order).count() == 1
