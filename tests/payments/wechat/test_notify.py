"""WeChat payment notifications at /payments/notify/wechat/: refused with FAIL and nothing changed,
or applied exactly once and acknowledged with SUCCESS."""

import threading

import pytest
from django.db import connection
from django.test import Client

from courses.models import Enrollment
from payments.models import GatewayNotification, Order, Payment
from tests.payments.wechat.conftest import NOTIFY_URL, acknowledged, reply_fields
from tests.payments.wechat.messages import OTHER_KEY, payment_notification

pytestmark = pytest.mark.django_db


def assert_nothing_changed(payment):
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING
    assert not Enrollment.objects.exists()


def refused_because(response) -> str:
    """The reason stored on the notification row, after checking WeChat was told FAIL."""
    assert response.status_code == 200
    assert reply_fields(response)["return_code"] == "FAIL"
    assert not acknowledged(response)
    stored = GatewayNotification.objects.get()
    assert stored.outcome == GatewayNotification.Outcome.REJECTED
    return stored.detail


# --- Refused ----------------------------------------------------------------------------------


def test_notification_signed_with_another_key_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, key=OTHER_KEY))

    assert refused_because(response).startswith("BAD_SIGNATURE")
    assert_nothing_changed(payment)


def test_unsigned_notification_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, sign=False))

    assert refused_because(response).startswith("UNSIGNED")
    assert_nothing_changed(payment)


def test_hmac_signed_notification_is_refused_when_md5_is_configured(payment, post_notify, settings):
    settings.WECHAT_SIGN_TYPE = "MD5"

    response = post_notify(payment_notification(payment, sign_type="HMAC-SHA256"))

    assert refused_because(response).startswith("BAD_SIGNATURE")
    assert_nothing_changed(payment)


def test_md5_signed_notification_is_refused_when_hmac_is_configured(payment, post_notify, settings):
    settings.WECHAT_SIGN_TYPE = "HMAC-SHA256"

    response = post_notify(payment_notification(payment, sign_type="MD5"))

    assert refused_because(response).startswith("BAD_SIGNATURE")
    assert_nothing_changed(payment)


def test_tampered_total_fee_breaks_the_signature(payment, post_notify):
    body = payment_notification(payment).replace(
        f"<total_fee>{payment.amount_fen}</total_fee>".encode(), b"<total_fee>1</total_fee>"
    )

    response = post_notify(body)

    assert refused_because(response).startswith("BAD_SIGNATURE")
    assert_nothing_changed(payment)


def test_signed_notification_with_another_amount_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, total_fee=str(payment.amount_fen - 1)))

    assert refused_because(response).startswith("amount_mismatch")
    assert_nothing_changed(payment)


def test_notification_for_another_appid_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, appid="wx9999999999999999"))

    assert refused_because(response).startswith("WRONG_APPID")
    assert_nothing_changed(payment)


def test_notification_for_another_mch_id_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, mch_id="1999999999"))

    assert refused_because(response).startswith("WRONG_MCH_ID")
    assert_nothing_changed(payment)


def test_notification_with_result_code_fail_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, result_code="FAIL", err_code="SYSTEMERROR"))

    assert refused_because(response).startswith("RESULT_FAIL")
    assert_nothing_changed(payment)


def test_notification_with_return_code_fail_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, return_code="FAIL", return_msg="通信失败"))

    assert refused_because(response).startswith("RETURN_FAIL")
    assert_nothing_changed(payment)


def test_notification_for_an_unknown_out_trade_no_is_refused(payment, post_notify):
    response = post_notify(payment_notification(payment, out_trade_no="KP20260101000000000000P01"))

    assert refused_because(response).startswith("unknown_trade")
    assert_nothing_changed(payment)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY fee "1">]><xml><total_fee>&fee;</total_fee></xml>',
        b'<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd"><xml><return_code>SUCCESS</return_code></xml>',
        b'<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><xml><x>&b;</x></xml>',
    ],
    ids=["internal-entity", "external-dtd", "entity-expansion"],
)
def test_xml_with_a_dtd_or_entities_is_refused(payment, post_notify, body):
    response = post_notify(body)

    assert refused_because(response).startswith("MALFORMED")
    assert_nothing_changed(payment)


def test_signed_notification_that_declares_a_dtd_is_refused(payment, post_notify):
    body = b"<!DOCTYPE xml>" + payment_notification(payment)

    response = post_notify(body)

    assert refused_because(response).startswith("MALFORMED")
    assert_nothing_changed(payment)


@pytest.mark.parametrize(
    "body",
    [b"", b"return_code=SUCCESS&total_fee=1", b"\xff\xfe\x00garbage", b"<xml><a>1</a><a>2</a></xml>"],
    ids=["empty", "not-xml", "not-utf8", "repeated-field"],
)
def test_malformed_notification_is_refused_and_stored(payment, post_notify, body):
    response = post_notify(body)

    assert refused_because(response).startswith("MALFORMED")
    assert bytes(GatewayNotification.objects.get().body) == body
    assert_nothing_changed(payment)


# --- Applied ----------------------------------------------------------------------------------


def test_valid_notification_pays_the_order_and_is_acknowledged(payment, post_notify):
    response = post_notify(payment_notification(payment))

    assert acknowledged(response)
    assert reply_fields(response) == {"return_code": "SUCCESS", "return_msg": "OK"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.gateway_trade_no == f"42000009{payment.pk:020d}"
    assert payment.payer_ref == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=payment.order.learner, course=payment.order.course).exists()


def test_hmac_signed_notification_is_applied_when_hmac_is_configured(payment, post_notify, settings):
    settings.WECHAT_SIGN_TYPE = "HMAC-SHA256"

    response = post_notify(payment_notification(payment, sign_type="HMAC-SHA256"))

    assert acknowledged(response)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED


def test_unknown_fields_are_signed_and_accepted(payment, post_notify):
    response = post_notify(payment_notification(payment, attach="course 1", new_field_from_2030="x"))

    assert acknowledged(response)


def test_same_notification_three_times_pays_once_and_is_acknowledged_three_times(payment, post_notify):
    body = payment_notification(payment)

    replies = [post_notify(body) for _ in range(3)]

    assert [acknowledged(reply) for reply in replies] == [True, True, True]
    assert Enrollment.objects.count() == 1
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == ("processed", 3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_notification_three_times_at_once_pays_once(payment):
    body = payment_notification(payment)
    barrier = threading.Barrier(3)
    replies = [None] * 3

    def deliver(i: int) -> None:
        try:
            barrier.wait()
            replies[i] = Client().post(NOTIFY_URL, data=body, content_type="text/xml")
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [acknowledged(reply) for reply in replies] == [True, True, True]
    assert Enrollment.objects.count() == 1
    # One row for the one body, counting the three deliveries; "processed" stays on record.
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == ("processed", 3)
