"""UnionPay end to end: our form, the local UnionPay's cashier, its back and front notifications, in CNY."""

import pytest

from courses.models import Enrollment
from payments.models import GatewayNotification, LedgerEntry, Order, Payment, Refund, SimulatedTrade
from payments.services.refunds import refund_issue
from tests.factories import UserFactory
from tests.payments.browser import Browser
from tests.payments.e2e import assert_ledger_check_green
from tests.payments.unionpay.helpers import TEST_CARD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(gateway_site, client, learner, settings):
    settings.PAYMENTS_CHANNELS = ["unionpay", "sandbox"]
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


def open_cashier(browser, course):
    order_page = browser.post(f"/courses/{course.slug}/buy/")
    form_page = browser.submit(order_page, "/pay/", method="unionpay:gateway")
    assert "Taking you to the payment service" in form_page.text, form_page.text
    cashier = browser.submit(form_page, "frontTransReq.do")
    assert "12.90 CNY" in cashier.text, cashier.text
    return cashier


def test_buy_pay_with_a_bank_card_learn_and_get_part_refunded(browser, course, learner):
    front_notification = browser.submit(open_cashier(browser, course), "/pay/", card=TEST_CARD)
    returned = browser.submit(front_notification, "/return/")

    assert "Payment confirmed" in returned.text, returned.text
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PAID
    trade = SimulatedTrade.objects.get(gateway="unionpay")
    assert Payment.objects.get(order=order).gateway_trade_no == trade.trade_no
    assert GatewayNotification.objects.get(channel="unionpay").outcome == GatewayNotification.Outcome.PROCESSED
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()

    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=290, reason="one lesson missing")

    # Accepted by backTransReq, finished by UnionPay's back notification of the refund.
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert (
        GatewayNotification.objects.get(kind="refund", refund=refund).outcome == GatewayNotification.Outcome.PROCESSED
    )
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (Order.Status.PARTIALLY_REFUNDED, 290)
    assert trade.refunds.get().amount_fen == 290
    assert_ledger_check_green()


def test_a_declined_card_leaves_the_order_payable_and_nothing_booked(browser, course, learner):
    declined = browser.submit(open_cashier(browser, course), "/pay/", card="6216261000000000000")

    assert "declined" in declined.text
    assert Order.objects.get(learner=learner).status == Order.Status.PENDING
    assert not LedgerEntry.objects.exists()


def test_paying_again_later_reuses_the_same_unionpay_transaction(browser, course, learner):
    open_cashier(browser, course)
    order = Order.objects.get(learner=learner)

    form_page = browser.submit(browser.get(f"/orders/{order.order_no}/"), "/pay/", method="unionpay:gateway")
    cashier = browser.submit(form_page, "frontTransReq.do")

    assert cashier.status_code == 200, cashier.text
    assert SimulatedTrade.objects.filter(gateway="unionpay").count() == 1
