"""Starting payments: one attempt per order and channel, repeated clicks reuse it, bad input starts nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from courses.services import enrollment_grant
from payments.gateways.base import StartKind
from payments.models import Order, Payment
from payments.services.checkout import CheckoutError, payment_start
from payments.services.orders import order_cancel, order_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(learner, course):
    return order_create(learner=learner, course=course)


def start(order, channel="sandbox", method="page"):
    return payment_start(order=order, channel=channel, method=method, client_ip="127.0.0.1")


def test_unknown_channel_starts_nothing(order):
    with pytest.raises(CheckoutError, match="not available"):
        start(order, channel="paypal")

    assert not Payment.objects.exists()


def test_unknown_method_starts_nothing(order):
    with pytest.raises(CheckoutError, match="not available"):
        start(order, method="bitcoin")

    assert not Payment.objects.exists()


def test_closed_order_starts_nothing(order):
    order_cancel(order=order)

    with pytest.raises(CheckoutError, match="cannot be paid"):
        start(order)

    assert not Payment.objects.exists()


def test_expired_order_is_closed_and_starts_nothing(order):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    order.refresh_from_db()

    with pytest.raises(CheckoutError, match="expired"):
        start(order)

    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED
    assert not Payment.objects.exists()


def test_learner_enrolled_meanwhile_cannot_pay(order):
    enrollment_grant(learner=order.learner, course=order.course, source="staff")

    with pytest.raises(CheckoutError, match="already have"):
        start(order)

    assert not Payment.objects.exists()


def test_start_returns_a_signed_cashier_redirect(order, settings):
    payment, started = start(order)

    assert started.kind == StartKind.REDIRECT
    assert started.url.startswith(f"{settings.SITE_URL}/sandbox/sandbox/cashier/?")
    assert f"out_trade_no={payment.out_trade_no}" in started.url
    assert "sign=" in started.url
    assert payment.out_trade_no == f"{order.order_no}P01"
    assert payment.amount_fen == order.amount_fen


def test_repeated_clicks_reuse_the_same_attempt(order):
    first, _ = start(order)
    again, again_start = start(order)

    assert again.pk == first.pk
    assert f"out_trade_no={first.out_trade_no}" in again_start.url
    assert Payment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_repeated_clicks_get_the_same_qr_code(order, gateway_site):
    first, first_start = start(order, channel="wechat", method="native")
    again, again_start = start(order, channel="wechat", method="native")

    assert again.pk == first.pk
    assert first_start.kind == StartKind.QR
    assert again_start.qr_content == first_start.qr_content
