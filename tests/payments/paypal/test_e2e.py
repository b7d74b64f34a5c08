"""PayPal end to end: our pages, the local PayPal's approve page, the capture on our return page, in CNY."""

import pytest

from courses.models import Enrollment
from payments.models import GatewayNotification, LedgerEntry, Order, Payment, Refund, SimulatedTrade
from payments.services.refunds import refund_issue
from tests.factories import UserFactory
from tests.payments.browser import Browser
from tests.payments.e2e import assert_ledger_check_green

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(gateway_site, client, learner, settings):
    settings.PAYMENTS_CHANNELS = ["paypal", "sandbox"]
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


def open_paypal(browser, course=None, order=None):
    page = browser.get(f"/orders/{order.order_no}/") if order else browser.post(f"/courses/{course.slug}/buy/")
    approve = browser.submit(page, "/pay/", method="paypal:checkout")
    assert "PayPal Checkout" in approve.text, approve.text
    assert "12.90 CNY" in approve.text
    return approve


def test_buy_approve_on_paypal_capture_on_return_and_get_part_refunded(browser, course, learner):
    returned = browser.submit(open_paypal(browser, course), "/approve/", funding="balance")

    assert "Payment confirmed" in returned.text, returned.text
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PAID
    payment = Payment.objects.get(order=order)
    trade = SimulatedTrade.objects.get(gateway="paypal")
    assert payment.gateway_trade_no == trade.extra["capture"]["id"]
    # The webhook of the same capture came too, verified by PayPal's verify-webhook-signature; whichever
    # of it and the capture's reply came first applied the payment, once.
    captured = GatewayNotification.objects.get(channel="paypal", event_type="capture COMPLETED")
    assert captured.outcome in (GatewayNotification.Outcome.PROCESSED, GatewayNotification.Outcome.DUPLICATE)
    assert LedgerEntry.objects.count() == 1
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()

    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=290, reason="one lesson missing")

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (Order.Status.PARTIALLY_REFUNDED, 290)
    assert trade.refunds.get().amount_fen == 290
    assert_ledger_check_green()


def test_a_capture_declined_after_approval_leaves_the_order_payable_and_nothing_booked(browser, course, learner):
    returned = browser.submit(open_paypal(browser, course), "/approve/", funding="declining-card")

    assert "PayPal declined the payment" in returned.text, returned.text
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PENDING
    assert Payment.objects.get(order=order).status == Payment.Status.CREATED
    assert not LedgerEntry.objects.exists()
    assert not Enrollment.objects.exists()

    # Choosing PayPal again reopens the same order at PayPal, to approve another way.
    again = browser.submit(open_paypal(browser, order=order), "/approve/", funding="balance")

    assert "Payment confirmed" in again.text, again.text
    assert Payment.objects.get(order=order).status == Payment.Status.SUCCEEDED
    assert SimulatedTrade.objects.count() == 1
    assert_ledger_check_green()


def test_the_payer_cancelling_at_paypal_leaves_the_order_payable(browser, course, learner):
    returned = browser.submit(open_paypal(browser, course), "/cancel/")

    assert "has not been paid" in returned.text
    assert "Pay again" in returned.text
    assert Order.objects.get(learner=learner).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_an_order_closed_by_us_is_never_captured(browser, course, learner):
    approve = open_paypal(browser, course)
    order = Order.objects.get(learner=learner)
    browser.submit(browser.get(f"/orders/{order.order_no}/"), "/cancel/")

    # The payer approves in a tab left open; coming back captures nothing.
    browser.submit(approve, "/approve/", funding="balance")

    assert SimulatedTrade.objects.get(gateway="paypal").status == SimulatedTrade.Status.WAITING
    assert Order.objects.get(pk=order.pk).status == Order.Status.CLOSED
    assert not LedgerEntry.objects.exists()
