"""Alipay's notifications at /payments/notify/alipay/: signed bodies through the real verification.

Anything but a verified notification of ours is answered `fail` (Alipay resends it) and changes
nothing; a processed or already processed one is answered `success`.
"""

import pytest
from cryptography.hazmat.primitives import hashes

from courses.models import Enrollment
from payments.models import GatewayNotification, LedgerEntry, Order, Payment
from payments.services.orders import order_cancel
from tests.payments.alipay.helpers import NOTIFY_URL, app_key, notification_body, stranger_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def notify(client):
    def post(body: bytes):
        return client.post(NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded; charset=utf-8")

    return post


def assert_nothing_changed(payment):
    payment.refresh_from_db()
    payment.order.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert payment.order.status == Order.Status.PENDING
    assert not Enrollment.objects.exists()
    assert not LedgerEntry.objects.exists()


def rejected_because():
    stored = GatewayNotification.objects.get()
    assert stored.outcome == GatewayNotification.Outcome.REJECTED
    return stored.detail


# --- Refused: the reply is not `success`, nothing changes ------------------------------------


def test_notification_signed_with_another_key_is_refused(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, key=stranger_key()))

    assert response.content == b"fail"
    assert rejected_because().startswith("BAD_SIGNATURE")
    assert_nothing_changed(alipay_payment)


def test_notification_signed_with_our_own_app_key_is_refused(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, key=app_key()))

    assert response.content == b"fail"
    assert rejected_because().startswith("BAD_SIGNATURE")
    assert_nothing_changed(alipay_payment)


def test_valid_rsa_sha1_signature_is_refused_for_its_sign_type(alipay_payment, notify):
    body = notification_body(alipay_payment, sign_type="RSA", algorithm=hashes.SHA1())  # noqa: S303 (the point of the test)

    response = notify(body)

    assert response.content == b"fail"
    assert rejected_because().startswith("WRONG_SIGN_TYPE")
    assert_nothing_changed(alipay_payment)


def test_sha1_signature_labelled_rsa2_is_refused(alipay_payment, notify):
    body = notification_body(alipay_payment, algorithm=hashes.SHA1())  # noqa: S303 (the point of the test)

    response = notify(body)

    assert response.content == b"fail"
    assert rejected_because().startswith("BAD_SIGNATURE")
    assert_nothing_changed(alipay_payment)


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        ("total_amount", "0.01"),
        ("app_id", "2021999999999999"),
        ("seller_id", "2088999999999999"),
        ("out_trade_no", "X"),
    ],
)
def test_field_changed_after_signing_breaks_the_signature(alipay_payment, notify, field, forged):
    body = notification_body(alipay_payment)
    tampered = b"&".join(
        f"{field}={forged}".encode() if pair.startswith(f"{field}=".encode()) else pair for pair in body.split(b"&")
    )

    response = notify(tampered)

    assert response.content == b"fail"
    assert rejected_because().startswith("BAD_SIGNATURE")
    assert_nothing_changed(alipay_payment)


def test_signed_notification_with_another_amount_is_refused(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, total_amount="12.89"))

    assert response.content == b"fail"
    assert rejected_because().startswith("amount_mismatch")
    assert_nothing_changed(alipay_payment)


def test_signed_notification_for_another_app_is_refused(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, app_id="2021999999999999"))

    assert response.content == b"fail"
    assert rejected_because().startswith("WRONG_APP")
    assert_nothing_changed(alipay_payment)


def test_signed_notification_for_another_seller_is_refused(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, seller_id="2088999999999999"))

    assert response.content == b"fail"
    assert rejected_because().startswith("WRONG_SELLER")
    assert_nothing_changed(alipay_payment)


def test_signed_notification_for_an_unknown_order_is_refused(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, out_trade_no="KP20261122000000999999P01"))

    assert response.content == b"fail"
    assert rejected_because().startswith("unknown_trade")
    assert_nothing_changed(alipay_payment)


@pytest.mark.parametrize(
    ("field", "value"), [("total_amount", "12.9O"), ("total_amount", "1e2"), ("trade_status", "PAID")]
)
def test_signed_notification_with_an_unreadable_field_is_refused(alipay_payment, notify, field, value):
    response = notify(notification_body(alipay_payment, **{field: value}))

    assert response.content == b"fail"
    assert rejected_because().startswith("MALFORMED")
    assert_nothing_changed(alipay_payment)


@pytest.mark.parametrize(
    "body",
    [b"", b"not a form", b"\xff\xfe garbage", b"sign_type=RSA2&sign_type=RSA2"],
    ids=["empty", "not-form", "not-utf8", "repeated-field"],
)
def test_malformed_body_is_refused(alipay_payment, notify, body):
    response = notify(body)

    assert response.content == b"fail"
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.REJECTED
    assert_nothing_changed(alipay_payment)


