"""The local WeChat Pay's phone flows on their own: the H5 page's rules, web authorisation codes, and
the JSAPI bridge's checks, as WeChat enforces them."""

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from payments.gateways.wechat.protocol import sign
from payments.models import SimulatedAuthCode, SimulatedNotification, SimulatedTrade
from payments.simulators.wechat import h5
from payments.simulators.wechat.protocol import beijing, parse, render, signed
from tests.payments.user_agents import IPHONE, WECHAT

pytestmark = pytest.mark.django_db

BASE = "/sandbox/wechat/"
SITE = "http://testserver"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def unified_order(client, trade_type: str, **fields: str) -> dict[str, str]:
    request = {
        "appid": settings.WECHAT_APP_ID,
        "mch_id": settings.WECHAT_MCH_ID,
        "nonce_str": "ibuaiVcKdpRxkhJA",
        "body": "Python 入门",
        "out_trade_no": "KP20261122120000123456P01",
        "total_fee": "1290",
        "spbill_create_ip": "127.0.0.1",
        "notify_url": "http://127.0.0.1:9/payments/notify/wechat/",
        "trade_type": trade_type,
        "time_expire": beijing(timezone.now() + dt.timedelta(minutes=30)),
        **fields,
    }
    body = render(signed(request, key=settings.WECHAT_API_KEY, sign_type="MD5"))
    return parse(client.post(BASE + "pay/unifiedorder", data=body, content_type="text/xml").content)


# --- H5 (MWEB) --------------------------------------------------------------------------------

H5_SCENE = '{"h5_info": {"type": "Wap", "wap_url": "http://testserver", "wap_name": "KnowPay"}}'


@pytest.fixture
def mweb_url(client):
    reply = unified_order(client, "MWEB", scene_info=H5_SCENE)
    assert reply["result_code"] == "SUCCESS", reply
    assert "code_url" not in reply
    return reply["mweb_url"].removeprefix(SITE)


def open_h5(client, url, *, referer=f"{SITE}/orders/KP1/", user_agent=IPHONE, ip="127.0.0.1"):
    headers = {"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip}
    if referer:
        headers["HTTP_REFERER"] = referer
    return client.get(url, **headers)


def test_an_h5_order_without_scene_info_lacks_params(client):
    assert unified_order(client, "MWEB")["err_code"] == "LACK_PARAMS"


def test_the_h5_page_opens_from_the_merchants_site(client, mweb_url):
    page = open_h5(client, mweb_url)

    assert page.status_code == 200
    assert "¥12.90" in page.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"referer": ""}, h5.NO_REFERER),
        ({"referer": "https://elsewhere.example/pay"}, h5.WRONG_DOMAIN),
        ({"user_agent": WECHAT}, h5.INSIDE_WECHAT),
        ({"ip": "10.0.0.7"}, h5.WRONG_IP),
    ],
)
def test_the_h5_page_refuses_what_wechat_refuses(client, mweb_url, change, message):
    page = open_h5(client, mweb_url, **change)

    assert page.status_code == 400
    assert message in page.text


def test_an_mweb_url_lasts_five_minutes(client, mweb_url):
    trade = SimulatedTrade.objects.get()
    trade.extra["mweb"] = {
        package: (timezone.now() - dt.timedelta(seconds=1)).isoformat() for package in trade.extra["mweb"]
    }
    trade.save()

    page = open_h5(client, mweb_url)

    assert h5.EXPIRED in page.text


def test_paying_on_the_h5_page_goes_back_to_redirect_url_and_notifies(client, mweb_url):
    back = f"{SITE}/orders/KP1/return/"
    client.get(f"{mweb_url}&redirect_url={back}")

    reply = client.post(
        BASE + "cgi-bin/mmpayweb-bin/checkmweb/pay/",
        {**dict(parse_qsl(urlsplit(mweb_url).query)), "redirect_url": back},
    )

    assert reply["Location"] == back
    assert SimulatedTrade.objects.get().status == SimulatedTrade.Status.PAID
    assert SimulatedNotification.objects.filter(gateway="wechat").exists()


def test_cancelling_on_the_h5_page_goes_back_unpaid(client, mweb_url):
    back = f"{SITE}/orders/KP1/return/"

    reply = client.post(BASE + "cgi-bin/mmpayweb-bin/checkmweb/cancel/", {"redirect_url": back})

    assert reply["Location"] == back
    assert SimulatedTrade.objects.get().status == SimulatedTrade.Status.WAITING


# --- Web authorisation -------------------------------------------------------------------------


def authorize(client, *, user_agent=WECHAT, **overrides):
    params = {
        "appid": settings.WECHAT_APP_ID,
        "redirect_uri": f"{SITE}/payments/authorized/wechat/",
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "S1",
        **overrides,
    }
    return client.get(BASE + "connect/oauth2/authorize", params, HTTP_USER_AGENT=user_agent)


