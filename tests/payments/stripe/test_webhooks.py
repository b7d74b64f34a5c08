"""Stripe webhooks that must not move money: forged, too old, replayed, reordered, other mode, other currency.

Each is stored raw; only a verified event for our own trade in its currency changes anything.
"""

import json
import time

import pytest

from payments.models import GatewayNotification, LedgerEntry, Order, Payment
from tests.factories import PaymentFactory
from tests.payments.stripe.helpers import session_completed_event, signature_header

pytestmark = pytest.mark.django_db
NOTIFY_URL = "/payments/notify/stripe/"


@pytest.fixture(autouse=True)
def _stripe_enabled(settings):
    settings.PAYMENTS_CHANNELS = ["stripe"]


@pytest.fixture
def payment(course, learner):
    return PaymentFactory(order__course=course, order__learner=learner, channel="stripe", method="checkout")


@pytest.fixture
def post(client):
    def post(body: str, header: str):
        return client.post(NOTIFY_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)

    return post


def completed(payment, **kwargs) -> str:
    return session_completed_event(out_trade_no=payment.out_trade_no, amount=payment.amount_fen, **kwargs)


def assert_nothing_moved(payment):
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_signed_event_pays_the_order(payment, post):
    body = completed(payment)

    response = post(body, signature_header(body))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_trade_no) == (Payment.Status.SUCCEEDED, "pi_forged")


def test_an_event_signed_with_another_secret_is_refused_and_stored_raw(payment, post):
    body = completed(payment)

    response = post(body, signature_header(body, secret="whsec_another_endpoint"))

    assert response.status_code == 400
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, bytes(stored.body)) == (GatewayNotification.Outcome.REJECTED, body.encode())
    assert stored.headers["HTTP_STRIPE_SIGNATURE"].startswith("t=")
    assert_nothing_moved(payment)


def test_an_event_older_than_the_tolerance_is_refused(payment, post):
    body = completed(payment)

    response = post(body, signature_header(body, timestamp=int(time.time()) - 301))

    assert response.status_code == 400
    assert "BAD_SIGNATURE" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_changed_body_under_a_valid_signature_is_refused(payment, post):
    body = completed(payment)
    header = signature_header(body)

    response = post(body.replace(str(payment.amount_fen), "1"), header)

    assert response.status_code == 400
    assert_nothing_moved(payment)


def test_a_replayed_event_is_acknowledged_without_effect(payment, post):
    body = completed(payment)
    header = signature_header(body)
    post(body, header)

    again = post(body, header)

    assert again.status_code == 200
    # The same message is counted on its stored row, which keeps its outcome.
    stored = GatewayNotification.objects.get()
    assert (stored.outcome, stored.times_received) == (GatewayNotification.Outcome.PROCESSED, 2)
    assert LedgerEntry.objects.count() == 1


def test_the_same_event_signed_afresh_is_stored_again_and_changes_nothing(payment, post):
    body = completed(payment)
    post(body, signature_header(body, timestamp=int(time.time()) - 5))

    again = post(body, signature_header(body))

    assert again.status_code == 200
    assert [n.outcome for n in GatewayNotification.objects.order_by("id")] == ["processed", "duplicate"]
    assert LedgerEntry.objects.count() == 1


def test_expired_arriving_after_completed_changes_nothing(payment, post):
    body = completed(payment)
    post(body, signature_header(body))
    event = json.loads(body)
    event.update(id="evt_2", type="checkout.session.expired")
    event["data"]["object"].update(status="expired", payment_status="unpaid")
    late = json.dumps(event)

    response = post(late, signature_header(late))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_an_event_from_live_mode_is_refused_by_a_test_mode_account(payment, post):
    body = completed(payment, livemode=True)

    response = post(body, signature_header(body))

    assert response.status_code == 400
    assert "WRONG_MODE" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)


def test_a_payment_in_another_currency_is_never_applied(payment, post):
    body = completed(payment, currency="usd")

    response = post(body, signature_header(body))

    assert response.status_code == 400
    assert "currency_mismatch" in GatewayNotification.objects.get().detail
    assert_nothing_moved(payment)
