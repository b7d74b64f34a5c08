"""UnionPay back notifications are believed only when signed by a certificate of the configured chain,
valid now, naming 中国银联股份有限公司, for our merchant id, in the order's currency."""

import datetime as dt
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography import x509

from payments.gateways.unionpay.protocol import load_signing_cert
from payments.models import GatewayNotification, LedgerEntry, Order, Payment
from payments.simulators.unionpay.api import unionpay_sign
from tests.factories import PaymentFactory
from tests.payments.unionpay.helpers import consume_fields, notification_body, self_signed_unionpay_lookalike

pytestmark = pytest.mark.django_db
NOTIFY_URL = "/payments/notify/unionpay/"
KEYS = Path(__file__).resolve().parents[3] / "payments" / "simulators" / "keys"


@pytest.fixture(autouse=True)
def _unionpay_enabled(settings):
    settings.PAYMENTS_CHANNELS = ["unionpay"]


@pytest.fixture
def payment(course, learner):
    return PaymentFactory(order__course=course, order__learner=learner, channel="unionpay", method="gateway")


@pytest.fixture
def post(client):
    def post(body: bytes):
        return client.post(NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded")

    return post


def signed_by_unionpay(payment, **overrides) -> bytes:
    return urlencode(
        unionpay_sign(consume_fields(out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen, **overrides))
    ).encode()


def assert_nothing_moved(payment):
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_notification_signed_by_unionpay_pays_the_order(payment, post):
    response = post(signed_by_unionpay(payment))

    assert (response.status_code, response.content) == (200, b"ok")
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_trade_no) == (Payment.Status.SUCCEEDED, "261122120000123456789")


def test_a_certificate_outside_the_configured_chain_is_refused_and_stored_raw(payment, post):
    body = notification_body(
        consume_fields(out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen),
        self_signed_unionpay_lookalike(),
    )

    response = post(body)

    assert response.status_code == 400
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, bytes(stored.body)) == (GatewayNotification.Outcome.REJECTED, body)
    assert "CERT_UNTRUSTED" in stored.detail
    assert_nothing_moved(payment)


def test_a_certificate_of_the_chain_that_is_not_unionpays_is_refused(payment, post):
    # Our own merchant certificate is issued by the same middle CA, but it does not name UnionPay.
    merchant = load_signing_cert(str(KEYS / "TEST_ONLY_unionpay_merchant.pfx"), "000000")
    body = notification_body(consume_fields(out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen), merchant)

    response = post(body)

    assert response.status_code == 400
    assert "CERT_NOT_UNIONPAY" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_field_changed_after_signing_is_refused(payment, post):
    body = signed_by_unionpay(payment).replace(b"txnAmt=1290", b"txnAmt=1")

    response = post(body)

    assert response.status_code == 400
    assert "BAD_SIGNATURE" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_notification_for_another_merchant_is_refused(payment, post):
    response = post(signed_by_unionpay(payment, merId="777290058110099"))

    assert response.status_code == 400
    assert "WRONG_MERCHANT" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_replayed_notification_is_acknowledged_without_effect(payment, post):
    body = signed_by_unionpay(payment)
    post(body)

    again = post(body)

    assert (again.status_code, again.content) == (200, b"ok")
    # The same message is counted on its stored row, which keeps its outcome.
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == (GatewayNotification.Outcome.PROCESSED, 2)
    assert LedgerEntry.objects.count() == 1


def test_a_payment_in_another_currency_is_never_applied(payment, post):
    response = post(signed_by_unionpay(payment, currencyCode="840"))

    assert response.status_code == 400
    assert "currency_mismatch" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_signature_checked_after_the_certificate_expired_is_refused(payment, post, monkeypatch):
    cert = x509.load_pem_x509_certificate((KEYS / "TEST_ONLY_unionpay_sign_cert.pem").read_bytes())
    after_expiry = cert.not_valid_after_utc + dt.timedelta(days=1)
    monkeypatch.setattr("payments.gateways.unionpay.gateway.timezone.now", lambda: after_expiry)

    response = post(signed_by_unionpay(payment))

    assert response.status_code == 400
    assert "CERT_EXPIRED" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)
