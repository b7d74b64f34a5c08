"""Stripe end to end: our pages, the local Stripe's hosted Checkout, its signed webhooks, in CNY."""

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
    settings.PAYMENTS_CHANNELS = ["stripe", "sandbox"]
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


def open_stripe_checkout(browser, course):
    order_page = browser.post(f"/courses/{course.slug}/buy/")
    checkout = browser.submit(order_page, "/pay/", method="stripe:checkout")
    assert "Stripe Checkout" in checkout.text, checkout.text
    assert "12.90 CNY" in checkout.text
    return checkout


def test_buy_pay_on_stripe_learn_and_get_part_refunded(browser, course, learner):
    returned = browser.submit(open_stripe_checkout(browser, course), "/pay/")

    assert "Payment confirmed" in returned.text, returned.text
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PAID
    assert Payment.objects.get(order=order).gateway_trade_no.startswith("pi_")
    assert GatewayNotification.objects.get(channel="stripe").outcome == GatewayNotification.Outcome.PROCESSED
    assert browser.get(f"/courses/{course.slug}/").status_code == 200
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()

    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=290, reason="one lesson missing")

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.gateway_refund_no.startswith("re_")
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (Order.Status.PARTIALLY_REFUNDED, 290)
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()
    assert LedgerEntry.objects.count() == 2
    assert_ledger_check_green()


def test_a_declined_card_leaves_the_order_payable_and_nothing_booked(browser, course, learner):
    declined = browser.submit(open_stripe_checkout(browser, course), "/pay/", card_number="4000 0000 0000 0002")

    assert "Your card was declined" in declined.text
    assert Order.objects.get(learner=learner).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()
    assert not Enrollment.objects.exists()


def test_expired_session_when_the_order_is_cancelled(browser, course, learner):
    open_stripe_checkout(browser, course)
    order = Order.objects.get(learner=learner)

    browser.submit(browser.get(f"/orders/{order.order_no}/"), "/cancel/")

    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.CLOSED
    assert SimulatedTrade.objects.get(gateway="stripe").status == SimulatedTrade.Status.CLOSED
