"""Paying with WeChat Pay on a phone, over real HTTP through our pages and the local WeChat Pay:
H5 in a phone's browser, JSAPI inside WeChat after its web authorisation."""

import json
import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from courses.models import Enrollment
from payments.models import Order, PayerOpenid, Payment, SimulatedAuthCode
from tests.factories import CourseFactory, UserFactory
from tests.payments.browser import Browser
from tests.payments.user_agents import IPHONE, WECHAT

pytestmark = pytest.mark.django_db(transaction=True)

_BRIDGE_PARAMS = re.compile(r'<script id="wechat-pay-params" type="application/json">(.*?)</script>', re.S)


def browser_for(site, client, learner, user_agent) -> Browser:
    browser = Browser(site.url)
    browser.session.headers["User-Agent"] = user_agent
    browser.login_as(client, learner)
    return browser


@pytest.fixture
def phone(gateway_site, client, learner):
    return browser_for(gateway_site, client, learner, IPHONE)


@pytest.fixture
def in_wechat(gateway_site, client, learner):
    return browser_for(gateway_site, client, learner, WECHAT)


def choose(browser, course, method: str):
    """Buy and choose `method`; the reply to the Pay button, not followed."""
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    assert f'value="{method}"' in checkout.text, checkout.text
    return checkout, browser.submit(checkout, "/pay/", method=method, follow=False)


# --- H5 in a phone's browser ------------------------------------------------------------------


def open_h5_page(phone, course):
    checkout, reply = choose(phone, course, "wechat:h5")
    assert reply.status_code == 302
    # WeChat checks where the page comes from: our site must send its origin across.
    assert reply.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    page = phone.get(reply.headers["Location"], headers={"Referer": checkout.url})
    assert page.status_code == 200, page.text
    return reply.headers["Location"], page


def test_a_phone_pays_with_wechat_h5_and_comes_back_to_a_confirmed_payment(phone, course, learner):
    mweb_url, h5_page = open_h5_page(phone, course)
    order = Order.objects.get(learner=learner)
    assert "/sandbox/wechat/cgi-bin/mmpayweb-bin/checkmweb?" in mweb_url
    assert mweb_url.endswith("&redirect_url=" + quote(f"{phone.base_url}/orders/{order.order_no}/return/", safe=""))

    landing = phone.submit(h5_page, "/pay/")

    assert landing.url == f"{phone.base_url}/orders/{order.order_no}/return/"
    assert "Payment confirmed" in landing.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()


def test_an_h5_payment_abandoned_halfway_comes_back_unpaid_and_can_be_paid_again(phone, course, learner):
    _, h5_page = open_h5_page(phone, course)
    order = Order.objects.get(learner=learner)

    landing = phone.submit(h5_page, "/cancel/")

    assert landing.url == f"{phone.base_url}/orders/{order.order_no}/return/"
    assert "has not been paid" in landing.text
    assert "Pay again" in landing.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING

    _, h5_page = open_h5_page(phone, course)
    phone.submit(h5_page, "/pay/")
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


# --- JSAPI inside WeChat ----------------------------------------------------------------------


def authorise(in_wechat, reply) -> str:
    """Follow our redirect to WeChat's authorisation; returns our callback URL WeChat sends back to."""
    assert reply.status_code == 302
    assert "/sandbox/wechat/connect/oauth2/authorize?" in reply.headers["Location"]
    back = in_wechat.get(reply.headers["Location"], allow_redirects=False)
    assert back.status_code == 302, back.text
    return back.headers["Location"]


def bridge_params(page) -> dict:
    return json.loads(_BRIDGE_PARAMS.search(page.text).group(1))


def test_inside_wechat_a_learner_without_an_openid_is_sent_to_authorise_first(in_wechat, course, learner):
    _, reply = choose(in_wechat, course, "wechat:jsapi")

    location = urlsplit(reply.headers["Location"])
    query = dict(parse_qsl(location.query))
    assert location.path == "/sandbox/wechat/connect/oauth2/authorize"
    assert (query["scope"], query["redirect_uri"]) == (
        "snsapi_base",
        f"{in_wechat.base_url}/payments/authorized/wechat/",
    )
    assert re.fullmatch(r"[A-Za-z0-9]{1,128}", query["state"])
    assert not PayerOpenid.objects.exists()
    assert not Payment.objects.exists()


def test_inside_wechat_the_learner_authorises_once_then_pays_through_weixinjsbridge(in_wechat, course, learner):
    _, reply = choose(in_wechat, course, "wechat:jsapi")

    bridge_page = in_wechat.get(authorise(in_wechat, reply))

    stored = PayerOpenid.objects.get(learner=learner)
    assert (stored.channel, stored.app_id) == ("wechat", "wx0000000000000001")
    assert "js/wechat_pay.js" in bridge_page.text
    assert "/sandbox/wechat/jsbridge.js" in bridge_page.text
    params = bridge_params(bridge_page)
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"].startswith("prepay_id=")

    # What WeixinJSBridge.invoke('getBrandWCPayRequest', params) does when the learner confirms.
    paid = in_wechat.session.post(f"{in_wechat.base_url}/sandbox/wechat/jsapi/pay", json=params)
    assert paid.json() == {"err_msg": "get_brand_wcpay_request:ok"}
    order = Order.objects.get(learner=learner)
    assert "Payment confirmed" in in_wechat.get(f"/orders/{order.order_no}/return/").text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID

    # The next purchase goes straight to WeChat Pay: the openid is known.
    _, reply = choose(in_wechat, CourseFactory(price_fen=990), "wechat:jsapi")
    assert "/pay/" in reply.headers["Location"]
    assert bridge_params(in_wechat.get(reply.headers["Location"]))["package"].startswith("prepay_id=")


def test_a_replayed_authorisation_code_stores_no_openid_and_says_why(in_wechat, course, learner):
    _, reply = choose(in_wechat, course, "wechat:jsapi")
    callback = authorise(in_wechat, reply)
    in_wechat.get(callback)
    PayerOpenid.objects.all().delete()

    again = in_wechat.get(callback)

    assert "already used or has expired" in again.text
    assert not PayerOpenid.objects.exists()


def test_a_forged_authorisation_code_stores_no_openid_and_says_why(in_wechat, course, learner):
    _, reply = choose(in_wechat, course, "wechat:jsapi")
    callback = urlsplit(authorise(in_wechat, reply))
    state = dict(parse_qsl(callback.query))["state"]

    page = in_wechat.get(f"{callback.path}?code=forgedcode&state={state}")

    assert "already used or has expired" in page.text
    assert not PayerOpenid.objects.exists()


@pytest.mark.parametrize("state", ["", "tampered", "0" * 100])
def test_a_bad_state_is_refused_before_the_code_is_used(in_wechat, course, learner, state):
    _, reply = choose(in_wechat, course, "wechat:jsapi")
    callback = urlsplit(authorise(in_wechat, reply))
    code = dict(parse_qsl(callback.query))["code"]

    page = in_wechat.get(f"{callback.path}?code={code}&state={state}")

    assert "sign-in link is not valid or has expired" in page.text
    assert not PayerOpenid.objects.exists()
    assert SimulatedAuthCode.objects.get(code=code).used_at is None


def test_a_state_issued_to_another_learner_is_refused(gateway_site, client, in_wechat, course, learner):
    _, reply = choose(in_wechat, course, "wechat:jsapi")
    callback = authorise(in_wechat, reply)
    someone_else = browser_for(gateway_site, client, UserFactory(), WECHAT)

    page = someone_else.get(callback)

    assert "sign-in link is not valid or has expired" in page.text
    assert not PayerOpenid.objects.exists()
