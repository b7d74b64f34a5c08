"""Starting a payment: what the SDK builds for page pay (no HTTP call) and refuses."""

import datetime as dt
import json
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import Device, GatewayRejected, StartKind
from payments.models import Payment
from tests.factories import OrderFactory
from tests.payments.alipay.helpers import payment_request

OUT_TRADE_NO = "KP20261122000000000001P01"


@pytest.fixture
def page_pay(settings):
    settings.ALIPAY_SERVER_URL = "http://127.0.0.1:8765/gateway.do"
    start = gateway_get("alipay").start_payment(payment_request(OUT_TRADE_NO, "page", site_url="https://knowpay.test"))
    parts = urlsplit(start.url)
    params = dict(parse_qsl(parts.query))
    return start, parts, params, json.loads(params["biz_content"])


def test_page_pay_is_a_redirect_to_the_configured_server(page_pay):
    start, parts, params, _ = page_pay

    assert start.kind == StartKind.REDIRECT
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8765", "/gateway.do")
    assert (params["method"], params["sign_type"], params["charset"]) == ("alipay.trade.page.pay", "RSA2", "utf-8")
    assert params["sign"]


def test_page_pay_carries_the_order_in_yuan_and_our_urls(page_pay):
    _, _, params, biz = page_pay

    assert (biz["out_trade_no"], biz["total_amount"], biz["product_code"]) == (
        OUT_TRADE_NO,
        "12.90",
        "FAST_INSTANT_TRADE_PAY",
    )
    assert params["notify_url"] == "https://knowpay.test/payments/notify/alipay/"
    assert params["return_url"] == "https://knowpay.test/orders/KP1/return/"


def test_phone_website_pay_is_a_signed_wap_pay_redirect_with_quit_url(settings):
    settings.ALIPAY_SERVER_URL = "http://127.0.0.1:8765/gateway.do"
    request = replace(payment_request(OUT_TRADE_NO, "wap"), quit_url="https://knowpay.test/orders/KP1/")

    start = gateway_get("alipay").start_payment(request)

    params = dict(parse_qsl(urlsplit(start.url).query))
    biz = json.loads(params["biz_content"])
    assert start.kind == StartKind.REDIRECT
    assert (params["method"], params["sign_type"]) == ("alipay.trade.wap.pay", "RSA2")
    assert (biz["product_code"], biz["total_amount"], biz["quit_url"]) == (
        "QUICK_WAP_WAY",
        "12.90",
        "https://knowpay.test/orders/KP1/",
    )
    assert params["return_url"] == "http://testserver/orders/KP1/return/"


def test_time_expire_is_beijing_time(page_pay):
    *_, biz = page_pay

    deadline = dt.datetime.strptime(biz["time_expire"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC) - dt.timedelta(
        hours=8
    )
    assert abs(deadline - (timezone.now() + dt.timedelta(minutes=30))) < dt.timedelta(seconds=5)


def test_subject_loses_the_characters_alipay_refuses(page_pay):
    *_, biz = page_pay

    assert biz["subject"] == "Python 入门   第一课   more"


def test_server_url_defaults_to_the_local_alipay_in_sandbox_mode(settings):
    settings.ALIPAY_SERVER_URL = ""
    settings.SITE_URL = "http://127.0.0.1:8123"

    assert gateway_get("alipay").server_url == "http://127.0.0.1:8123/sandbox/alipay/gateway.do"


def test_server_url_defaults_to_alipays_production_gateway_outside_sandbox_mode(settings):
    settings.ALIPAY_SERVER_URL = ""
    settings.PAYMENTS_SANDBOX = False

    assert gateway_get("alipay").server_url == "https://openapi.alipay.com/gateway.do"


def test_unknown_method_is_rejected(settings):
    with pytest.raises(GatewayRejected):
        gateway_get("alipay").start_payment(payment_request(OUT_TRADE_NO, "app"))


def test_every_method_is_offered_on_its_devices():
    assert [(m.code, m.label, set(m.devices)) for m in gateway_get("alipay").methods] == [
        ("page", "Alipay · pay on the Alipay page", {Device.DESKTOP}),
        ("wap", "Alipay · pay in the Alipay app", {Device.PHONE}),
        ("qr", "Alipay · scan a QR code", set(Device)),
    ]


@pytest.mark.django_db
def test_alipay_out_of_reach_at_checkout_is_a_message_not_a_500(client, settings, learner, course):
    settings.ALIPAY_SERVER_URL = "http://127.0.0.1:9/gateway.do"
    order = OrderFactory(learner=learner, course=course)
    client.force_login(learner)

    response = client.post(f"/orders/{order.order_no}/pay/", {"method": "alipay:qr"}, follow=True)

    assert response.status_code == 200
    assert "not answering right now" in response.content.decode()
    assert Payment.objects.get(order=order).status == Payment.Status.CREATED
