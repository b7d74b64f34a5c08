"""Refund rules: the window, ownership, amounts, one in flight, decisions made once."""

import datetime as dt

import pytest
from django.utils import timezone

from payments.gateways.base import RefundEvent, RefundStatus
from payments.models import Order, Payment, Refund
from payments.services.events import EventMismatch
from payments.services.refunds import (
    RefundError,
    refund_approve,
    refund_event_apply,
    refund_issue,
    refund_reject,
    refund_request,
)
from tests.factories import OrderFactory, PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def paid_order(learner, course):
    order = OrderFactory(learner=learner, course=course, status=Order.Status.PAID, paid_at=timezone.now())
    PaymentFactory(order=order, status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())
    return order


def succeed(refund):
    return refund_event_apply(
        channel="sandbox",
        event=RefundEvent(
            out_trade_no=refund.payment.out_trade_no,
            out_refund_no=refund.refund_no,
            status=RefundStatus.SUCCEEDED,
            refund_fen=refund.amount_fen,
        ),
    )


def test_learner_cannot_request_a_refund_after_the_window(paid_order, learner, settings):
    Order.objects.filter(pk=paid_order.pk).update(
        paid_at=timezone.now() - dt.timedelta(days=settings.REFUND_WINDOW_DAYS, minutes=1)
    )

    with pytest.raises(RefundError, match="within 7 days"):
        refund_request(order=paid_order, learner=learner)

    assert not Refund.objects.exists()


def test_learner_cannot_request_a_refund_of_someone_elses_order(paid_order):
    with pytest.raises(RefundError, match="not your order"):
        refund_request(order=paid_order, learner=UserFactory())


def test_unpaid_order_cannot_be_refunded(learner):
    order = OrderFactory(learner=learner)

    with pytest.raises(RefundError, match="Only paid orders"):
        refund_request(order=order, learner=learner)


@pytest.mark.parametrize("amount", [0, -5, 1291])
def test_refund_amount_must_be_positive_and_at_most_what_is_left(paid_order, learner, amount):
    with pytest.raises(RefundError):
        refund_request(order=paid_order, learner=learner, amount_fen=amount)

    assert not Refund.objects.exists()


def test_staff_refund_ignores_the_window(paid_order, staff, settings, django_capture_on_commit_callbacks):
    Order.objects.filter(pk=paid_order.pk).update(paid_at=timezone.now() - dt.timedelta(days=90))

    with django_capture_on_commit_callbacks() as sent:
        refund = refund_issue(order=paid_order, staff=staff, amount_fen=500, reason="goodwill")

    assert (refund.status, refund.decided_by) == (Refund.Status.PROCESSING, staff)
    # Sent to the gateway after commit, once (the other callback counts the refund in the metrics).
    assert [callback.__qualname__.split(".")[0] for callback in sent] == ["count_after_commit", "enqueue_after_commit"]


def test_approving_twice_is_refused(paid_order, learner, staff):
    refund = refund_request(order=paid_order, learner=learner)
    refund_approve(refund=refund, staff=staff)

    with pytest.raises(RefundError, match="already"):
        refund_approve(refund=refund, staff=staff)


def test_rejecting_an_approved_refund_is_refused(paid_order, learner, staff):
    refund = refund_request(order=paid_order, learner=learner)
    refund_approve(refund=refund, staff=staff)

    with pytest.raises(RefundError, match="already"):
        refund_reject(refund=refund, staff=staff, note="no")

    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PROCESSING


def test_rejection_records_who_and_when(paid_order, learner, staff):
    refund = refund_request(order=paid_order, learner=learner)

    refund_reject(refund=refund, staff=staff, note="Course fully consumed")

    refund.refresh_from_db()
    assert (refund.status, refund.decided_by, refund.decision_note) == (
        Refund.Status.REJECTED,
        staff,
        "Course fully consumed",
    )
    assert refund.decided_at is not None


def test_partial_refund_success_marks_the_order_partially_refunded(paid_order, staff):
    refund = refund_issue(order=paid_order, staff=staff, amount_fen=290, reason="partial")

    succeed(refund)

    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_fen) == (Order.Status.PARTIALLY_REFUNDED, 290)


def test_refunds_add_up_to_a_full_refund(paid_order, staff):
    succeed(refund_issue(order=paid_order, staff=staff, amount_fen=290, reason="first"))
    succeed(refund_issue(order=paid_order, staff=staff, amount_fen=1000, reason="rest"))

    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_fen) == (Order.Status.REFUNDED, 1290)
    with pytest.raises(RefundError):
        refund_issue(order=paid_order, staff=staff, amount_fen=1, reason="too much")


def test_refund_success_applied_twice_counts_once(paid_order, staff):
    refund = refund_issue(order=paid_order, staff=staff, amount_fen=290, reason="partial")

    succeed(refund)
    succeed(refund)

    assert Order.objects.get(pk=paid_order.pk).refunded_fen == 290


def test_refund_event_with_another_amount_is_refused(paid_order, staff):
    refund = refund_issue(order=paid_order, staff=staff, amount_fen=290, reason="partial")

    with pytest.raises(EventMismatch):
        refund_event_apply(
            channel="sandbox",
            event=RefundEvent(
                out_trade_no=refund.payment.out_trade_no,
                out_refund_no=refund.refund_no,
                status=RefundStatus.SUCCEEDED,
                refund_fen=1290,
            ),
        )

    assert Order.objects.get(pk=paid_order.pk).refunded_fen == 0


def test_success_for_a_refund_never_sent_is_refused(paid_order, learner):
    refund = refund_request(order=paid_order, learner=learner)

    with pytest.raises(EventMismatch):
        succeed(refund)

    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.REQUESTED


def test_processing_refund_keeps_the_gateways_refund_id(paid_order, staff):
    refund = refund_issue(order=paid_order, staff=staff, amount_fen=290, reason="partial")

    refund_event_apply(
        channel="sandbox",
        event=RefundEvent(
            out_trade_no=refund.payment.out_trade_no,
            out_refund_no=refund.refund_no,
            status=RefundStatus.PROCESSING,
            refund_fen=290,
            gateway_refund_no="50300000012026112200000001",
        ),
    )

    refund.refresh_from_db()
    assert (refund.status, refund.gateway_refund_no) == (Refund.Status.PROCESSING, "50300000012026112200000001")
