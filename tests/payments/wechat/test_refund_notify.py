"""WeChat refund notifications at /payments/notify/wechat/refund/: req_info decrypted and checked."""

import pytest
from django.utils import timezone

from courses.models import Enrollment
from payments.models import GatewayNotification, Order, Payment, Refund
from tests.factories import EnrollmentFactory, OrderFactory, PaymentFactory, RefundFactory
from tests.payments.wechat.conftest import REFUND_NOTIFY_URL, acknowledged, reply_fields
from tests.payments.wechat.messages import OTHER_KEY, payment_notification, refund_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund(learner, course):
    """A partial refund of a paid WeChat payment, sent to WeChat and waiting for its notification."""
    order = OrderFactory(learner=learner, course=course, status=Order.Status.PAID, paid_at=timezone.now())
    EnrollmentFactory(learner=learner, course=course, reference=order.order_no)
    payment = PaymentFactory(
        order=order, channel="wechat", method="native", status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now()
    )
    return RefundFactory(payment=payment, amount_fen=290, kind=Refund.Kind.STAFF, status=Refund.Status.PROCESSING)


@pytest.fixture
def post_refund_notify(post_notify):
    return lambda body: post_notify(body, url=REFUND_NOTIFY_URL)


def assert_refund_untouched(refund):
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PROCESSING
    assert Payment.objects.get(pk=refund.payment_id).refunded_fen == 0
    order = Order.objects.get(pk=refund.order_id)
    assert (order.status, order.refunded_fen) == (Order.Status.PAID, 0)
    assert Enrollment.objects.get().revoked_at is None


def refused_because(response) -> str:
    assert reply_fields(response)["return_code"] == "FAIL"
    assert not acknowledged(response)
    stored = GatewayNotification.objects.get()
    assert (stored.kind, stored.outcome) == ("refund", GatewayNotification.Outcome.REJECTED)
    return stored.detail


# --- Refused ----------------------------------------------------------------------------------


def test_req_info_encrypted_with_another_key_is_refused(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund, key=OTHER_KEY))

    assert refused_because(response).startswith("BAD_ENCRYPTION")
    assert_refund_untouched(refund)


@pytest.mark.parametrize("req_info", ["", "not base64!", "c2hvcnQ="], ids=["empty", "not-base64", "not-blocks"])
def test_unreadable_req_info_is_refused(refund, post_refund_notify, req_info):
    response = post_refund_notify(refund_notification(refund, req_info=req_info))

    assert refused_because(response).startswith("MALFORMED")
    assert_refund_untouched(refund)


def test_refund_notification_for_another_appid_is_refused(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund, appid="wx9999999999999999"))

    assert refused_because(response).startswith("WRONG_APPID")
    assert_refund_untouched(refund)


def test_refund_notification_for_another_mch_id_is_refused(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund, mch_id="1999999999"))

    assert refused_because(response).startswith("WRONG_MCH_ID")
    assert_refund_untouched(refund)


def test_refund_notification_with_return_code_fail_is_refused(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund, return_code="FAIL"))

    assert refused_because(response).startswith("RETURN_FAIL")
    assert_refund_untouched(refund)


def test_refund_notification_for_an_unknown_refund_is_refused(refund, post_refund_notify):
    body = refund_notification(refund, info={"out_refund_no": "KP20260101000000000000R09"})

    response = post_refund_notify(body)

    assert refused_because(response).startswith("unknown_refund")
    assert_refund_untouched(refund)


def test_refund_notification_with_another_amount_is_refused(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund, info={"refund_fee": "1290"}))

    assert refused_because(response).startswith("amount_mismatch")
    assert_refund_untouched(refund)


def test_refund_notification_declaring_a_dtd_is_refused(refund, post_refund_notify):
    response = post_refund_notify(b"<!DOCTYPE xml>" + refund_notification(refund))

    assert refused_because(response).startswith("MALFORMED")
    assert_refund_untouched(refund)


def test_payment_notification_sent_to_the_refund_url_is_refused(refund, post_refund_notify):
    response = post_refund_notify(payment_notification(refund.payment))

    assert refused_because(response).startswith("MALFORMED")
    assert_refund_untouched(refund)


# --- Applied ----------------------------------------------------------------------------------


def test_successful_refund_notification_completes_the_refund(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund))

    assert acknowledged(response)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.gateway_refund_no == f"50300{refund.pk:024d}"
    order = Order.objects.get(pk=refund.order_id)
    assert (order.status, order.refunded_fen) == (Order.Status.PARTIALLY_REFUNDED, 290)
    assert Enrollment.objects.get().revoked_at is None


def test_refund_closed_at_wechat_fails_our_refund(refund, post_refund_notify):
    response = post_refund_notify(refund_notification(refund, info={"refund_status": "REFUNDCLOSE"}))

    assert acknowledged(response)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert "REFUNDCLOSE" in refund.failure_reason
    assert Order.objects.get(pk=refund.order_id).refunded_fen == 0


def test_repeated_refund_notification_refunds_once(refund, post_refund_notify):
    body = refund_notification(refund)

    replies = [post_refund_notify(body) for _ in range(3)]

    assert [acknowledged(reply) for reply in replies] == [True, True, True]
    assert Order.objects.get(pk=refund.order_id).refunded_fen == 290
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == ("processed", 3)
