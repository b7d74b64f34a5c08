"""WeChat Pay end to end: our pages, the local WeChat Pay's scan page, its notifications, over real HTTP."""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.db.models import F
from django.utils import timezone

from courses.models import Enrollment
from payments.gateways import gateway_get
from payments.gateways.base import StatementEntryKind
from payments.models import GatewayNotification, LedgerEntry, Order, Payment, ReconciliationRun, Refund, SimulatedTrade
from payments.selectors.ledger import ledger_violations
from payments.services.reconciliation import reconciliation_run
from payments.services.refunds import refund_issue
from payments.simulators import common
from payments.simulators.common import notifications_deliver_due
from payments.tasks import payment_close_task
from tests.factories import UserFactory
from tests.payments.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)

_PAYMENT_PAGE_LINK = re.compile(r'href="([^"]+)"[^>]*>Open the payment page instead')


@pytest.fixture
def browser(gateway_site, client, learner, settings):
    settings.PAYMENTS_CHANNELS = ["wechat", "sandbox"]
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


@pytest.fixture
def network_down(monkeypatch):
    """The local WeChat Pay's notifications never reach us."""
    monkeypatch.setattr(common, "deliver_over_http", lambda *args: (None, "unreachable"))


def scan_the_qr_code(browser, course):
    """Buy, choose WeChat Pay, and open what the QR code on our page points to. Returns (QR page, scan page)."""
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    assert checkout.status_code == 200, checkout.text
    qr_page = browser.submit(checkout, "/pay/", method="wechat:native")
    assert qr_page.status_code == 200, qr_page.text
    code_url = html.unescape(_PAYMENT_PAGE_LINK.search(qr_page.text).group(1))
    scan_page = browser.get(code_url)
    assert scan_page.status_code == 200, scan_page.text
    return qr_page, scan_page


def pay_with_wechat(browser, course) -> Order:
    _, scan_page = scan_the_qr_code(browser, course)
    paid = browser.submit(scan_page, "/pay/")
    assert "Payment successful" in paid.text, paid.text
    return Order.objects.get(course=course)


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_buy_scan_pay_and_get_the_course(browser, course, learner, settings, sign_type):
    settings.WECHAT_SIGN_TYPE = sign_type
    qr_page, scan_page = scan_the_qr_code(browser, course)
    order = Order.objects.get(learner=learner)
    assert qr_page.url == f"{browser.base_url}/orders/{order.order_no}/pay/{order.order_no}P01/qr/"
    assert "<svg" in qr_page.text
    assert "¥12.90" in qr_page.text
    assert 'class="countdown"' in qr_page.text
    assert "¥12.90" in scan_page.text

    browser.submit(scan_page, "/pay/")

    status = browser.get(f"/orders/{order.order_no}/status/").json()
    assert (status["paid"], status["enrolled"]) == (True, True)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    trade = SimulatedTrade.objects.get(gateway="wechat")
    assert trade.extra["sign_type"] == sign_type
    assert Payment.objects.get(order=order).gateway_trade_no == trade.trade_no
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.PROCESSED


def test_wechat_closes_the_trade_when_our_order_expires(browser, course, learner):
    scan_the_qr_code(browser, course)

    order = Order.objects.get(learner=learner)
    trade = SimulatedTrade.objects.get(gateway="wechat")
    assert trade.expires_at.replace(microsecond=0) == order.expires_at.replace(microsecond=0)
    assert trade.amount_fen == order.amount_fen


def test_cancel_on_the_phone_leaves_the_order_pending(browser, course, learner):
    _, scan_page = scan_the_qr_code(browser, course)

    cancelled = browser.submit(scan_page, "/cancel/")

    assert "Payment cancelled" in cancelled.text
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PENDING
    assert not Enrollment.objects.exists()
    assert browser.get(f"/orders/{order.order_no}/status/").json()["paid"] is False


def test_i_have_paid_asks_wechat_when_the_notification_was_lost(browser, course, learner, network_down):
    order = pay_with_wechat(browser, course)
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING

    browser.post(f"/orders/{order.order_no}/check/")

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).exists()


def test_partial_then_full_refund_completed_by_wechats_refund_notifications(browser, course, learner):
    order = pay_with_wechat(browser, course)
    staff = UserFactory(is_staff=True)

    first = refund_issue(order=order, staff=staff, amount_fen=290, reason="part of the course was missing")

    first.refresh_from_db()
    assert first.status == Refund.Status.SUCCEEDED
    assert GatewayNotification.objects.get(kind="refund", refund=first).outcome == GatewayNotification.Outcome.PROCESSED
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (Order.Status.PARTIALLY_REFUNDED, 290)
    assert Enrollment.objects.get(learner=learner, course=course).revoked_at is None

    rest = refund_issue(order=order, staff=staff, amount_fen=order.amount_fen - 290, reason="refund the rest")

    rest.refresh_from_db()
    assert rest.status == Refund.Status.SUCCEEDED
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (Order.Status.REFUNDED, order.amount_fen)
    assert Enrollment.objects.get(learner=learner, course=course).revoked_at is not None
    assert SimulatedTrade.objects.get(gateway="wechat").refunded_fen == order.amount_fen