def exchange(client, code: str, **overrides) -> dict:
    params = {
        "appid": settings.WECHAT_APP_ID,
        "secret": settings.WECHAT_APP_SECRET,
        "code": code,
        "grant_type": "authorization_code",
        **overrides,
    }
    return client.get(BASE + "sns/oauth2/access_token", params).json()


def code_of(reply) -> str:
    query = dict(parse_qsl(urlsplit(reply["Location"]).query))
    assert query["state"] == "S1"
    return query["code"]


def test_authorisation_sends_the_browser_back_with_a_code_that_gives_the_openid_once(client):
    code = code_of(authorize(client))

    first = exchange(client, code)
    again = exchange(client, code)

    assert first["openid"].startswith("o")
    assert {"access_token", "expires_in", "refresh_token", "scope"} <= set(first)
    assert again == {"errcode": 40163, "errmsg": "code been used"}


def test_the_same_wechat_user_gets_the_same_openid(client):
    first = exchange(client, code_of(authorize(client)))["openid"]

    assert exchange(client, code_of(authorize(client)))["openid"] == first


def test_a_code_expires_after_five_minutes(client):
    code = code_of(authorize(client))
    SimulatedAuthCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert exchange(client, code)["errcode"] == 40029


def test_a_forged_code_is_invalid(client):
    assert exchange(client, "forged")["errcode"] == 40029


def test_the_wrong_secret_is_refused_and_the_code_stays_unused(client):
    code = code_of(authorize(client))

    assert exchange(client, code, secret="not-the-secret")["errcode"] == 40125
    assert "openid" in exchange(client, code)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"user_agent": IPHONE}, "请在微信客户端打开链接"),
        ({"appid": "wx0000000000000999"}, "10016"),
        ({"scope": "snsapi_login"}, "10005"),
        ({"redirect_uri": "https://elsewhere.example/back/"}, "10003"),
    ],
)
def test_authorisation_refuses_what_wechat_refuses(client, change, message):
    page = authorize(client, **change)

    assert page.status_code == 400
    assert message in page.text
    assert not SimulatedAuthCode.objects.exists()


# --- JSAPI: the bridge ------------------------------------------------------------------------


@pytest.fixture
def openid(client):
    return exchange(client, code_of(authorize(client)))["openid"]


@pytest.fixture
def bridge_params(client, openid):
    reply = unified_order(client, "JSAPI", openid=openid)
    assert reply["result_code"] == "SUCCESS", reply
    params = {
        "appId": settings.WECHAT_APP_ID,
        "timeStamp": "1764000000",
        "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "package": f"prepay_id={reply['prepay_id']}",
        "signType": "MD5",
    }
    return {**params, "paySign": sign(params, key=settings.WECHAT_API_KEY, sign_type="MD5")}


def bridge(client, action: str, params: dict, *, user_agent=WECHAT) -> dict:
    return client.post(
        f"{BASE}jsapi/{action}", params, content_type="application/json", HTTP_USER_AGENT=user_agent
    ).json()


def test_a_jsapi_order_needs_the_openid(client):
    reply = unified_order(client, "JSAPI")

    assert (reply["return_code"], reply["return_msg"]) == ("FAIL", "JSAPI支付必须传openid")


def test_the_bridge_pays_the_prepay_id_for_its_wechat_user(client, bridge_params):
    assert bridge(client, "prepare", bridge_params)["amount"] == "12.90"

    assert bridge(client, "pay", bridge_params) == {"err_msg": "get_brand_wcpay_request:ok"}
    trade = SimulatedTrade.objects.get()
    assert trade.status == SimulatedTrade.Status.PAID
    assert trade.buyer_id == trade.extra["openid"]


def test_the_bridge_refuses_a_pay_sign_that_does_not_verify(client, bridge_params):
    reply = bridge(client, "pay", {**bridge_params, "timeStamp": "1764000001"})

    assert reply["err_msg"] == "get_brand_wcpay_request:fail"
    assert SimulatedTrade.objects.get().status == SimulatedTrade.Status.WAITING


def test_the_bridge_refuses_another_wechat_user(client, bridge_params):
    client.cookies["sim_wechat_user"] = "someone-else"

    reply = bridge(client, "pay", bridge_params)

    assert reply["err_msg"] == "get_brand_wcpay_request:fail"
    assert "another WeChat user" in reply["err_desc"]


def test_the_bridge_exists_only_inside_wechat(client, bridge_params):
    assert bridge(client, "pay", bridge_params, user_agent=IPHONE)["err_msg"] == "get_brand_wcpay_request:fail"


def test_the_bridge_script_defines_weixinjsbridge(client):
    script = client.get(BASE + "jsbridge.js")

    assert script["Content-Type"].startswith("text/javascript")
    assert "window.WeixinJSBridge" in script.text
    assert "WeixinJSBridgeReady" in script.text
