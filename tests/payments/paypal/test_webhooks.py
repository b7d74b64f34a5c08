"""PayPal webhooks are believed only when PayPal's verify-webhook-signature says SUCCESS.

The local PayPal signs as PayPal does (its TEST-ONLY certificate, per attempt); these post to our
notify URL over HTTP so our gateway really asks the local PayPal to verify.
"""

import json

import pytest
import requests

from payments.models import GatewayNotification, LedgerEntry, Order, Payment
from payments.simulators.paypal.webhooks import delivery_headers
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def notify_url(gateway_site, settings):
    settings.PAYMENTS_CHANNELS = ["paypal"]
    return f"{gateway_site.url}/payments/notify/paypal/"


@pytest.fixture
def payment(course, learner):
    return PaymentFactory(order__course=course, order__learner=learner, channel="paypal", method="checkout")


def capture_completed(payment, *, value: str = "12.90", currency: str = "CNY") -> str:
    event = {
        "id": "WH-1",
        "event_version": "1.0",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource_type": "capture",
        "resource": {
            "id": "2GG279541U471931P",
            "status": "COMPLETED",
            "amount": {"currency_code": currency, "value": value},
            "invoice_id": payment.out_trade_no,
            "custom_id": payment.out_trade_no,
            "create_time": "2026-11-22T04:00:00Z",
        },
    }
    return json.dumps(event)


def post(url: str, body: str, headers: dict[str, str]) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.post(url, data=body.encode(), headers={"Content-Type": "application/json", **headers}, timeout=30)


def assert_nothing_moved(payment):
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_webhook_paypal_verifies_pays_the_order(notify_url, payment):
    body = capture_completed(payment)

    response = post(notify_url, body, delivery_headers(body))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_trade_no) == (Payment.Status.SUCCEEDED, "2GG279541U471931P")


def test_a_body_changed_after_signing_fails_verification_and_is_stored_raw(notify_url, payment):
    body = capture_completed(payment)
    headers = delivery_headers(body)
    changed = capture_completed(payment, value="0.01")

    response = post(notify_url, changed, headers)

    assert response.status_code == 400
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, bytes(stored.body)) == (GatewayNotification.Outcome.REJECTED, changed.encode())
    assert "BAD_SIGNATURE" in stored.detail
    assert stored.headers["HTTP_PAYPAL_TRANSMISSION_SIG"] == headers["PAYPAL-TRANSMISSION-SIG"]
    assert_nothing_moved(payment)


def test_a_webhook_signed_for_another_webhook_id_is_refused(notify_url, payment, settings):
    body = capture_completed(payment)
    settings.PAYPAL_WEBHOOK_ID = "WH-SOMEONE-ELSES"
    headers = delivery_headers(body)
    settings.PAYPAL_WEBHOOK_ID = "WH-TESTONLY-knowpay-0001"

    response = post(notify_url, body, headers)

    assert response.status_code == 400
    assert_nothing_moved(payment)


def test_a_webhook_without_transmission_headers_is_refused_without_asking_paypal(notify_url, payment):
    response = post(notify_url, capture_completed(payment), {})

    assert response.status_code == 400
    assert "UNSIGNED" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_replayed_webhook_is_acknowledged_without_effect(notify_url, payment):
    body = capture_completed(payment)
    post(notify_url, body, delivery_headers(body))

    again = post(notify_url, body, delivery_headers(body))

    assert again.status_code == 200
    assert GatewayNotification.objects.order_by("-id").first().outcome == GatewayNotification.Outcome.DUPLICATE
    assert LedgerEntry.objects.count() == 1


def test_a_capture_in_another_currency_is_never_applied(notify_url, payment):
    body = capture_completed(payment, currency="USD")

    response = post(notify_url, body, delivery_headers(body))

    assert response.status_code == 400
    assert "currency_mismatch" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)
