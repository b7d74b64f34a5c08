"""A learner pays on a phone with Alipay's phone website pay (手机网站支付), over real HTTP."""

import pytest

from courses.models import Enrollment
from payments.models import Order, SimulatedTrade
from tests.payments.browser import Browser
from tests.payments.user_agents import IPHONE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def phone(gateway_site, client, learner):
    browser = Browser(gateway_site.url)
    browser.session.headers["User-Agent"] = IPHONE
    browser.login_as(client, learner)
    return browser


def open_phone_cashier(phone, course):
    checkout = phone.post(f"/courses/{course.slug}/buy/")
    assert 'value="alipay:wap"' in checkout.text, checkout.text
    cashier = phone.submit(checkout, "/pay/", method="alipay:wap")
    assert "method=alipay.trade.wap.pay" in cashier.url
    return cashier


def test_a_phone_pays_at_alipays_phone_cashier_and_gets_the_course(phone, course, learner):
    cashier = open_phone_cashier(phone, course)
    assert "手机网站支付" in cashier.text
    assert "¥12.90" in cashier.text

    landing = phone.submit(cashier, "/pay/")

    order = Order.objects.get(learner=learner)
    assert landing.url.startswith(f"{phone.base_url}/orders/{order.order_no}/return/?")
    assert "method=alipay.trade.wap.pay.return" in landing.url
    assert "Payment confirmed" in landing.text
    assert order.status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()
    assert SimulatedTrade.objects.get(gateway="alipay").extra["product_code"] == "QUICK_WAP_WAY"


def test_leaving_the_phone_cashier_goes_back_to_the_order_page_still_payable(phone, course, learner):
    landing = phone.submit(open_phone_cashier(phone, course), "/quit/")

    order = Order.objects.get(learner=learner)
    assert landing.url == f"{phone.base_url}/orders/{order.order_no}/"
    assert order.status == Order.Status.PENDING
    assert 'value="alipay:wap"' in landing.text


def test_a_phone_payment_abandoned_halfway_stays_payable_and_i_have_paid_asks_alipay(phone, course, learner):
    open_phone_cashier(phone, course)  # and the learner switches away, never paying
    order = Order.objects.get(learner=learner)

    checked = phone.post(f"/orders/{order.order_no}/check/")

    assert "has not been paid" in checked.text
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING

    phone.submit(open_phone_cashier(phone, course), "/pay/")

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
