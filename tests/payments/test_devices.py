"""Checkout offers the ways to pay that work where the learner is: a computer, a phone's browser,
or WeChat's own browser; a QR code works everywhere."""

import re

import pytest

from payments.devices import device_from_user_agent
from payments.gateways import gateway_list
from payments.gateways.base import Device
from payments.services.orders import order_create
from tests.payments.user_agents import ANDROID, DESKTOP, IPHONE, WECHAT


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (DESKTOP, Device.DESKTOP),
        (IPHONE, Device.PHONE),
        (ANDROID, Device.PHONE),
        (WECHAT, Device.WECHAT),
        ("", Device.DESKTOP),
    ],
)
def test_the_device_is_told_by_the_user_agent(user_agent, device):
    assert device_from_user_agent(user_agent) == device


def test_every_device_has_a_way_to_pay_at_every_gateway():
    for gateway in gateway_list():
        for device in Device:
            assert any(method.suits(device) for method in gateway.methods), (gateway.channel, device)


def offered(client, learner, course, user_agent) -> list[str]:
    client.force_login(learner)
    order = order_create(learner=learner, course=course)
    page = client.get(f"/orders/{order.order_no}/", HTTP_USER_AGENT=user_agent).text
    return re.findall(r'name="method" value="([^"]+)"', page)


@pytest.mark.django_db
def test_a_computer_is_offered_the_cashier_pages_and_qr_codes(client, learner, course):
    methods = offered(client, learner, course, DESKTOP)

    assert {"alipay:page", "alipay:qr", "wechat:native"} <= set(methods)
    assert not {"alipay:wap", "wechat:h5", "wechat:jsapi"} & set(methods)


@pytest.mark.django_db
def test_a_phone_browser_is_offered_the_phone_methods_first_and_qr_codes_as_fallback(client, learner, course):
    methods = offered(client, learner, course, IPHONE)

    assert methods[:2] == ["alipay:wap", "wechat:h5"]
    assert {"alipay:qr", "wechat:native"} <= set(methods)
    assert not {"alipay:page", "wechat:jsapi"} & set(methods)


@pytest.mark.django_db
def test_wechats_browser_is_offered_wechat_pay_in_wechat_first(client, learner, course):
    methods = offered(client, learner, course, WECHAT)

    assert methods[0] == "wechat:jsapi"
    assert "wechat:native" in methods
    # WeChat's browser does not open Alipay, nor WeChat Pay's H5 page (it asks for JSAPI instead).
    assert not {"alipay:page", "alipay:wap", "wechat:h5"} & set(methods)