def test_refund_stays_processing_until_its_notification_arrives(browser, course, monkeypatch):
    order = pay_with_wechat(browser, course)
    real_delivery = common.deliver_over_http
    monkeypatch.setattr(common, "deliver_over_http", lambda *args: (None, "unreachable"))

    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=290, reason="test")

    refund.refresh_from_db()
    assert refund.status == Refund.Status.PROCESSING
    monkeypatch.setattr(common, "deliver_over_http", real_delivery)
    assert notifications_deliver_due(now=timezone.now() + dt.timedelta(seconds=15)) == 1
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.gateway_refund_no.startswith("50300")


def test_bill_of_yesterday_matches_our_payment_and_refund(browser, course):
    order = pay_with_wechat(browser, course)
    refund = refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=290, reason="test")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    moment = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(20, 0)))
    trade = SimulatedTrade.objects.get(gateway="wechat")
    SimulatedTrade.objects.filter(pk=trade.pk).update(paid_at=moment)
    trade.refunds.update(succeeded_at=moment + dt.timedelta(minutes=5))

    statement = gateway_get("wechat").fetch_statement(yesterday)

    payment = Payment.objects.get(order=order)
    assert [(e.kind, e.out_trade_no, e.gateway_trade_no, e.out_refund_no, e.amount_fen) for e in statement.entries] == [
        (StatementEntryKind.PAYMENT, payment.out_trade_no, payment.gateway_trade_no, "", order.amount_fen),
        (StatementEntryKind.REFUND, payment.out_trade_no, payment.gateway_trade_no, refund.refund_no, 290),
    ]
    assert statement.entries[0].occurred_at == moment


def test_a_day_paid_and_refunded_through_wechat_reconciles_with_its_fees_booked(browser, course):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with time_machine.travel(timezone.make_aware(dt.datetime.combine(yesterday, dt.time(20, 0))), tick=True):
        order = pay_with_wechat(browser, course)
        refund_issue(order=order, staff=UserFactory(is_staff=True), amount_fen=290, reason="test")

    run = reconciliation_run(channel="wechat", day=yesterday)

    assert run.status == ReconciliationRun.Status.BALANCED, (run.differences(), list(run.items.values()))
    # 0.6% of 12.90 is 8 fen kept; 8 x 2.90 / 12.90 = 1.8, so 2 fen given back with the refund.
    assert (run.bill_fees_fen, run.ledger_fees_fen) == (6, 6)
    assert LedgerEntry.objects.filter(kind__in=LedgerEntry.GATEWAY_FEE_KINDS).count() == 2
    assert ledger_violations() == []


def test_an_order_with_under_five_minutes_left_can_still_be_paid_with_wechat(browser, course, learner):
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    Order.objects.filter(learner=learner).update(expires_at=timezone.now() + dt.timedelta(minutes=2))

    qr_page = browser.submit(checkout, "/pay/", method="wechat:native")
    scan_page = browser.get(html.unescape(_PAYMENT_PAGE_LINK.search(qr_page.text).group(1)))
    browser.submit(scan_page, "/pay/")

    order = Order.objects.get(learner=learner)
    trade = SimulatedTrade.objects.get(gateway="wechat")
    assert order.expires_at >= timezone.now() + dt.timedelta(minutes=4)
    assert trade.expires_at == order.expires_at.replace(microsecond=0)
    assert (order.status, order.paid_after_close) == (Order.Status.PAID, False)


def test_switching_to_another_channel_within_five_minutes_leaves_the_wechat_trade_open(browser, course, learner):
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    browser.submit(checkout, "/pay/", method="wechat:native")
    order = Order.objects.get(learner=learner)
    wechat_attempt = Payment.objects.get(order=order, channel="wechat")

    browser.submit(browser.get(f"/orders/{order.order_no}/"), "/pay/", method="sandbox:page")

    # WeChat refuses closing a fresh order; the trade stays payable until its time_expire (our expiry).
    wechat_attempt.refresh_from_db()
    assert wechat_attempt.status == Payment.Status.CREATED
    assert SimulatedTrade.objects.get(gateway="wechat").status == SimulatedTrade.Status.WAITING

    SimulatedTrade.objects.filter(gateway="wechat").update(created_at=F("created_at") - dt.timedelta(minutes=5))
    payment_close_task.delay(wechat_attempt.pk)

    wechat_attempt.refresh_from_db()
    assert wechat_attempt.status == Payment.Status.CLOSED
    assert SimulatedTrade.objects.get(gateway="wechat").status == SimulatedTrade.Status.CLOSED
