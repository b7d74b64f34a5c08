"""End to end through our pages and the sandbox gateway's simulator, over real HTTP (live server)."""

import datetime as dt

import pytest
from django.utils import timezone

from courses.models import Enrollment
from payments.gateways import gateway_get
from payments.gateways.base import PaymentRequest
from payments.models import GatewayNotification, Order, Payment, Refund, SimulatedNotification, SimulatedTrade
from payments.services.checkout import notify_url
from payments.services.refunds import refund_issue
from payments.simulators import common
from payments.simulators.common import notifications_deliver_due
from payments.tasks import payment_close_task
from tests.factories import PaymentFactory, UserFactory
from tests.payments.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(gateway_site, client, learner):
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


def open_cashier(browser, course):
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    assert checkout.status_code == 200, checkout.text
    cashier = browser.submit(checkout, "/pay/", method="sandbox:page")
    assert "Sandbox Pay" in cashier.text, cashier.text
    return cashier


@pytest.fixture
def network_down(monkeypatch):
    """The simulator's notifications never reach us (the network between gateway and merchant is down)."""

    monkeypatch.setattr("payments.simulators.common.deliver_over_http", lambda *args: (None, "unreachable"))


def test_buy_pay_and_get_the_course(browser, course, learner):
    cashier = open_cashier(browser, course)

    landing = browser.submit(cashier, "/pay/")

    order = Order.objects.get(learner=learner)
    assert landing.url.startswith(f"{browser.base_url}/orders/{order.order_no}/return/")
    assert order.status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.PROCESSED
    assert "Payment confirmed" in browser.get(f"/orders/{order.order_no}/return/").text


def test_cancel_at_the_cashier_leaves_the_order_pending_and_grants_nothing(browser, course, learner):
    cashier = open_cashier(browser, course)

    browser.submit(cashier, "/cancel/")

    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PENDING
    assert not Enrollment.objects.exists()
    assert browser.get(f"/orders/{order.order_no}/status/").json()["paid"] is False


def test_return_page_alone_marks_nothing_paid(browser, course, learner):
    open_cashier(browser, course)
    order = Order.objects.get(learner=learner)

    browser.get(f"/orders/{order.order_no}/return/?out_trade_no={order.order_no}P01&trade_status=SUCCESS")

    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_i_have_paid_queries_the_gateway_when_the_notification_was_lost(browser, course, learner, network_down):
    cashier = open_cashier(browser, course)
    # Paid, and the browser never made it back to our return page.
    browser.submit(cashier, "/pay/", follow=False)
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PENDING

    browser.post(f"/orders/{order.order_no}/check/")

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=learner, course=course).exists()


def test_simulator_retries_on_the_gateway_schedule_until_acknowledged(browser, course, learner, monkeypatch):
    real_delivery = common.deliver_over_http
    monkeypatch.setattr(common, "deliver_over_http", lambda *args: (None, "unreachable"))
    browser.submit(open_cashier(browser, course), "/pay/")
    notification = SimulatedNotification.objects.get()
    first_due = notification.next_attempt_at
    assert (notification.attempts, notification.delivered_at) == (1, None)

    notifications_deliver_due(now=first_due)
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert notification.next_attempt_at == first_due + dt.timedelta(seconds=60)

    monkeypatch.setattr(common, "deliver_over_http", real_delivery)
    assert notifications_deliver_due(now=notification.next_attempt_at) == 1
    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert Order.objects.get(learner=learner).status == Order.Status.PAID


def test_simulator_gives_up_after_its_last_retry(browser, course, network_down):
    browser.submit(open_cashier(browser, course), "/pay/")
    notification = SimulatedNotification.objects.get()

    moment = timezone.now()
    for _ in range(10):
        moment += dt.timedelta(days=1)
        notifications_deliver_due(now=moment)

    notification.refresh_from_db()
    assert notification.attempts == 8  # the first attempt and seven scheduled retries
    assert notification.next_attempt_at is None


def test_staff_refund_goes_through_the_gateway_and_revokes_access(browser, course, learner):
    browser.submit(open_cashier(browser, course), "/pay/")
    order = Order.objects.get(learner=learner)

    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=order.amount_fen, reason="test")

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.gateway_refund_no.startswith("SBXR")
    assert (order.status, order.refunded_fen) == (Order.Status.REFUNDED, order.amount_fen)
    assert Enrollment.objects.get(learner=learner, course=course).revoked_at is not None
    assert SimulatedTrade.objects.get(out_trade_no=f"{order.order_no}P01").refunded_fen == order.amount_fen


def test_second_payment_of_a_paid_order_is_refunded_automatically(browser, course, learner):
    browser.submit(open_cashier(browser, course), "/pay/")
    order = Order.objects.get(learner=learner)
    # A second attempt the learner opened in another tab before the first payment went through.
    second = PaymentFactory(order=order, out_trade_no=f"{order.order_no}P02")
    start = gateway_get("sandbox").start_payment(
        PaymentRequest(
            out_trade_no=second.out_trade_no,
            amount_fen=second.amount_fen,
            subject=course.title,
            method="page",
            notify_url=notify_url("sandbox"),
            return_url=f"{browser.base_url}/orders/{order.order_no}/return/",
            expires_at=order.expires_at,
            client_ip="127.0.0.1",
        )
    )

    browser.submit(browser.get(start.url), "/pay/")

    second.refresh_from_db()
    assert second.is_duplicate
    assert second.refunded_fen == second.amount_fen
    assert Refund.objects.get(payment=second).status == Refund.Status.SUCCEEDED
    assert SimulatedTrade.objects.get(out_trade_no=second.out_trade_no).refunded_fen == second.amount_fen
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Payment.objects.filter(order=order, status="succeeded", is_duplicate=False).count() == 1


def test_closing_an_attempt_that_was_paid_applies_the_payment(browser, course, learner, network_down):
    browser.submit(open_cashier(browser, course), "/pay/")
    payment = Payment.objects.get(order__learner=learner)

    payment_close_task.delay(payment.pk)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


def test_switching_channel_opens_a_new_attempt_and_closes_the_old_one_at_its_gateway(browser, course, learner):
    open_cashier(browser, course)
    order = Order.objects.get(learner=learner)

    qr_page = browser.submit(browser.get(f"/orders/{order.order_no}/"), "/pay/", method="wechat:native")

    assert qr_page.status_code == 200
    attempts = {p.channel: p for p in Payment.objects.filter(order=order)}
    assert set(attempts) == {"sandbox", "wechat"}
    assert attempts["sandbox"].status == Payment.Status.CLOSED
    assert attempts["wechat"].status == Payment.Status.CREATED
    assert SimulatedTrade.objects.get(out_trade_no=attempts["sandbox"].out_trade_no).status == "closed"
