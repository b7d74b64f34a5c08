"""Stripe end to end: our pages, the local Stripe's hosted Checkout, its signed webhooks, in CNY."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from courses.models import Enrollment
from payments.models import GatewayNotification, LedgerEntry, Order, Payment, Refund, SimulatedTrade
from payments.services.refunds import refund_issue
from payments.simulators import common
from payments.simulators.common import notifications_deliver_due
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


def test_a_webhook_not_acknowledged_is_sent_again_signed_afresh(browser, course, learner, monkeypatch):
    real_delivery = common.deliver_over_http
    sent: list[dict] = []
    monkeypatch.setattr(common, "deliver_over_http", lambda *args: sent.append(args[3]) or (None, "unreachable"))
    # Not back on our return page, which would ask Stripe: only the webhook can tell us.
    browser.submit(open_stripe_checkout(browser, course), "/pay/", follow=False)
    assert Order.objects.get(learner=learner).status == Order.Status.PENDING

    def deliver(*args):
        sent.append(args[3])
        return real_delivery(*args)

    monkeypatch.setattr(common, "deliver_over_http", deliver)
    time.sleep(1.1)

    assert notifications_deliver_due(now=timezone.now() + dt.timedelta(minutes=1)) == 1
    assert Order.objects.get(learner=learner).status == Order.Status.PAID
    assert sent[0]["Stripe-Signature"] != sent[1]["Stripe-Signature"]
