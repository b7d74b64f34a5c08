"""The learner's order pages: their own orders only, and bad requests change nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from knowpay.money import format_cny
from payments.models import Order, Payment, Refund
from tests.factories import OrderFactory, PaymentFactory, RefundFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def others_order():
    return OrderFactory(learner=UserFactory())


@pytest.mark.parametrize("suffix", ["", "return/", "status/", "pay/P01/qr/"])
def test_another_learners_order_pages_are_404(logged_in, others_order, suffix):
    url = f"/orders/{others_order.order_no}/{suffix}".replace("pay/P01", f"pay/{others_order.order_no}P01")

    assert logged_in.get(url).status_code == 404


@pytest.mark.parametrize("action", ["cancel", "check", "pay", "refund"])
def test_actions_on_another_learners_order_are_404_and_change_nothing(logged_in, others_order, action):
    response = logged_in.post(f"/orders/{others_order.order_no}/{action}/", {"method": "sandbox:page"})

    assert response.status_code == 404
    assert Order.objects.get(pk=others_order.pk).status == Order.Status.PENDING
    assert not Payment.objects.exists()


def test_unknown_order_is_404(logged_in):
    assert logged_in.get("/orders/KP00000000000000000000/").status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, others_order):
    response = client.get(f"/orders/{others_order.order_no}/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_my_orders_lists_only_mine(logged_in, learner, others_order):
    mine = OrderFactory(learner=learner)

    page = logged_in.get("/orders/").content.decode()

    assert mine.order_no in page
    assert others_order.order_no not in page


def test_buying_through_the_page_redirects_to_checkout(logged_in, course, learner):
    response = logged_in.post(f"/courses/{course.slug}/buy/")

    order = Order.objects.get(learner=learner)
    assert response.url == f"/orders/{order.order_no}/"


def test_cancel_through_the_page_closes_the_order(logged_in, learner):
    order = OrderFactory(learner=learner)

    logged_in.post(f"/orders/{order.order_no}/cancel/")

    assert Order.objects.get(pk=order.pk).status == Order.Status.CLOSED


def _paid(learner, *, paid_at=None, channel="alipay"):
    paid_at = paid_at or timezone.now()
    order = OrderFactory(learner=learner, status=Order.Status.PAID, paid_at=paid_at)
    payment = PaymentFactory(
        order=order,
        channel=channel,
        method="page",
        status=Payment.Status.SUCCEEDED,
        succeeded_at=paid_at,
        gateway_trade_no="2026112222001400000000000001",
    )
    return order, payment


def test_order_page_explains_the_automatic_refund_of_a_double_payment(logged_in, learner):
    order, _ = _paid(learner)
    twice = PaymentFactory(
        order=order,
        channel="wechat",
        method="native",
        status=Payment.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        is_duplicate=True,
    )
    RefundFactory(payment=twice, kind=Refund.Kind.DUPLICATE, status=Refund.Status.PROCESSING)

    page = logged_in.get(f"/orders/{order.order_no}/").text

    assert "You paid this order twice" in page
    assert f"WeChat Pay refund of {format_cny(twice.amount_fen)} is on its way" in page


def test_my_orders_shows_a_refund_in_progress(logged_in, learner):
    _order, payment = _paid(learner)
    RefundFactory(payment=payment, amount_fen=500, status=Refund.Status.REQUESTED)

    page = logged_in.get("/orders/").text

    assert "Refund of ¥5.00: Requested, awaiting review" in page


def test_my_orders_shows_until_when_a_refund_can_be_asked_for(logged_in, learner, settings):
    settings.REFUND_WINDOW_DAYS = 7
    paid_at = timezone.now() - dt.timedelta(days=2)
    _paid(learner, paid_at=paid_at)

    page = logged_in.get("/orders/").text

    until = timezone.localtime(paid_at + dt.timedelta(days=7))
    assert f"Refundable until {until:%Y-%m-%d %H:%M}" in page


def test_my_orders_says_nothing_of_a_refund_window_that_has_passed(logged_in, learner, settings):
    settings.REFUND_WINDOW_DAYS = 7
    _paid(learner, paid_at=timezone.now() - dt.timedelta(days=8))

    assert "Refundable until" not in logged_in.get("/orders/").text


def test_my_orders_shows_why_a_refund_was_rejected(logged_in, learner):
    _order, payment = _paid(learner)
    RefundFactory(
        payment=payment, status=Refund.Status.REJECTED, decision_note="More than half of the lessons were watched."
    )

    page = logged_in.get("/orders/").text

    assert "Refund rejected: More than half of the lessons were watched." in page
