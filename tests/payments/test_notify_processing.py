"""Valid notifications: applied exactly once, replies in the gateway's format, edge cases of real gateways."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from courses.models import Enrollment
from payments.models import GatewayNotification, Order, Payment, Refund
from payments.services.orders import order_cancel
from tests.factories import EnrollmentFactory, PaymentFactory
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db


def test_valid_notification_pays_order_and_grants_course(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment))

    assert response.status_code == 200
    assert response.content == b"SUCCESS"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.gateway_trade_no.startswith("SBX")
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.PAID
    assert order.paid_at is not None
    enrollment = Enrollment.objects.get(learner=order.learner, course=order.course)
    assert (enrollment.source, enrollment.reference) == (Enrollment.Source.PURCHASE, order.order_no)


def test_valid_notification_is_recorded_as_processed(payment, post_notify):
    post_notify(sandbox_notification_body(payment))

    stored = GatewayNotification.objects.get()
    assert stored.outcome == GatewayNotification.Outcome.PROCESSED
    assert stored.payment == payment
    assert stored.out_trade_no == payment.out_trade_no
    assert stored.processed_at is not None


def test_paid_order_sends_one_email_to_the_learner(payment, post_notify, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_notify(sandbox_notification_body(payment))
        post_notify(sandbox_notification_body(payment))

    to_learner = [message for message in mail.outbox if message.to == [payment.order.learner.email]]
    assert len(to_learner) == 1


def test_the_plain_text_email_is_not_html_escaped(payment, post_notify, django_capture_on_commit_callbacks):
    course = payment.order.course
    course.title = "Tom & Jerry's <Guide>"
    course.save()

    with django_capture_on_commit_callbacks(execute=True):
        post_notify(sandbox_notification_body(payment))

    assert 'full access to "Tom & Jerry\'s <Guide>"' in mail.outbox[0].body


def test_replayed_notification_is_acknowledged_without_side_effects(payment, post_notify):
    body = sandbox_notification_body(payment)
    post_notify(body)

    replies = [post_notify(body).content for _ in range(3)]

    assert replies == [b"SUCCESS"] * 3
    assert Enrollment.objects.count() == 1
    # The identical body is stored once, processed, and counted on its row.
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == ("processed", 4)


def test_payment_after_order_was_cancelled_is_accepted_and_fulfilled(payment, post_notify):
    order_cancel(order=payment.order)

    response = post_notify(sandbox_notification_body(payment))

    assert response.content == b"SUCCESS"
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.PAID
    assert order.paid_after_close
    assert order.closed_at is not None
    assert Enrollment.objects.filter(learner=order.learner, course=order.course, revoked_at=None).exists()


def test_payment_after_order_expired_is_accepted_and_fulfilled(payment, post_notify):
    Order.objects.filter(pk=payment.order_id).update(
        status=Order.Status.CLOSED, close_reason="expired", closed_at=timezone.now()
    )

    post_notify(sandbox_notification_body(payment))

    assert Order.objects.get(pk=payment.order_id).paid_after_close


def test_second_successful_payment_is_recorded_as_duplicate_and_refunded(payment, post_notify):
    second = PaymentFactory(order=payment.order)
    post_notify(sandbox_notification_body(payment))

    response = post_notify(sandbox_notification_body(second, trade_no="SBX-second"))

    assert response.content == b"SUCCESS"
    second.refresh_from_db()
    assert second.status == Payment.Status.SUCCEEDED
    assert second.is_duplicate
    refund = Refund.objects.get(payment=second)
    assert (refund.kind, refund.amount_fen) == (Refund.Kind.DUPLICATE, second.amount_fen)
    assert refund.status in (Refund.Status.PROCESSING, Refund.Status.SUCCEEDED)
    assert Enrollment.objects.count() == 1
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


def test_payment_for_a_course_already_owned_through_another_order_is_a_duplicate(payment, post_notify):
    EnrollmentFactory(learner=payment.order.learner, course=payment.order.course, reference="KP-other-order")

    post_notify(sandbox_notification_body(payment))

    payment.refresh_from_db()
    assert payment.is_duplicate
    assert Refund.objects.filter(payment=payment, kind=Refund.Kind.DUPLICATE).exists()


def test_closed_then_paid_out_of_order_ends_paid(payment, post_notify):
    post_notify(sandbox_notification_body(payment, trade_status="CLOSED", notify_id="N1"))

    post_notify(sandbox_notification_body(payment, notify_id="N2"))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


def test_closed_after_paid_changes_nothing(payment, post_notify):
    post_notify(sandbox_notification_body(payment))

    response = post_notify(sandbox_notification_body(payment, trade_status="CLOSED"))

    assert response.content == b"SUCCESS"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert GatewayNotification.objects.order_by("-id").first().outcome == GatewayNotification.Outcome.IGNORED


def test_waiting_notification_changes_nothing_but_is_acknowledged(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, trade_status="WAITING"))

    assert response.content == b"SUCCESS"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED


def test_gateway_paid_time_is_kept(payment, post_notify):
    paid_at = timezone.now() - dt.timedelta(minutes=3)

    post_notify(sandbox_notification_body(payment, paid_at=paid_at.isoformat()))

    assert Order.objects.get(pk=payment.order_id).paid_at == paid_at


def test_closed_notification_without_the_amount_still_closes_the_attempt(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, trade_status="CLOSED", amount_fen="0"))

    assert response.content == b"SUCCESS"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CLOSED
