"""A learner pays with Alipay through our own pages and the local Alipay's, over real HTTP."""

import datetime as dt

import pytest

from courses.models import Enrollment
from payments.models import GatewayNotification, Order, Refund, SimulatedNotification, SimulatedTrade
from payments.services.refunds import refund_issue
from payments.simulators import common
from payments.simulators.common import notifications_deliver_due
from tests.factories import UserFactory
from tests.payments.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(gateway_site, client, learner):
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


@pytest.fixture
def network_down(monkeypatch):
    """Alipay's notifications never reach us."""
    monkeypatch.setattr(common, "deliver_over_http", lambda *args: (None, "unreachable"))


def choose(browser, course, method: str):
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    assert "Alipay" in checkout.text, checkout.text
    return browser.submit(checkout, "/pay/", method=f"alipay:{method}")


def test_page_pay_through_the_alipay_cashier_enrolls_the_learner(browser, course, learner):
    cashier = choose(browser, course, "page")
    assert "/sandbox/alipay/gateway.do?" in cashier.url
    assert "¥12.90" in cashier.text

    landing = browser.submit(cashier, "/pay/")

    order = Order.objects.get(learner=learner)
    assert landing.url.startswith(f"{browser.base_url}/orders/{order.order_no}/return/")
    assert order.status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()
    assert GatewayNotification.objects.get(channel="alipay").outcome == GatewayNotification.Outcome.PROCESSED
    notification = SimulatedNotification.objects.get(gateway="alipay")
    assert (notification.last_response, notification.delivered_at is not None) == ("success", True)


def test_qr_pay_through_our_qr_page_and_the_scan_page_enrolls_the_learner(browser, course, learner):
    qr_page = choose(browser, course, "qr")
    order = Order.objects.get(learner=learner)
    assert qr_page.url.endswith("/qr/")
    assert "<svg" in qr_page.text
    scan_url = SimulatedTrade.objects.get(gateway="alipay").extra["qr_token"]
    assert f"/sandbox/alipay/qr/{scan_url}/" in qr_page.text

    scan_page = browser.get(f"/sandbox/alipay/qr/{scan_url}/")
    browser.submit(scan_page, "/pay/")

    status = browser.get(f"/orders/{order.order_no}/status/").json()
    assert (status["paid"], status["enrolled"]) == (True, True)


def test_cancel_at_the_cashier_leaves_the_order_pending(browser, course, learner):
    browser.submit(choose(browser, course, "page"), "/cancel/")

    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PENDING
    assert not Enrollment.objects.exists()


def test_i_have_paid_asks_alipay_when_the_notification_was_lost(browser, course, learner, network_down):
    # Paid, and the browser never made it back to our return page.
    browser.submit(choose(browser, course, "page"), "/pay/", follow=False)
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PENDING

    browser.post(f"/orders/{order.order_no}/check/")

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_unacknowledged_notification_is_resent_on_alipays_schedule(browser, course, learner, monkeypatch):
    real_delivery = common.deliver_over_http
    monkeypatch.setattr(common, "deliver_over_http", lambda *args: (None, "unreachable"))
    browser.submit(choose(browser, course, "page"), "/pay/")
    notification = SimulatedNotification.objects.get(gateway="alipay")
    first_retry = notification.next_attempt_at
    notifications_deliver_due(now=first_retry)
    notification.refresh_from_db()
    assert notification.next_attempt_at == first_retry + dt.timedelta(minutes=10)

    monkeypatch.setattr(common, "deliver_over_http", real_delivery)
    notifications_deliver_due(now=notification.next_attempt_at)

    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert Order.objects.get(learner=learner).status == Order.Status.PAID


def test_staff_refund_is_sent_to_alipay_and_revokes_access(browser, course, learner):
    browser.submit(choose(browser, course, "page"), "/pay/")
    order = Order.objects.get(learner=learner)

    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=order.amount_fen, reason="test")

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED
    assert SimulatedTrade.objects.get(gateway="alipay").refunded_fen == order.amount_fen
    enrollment = Enrollment.objects.get(learner=learner, course=course)
    assert enrollment.revoked_at is not None
    assert "You are enrolled." not in browser.get(f"/courses/{course.slug}/").text
    # Alipay then notifies TRADE_CLOSED; it is acknowledged and changes nothing more.
    closed = GatewayNotification.objects.filter(channel="alipay").latest("id")
    assert (closed.event_type, closed.outcome) == ("TRADE_CLOSED", GatewayNotification.Outcome.IGNORED)


def test_cancel_at_the_cashier_lands_on_a_return_page_that_says_unpaid_and_offers_to_pay_again(
    browser, course, learner
):
    landing = browser.submit(choose(browser, course, "page"), "/cancel/")

    order = Order.objects.get(learner=learner)
    assert landing.url.startswith(f"{browser.base_url}/orders/{order.order_no}/return/")
    assert "We are confirming your payment" not in landing.text
    assert "has not been paid" in landing.text
    assert f'href="/orders/{order.order_no}/">Pay again' in landing.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_i_have_paid_without_paying_says_one_thing(browser, course, learner):
    browser.get(choose(browser, course, "page").url)  # the cashier is open, nothing paid
    order = Order.objects.get(learner=learner)

    page = browser.post(f"/orders/{order.order_no}/check/")

    assert page.url == f"{browser.base_url}/orders/{order.order_no}/return/"
    assert "We are confirming your payment" not in page.text
    assert page.text.count("has not been paid") == 1
    assert "has not received your payment" not in page.text


def test_i_have_paid_after_paying_confirms_once(browser, course, learner, network_down):
    browser.submit(choose(browser, course, "page"), "/pay/", follow=False)
    order = Order.objects.get(learner=learner)

    page = browser.post(f"/orders/{order.order_no}/check/")

    assert page.text.count("Payment confirmed") == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
