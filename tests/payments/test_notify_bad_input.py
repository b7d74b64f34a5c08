"""Bad notifications: stored, answered with the gateway's failure reply, nothing changed."""

import logging

import pytest

from courses.models import Enrollment
from payments.models import GatewayNotification, Order, Payment
from tests.payments.conftest import NOTIFY_URL, sandbox_notification_body

pytestmark = pytest.mark.django_db


def assert_nothing_changed(payment):
    payment.refresh_from_db()
    payment.order.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert payment.order.status == Order.Status.PENDING
    assert not Enrollment.objects.exists()


def stored_outcome():
    return GatewayNotification.objects.get().outcome


def test_unsigned_notification_is_refused(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, sign=False))

    assert response.content == b"FAIL"
    assert stored_outcome() == GatewayNotification.Outcome.REJECTED
    assert_nothing_changed(payment)


def test_notification_signed_with_another_key_is_refused(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, key="not-the-merchant-key"))

    assert response.content == b"FAIL"
    assert "BAD_SIGNATURE" in GatewayNotification.objects.get().detail
    assert_nothing_changed(payment)


def test_tampered_amount_breaks_the_signature(payment, post_notify):
    body = sandbox_notification_body(payment).replace(f"amount_fen={payment.amount_fen}".encode(), b"amount_fen=1")

    response = post_notify(body)

    assert response.content == b"FAIL"
    assert "BAD_SIGNATURE" in GatewayNotification.objects.get().detail
    assert_nothing_changed(payment)


def test_signed_notification_with_wrong_amount_is_refused(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, amount_fen=str(payment.amount_fen - 1)))

    assert response.content == b"FAIL"
    assert GatewayNotification.objects.get().detail.startswith("amount_mismatch")
    assert_nothing_changed(payment)


def test_notification_for_another_merchant_is_refused(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, merchant_id="SOMEONE-ELSE"))

    assert response.content == b"FAIL"
    assert "WRONG_MERCHANT" in GatewayNotification.objects.get().detail
    assert_nothing_changed(payment)


def test_notification_for_unknown_out_trade_no_is_refused(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment, out_trade_no="KP00000000000000000000P01"))

    assert response.content == b"FAIL"
    assert GatewayNotification.objects.get().detail.startswith("unknown_trade")
    assert_nothing_changed(payment)


@pytest.mark.parametrize(
    "body",
    [b"", b"not a form at all", b"\xff\xfe\x00garbage", b"amount_fen=1&amount_fen=2"],
    ids=["empty", "not-form", "not-utf8", "repeated-field"],
)
def test_malformed_notification_is_refused_and_stored(payment, post_notify, body):
    response = post_notify(body)

    assert response.content == b"FAIL"
    stored = GatewayNotification.objects.get()
    assert stored.outcome == GatewayNotification.Outcome.REJECTED
    assert bytes(stored.body) == body
    assert_nothing_changed(payment)


def test_oversized_notification_is_stored_truncated_and_refused(payment, post_notify, settings):
    settings.NOTIFY_MAX_BODY_BYTES = 512
    body = sandbox_notification_body(payment) + b"&padding=" + b"x" * 2000

    response = post_notify(body)

    assert response.content == b"FAIL"
    stored = GatewayNotification.objects.get()
    assert stored.body_truncated
    assert len(bytes(stored.body)) == 512
    assert_nothing_changed(payment)


def test_rejected_notification_logs_a_warning(payment, post_notify, caplog):
    with caplog.at_level(logging.WARNING, logger="payments"):
        post_notify(sandbox_notification_body(payment, key="forged"))

    assert any(record.message == "notification rejected" for record in caplog.records)


def test_get_on_notify_url_is_405(client):
    assert client.get(NOTIFY_URL).status_code == 405


def test_notify_for_unknown_channel_is_404_and_stores_nothing(payment, post_notify):
    response = post_notify(sandbox_notification_body(payment), url="/payments/notify/applepay/")

    assert response.status_code == 404
    assert not GatewayNotification.objects.exists()


def test_notify_for_disabled_channel_is_404(payment, post_notify, settings):
    settings.PAYMENTS_CHANNELS = []

    assert post_notify(sandbox_notification_body(payment)).status_code == 404


def test_processing_error_is_stored_as_failed_and_not_acknowledged(payment, post_notify, monkeypatch):
    def broken_grant(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("payments.services.events.enrollment_grant", broken_grant)

    response = post_notify(sandbox_notification_body(payment))

    assert response.content == b"FAIL"
    stored = GatewayNotification.objects.get()
    assert stored.outcome == GatewayNotification.Outcome.FAILED
    assert "database hiccup" in stored.detail
    assert_nothing_changed(payment)