def test_partial_body_is_refused(alipay_payment, notify):
    body = notification_body(alipay_payment)

    response = notify(body[: len(body) // 2])

    assert response.content == b"fail"
    assert_nothing_changed(alipay_payment)


def test_notification_without_sign_type_is_refused(alipay_payment, notify):
    body = b"&".join(
        pair for pair in notification_body(alipay_payment).split(b"&") if not pair.startswith(b"sign_type=")
    )

    response = notify(body)

    assert response.content == b"fail"
    assert rejected_because().startswith("WRONG_SIGN_TYPE")
    assert_nothing_changed(alipay_payment)


# --- Accepted: `success`, applied exactly once -----------------------------------------------


def test_trade_success_pays_the_order_and_grants_the_course(alipay_payment, notify):
    response = notify(notification_body(alipay_payment))

    assert (response.status_code, response.content) == (200, b"success")
    alipay_payment.refresh_from_db()
    assert alipay_payment.status == Payment.Status.SUCCEEDED
    assert alipay_payment.gateway_trade_no.startswith("20261122")
    assert alipay_payment.payer_ref == "2088102177846880"
    assert Order.objects.get(pk=alipay_payment.order_id).status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=alipay_payment.order.learner, revoked_at=None).count() == 1


def test_reply_is_exactly_the_seven_characters_alipay_expects(alipay_payment, notify):
    response = notify(notification_body(alipay_payment))

    assert response.content == b"success"
    assert response["Content-Type"].startswith("text/plain")


def test_empty_fields_are_left_out_of_the_signed_content(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, passback_params="", body=""))

    assert response.content == b"success"


def test_seller_id_is_not_checked_when_none_is_configured(alipay_payment, notify, settings):
    settings.ALIPAY_SELLER_ID = ""

    response = notify(notification_body(alipay_payment, seller_id="2088999999999999"))

    assert response.content == b"success"


def test_trade_finished_after_trade_success_is_one_payment_and_both_are_acknowledged(alipay_payment, notify):
    first = notify(notification_body(alipay_payment))
    second = notify(notification_body(alipay_payment, trade_status="TRADE_FINISHED", notify_id="N-finished"))

    assert (first.content, second.content) == (b"success", b"success")
    assert LedgerEntry.objects.filter(reference__startswith="sale:").count() == 1
    assert Enrollment.objects.count() == 1
    outcomes = list(GatewayNotification.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [GatewayNotification.Outcome.PROCESSED, GatewayNotification.Outcome.DUPLICATE]


def test_trade_finished_alone_pays_the_order(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, trade_status="TRADE_FINISHED"))

    assert response.content == b"success"
    assert Order.objects.get(pk=alipay_payment.order_id).status == Order.Status.PAID


def test_resent_notification_is_acknowledged_without_side_effects(alipay_payment, notify):
    body = notification_body(alipay_payment)
    notify(body)

    replies = [notify(body).content for _ in range(2)]

    assert replies == [b"success", b"success"]
    assert LedgerEntry.objects.filter(reference__startswith="sale:").count() == 1


def test_wait_buyer_pay_is_acknowledged_and_changes_nothing(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, trade_status="WAIT_BUYER_PAY", gmt_payment=""))

    assert response.content == b"success"
    assert_nothing_changed(alipay_payment)


def test_trade_closed_closes_the_unpaid_attempt(alipay_payment, notify):
    response = notify(notification_body(alipay_payment, trade_status="TRADE_CLOSED", gmt_payment=""))

    assert response.content == b"success"
    alipay_payment.refresh_from_db()
    assert alipay_payment.status == Payment.Status.CLOSED
    assert not Enrollment.objects.exists()


def test_payment_for_a_closed_order_is_accepted_and_fulfilled_late(alipay_payment, notify):
    order_cancel(order=alipay_payment.order)

    response = notify(notification_body(alipay_payment))

    assert response.content == b"success"
    order = Order.objects.get(pk=alipay_payment.order_id)
    assert order.status == Order.Status.PAID
    assert order.paid_after_close
    assert Enrollment.objects.filter(learner=order.learner, revoked_at=None).exists()


def test_refund_notification_for_a_paid_trade_is_acknowledged_without_effect(alipay_payment, notify):
    notify(notification_body(alipay_payment))

    response = notify(notification_body(alipay_payment, notify_id="N-refund", out_biz_no="R01", refund_fee="2.90"))

    assert response.content == b"success"
    assert Order.objects.get(pk=alipay_payment.order_id).status == Order.Status.PAID
    assert LedgerEntry.objects.count() == 1
