"""Post-commit work survives a broker outage: what was committed stands, the request or the
notification reply succeeds, and the periodic sweeps do the work the lost message would have done.

Real commits (transaction=True), so after-commit work runs inside the request, as in production;
the sandbox gateway and its simulator answer over real HTTP (live server).
"""

import datetime as dt
from contextlib import contextmanager

import pytest
from celery.app.task import Task
from django.core import mail
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError

from payments.models import (
    GatewayNotification,
    LedgerEntry,
    Order,
    OutboxMessage,
    Payment,
    Payout,
    Refund,
    SimulatedTrade,
    SimulatedTransfer,
)
from payments.services.outbox import outbox_send_due
from payments.services.payouts import payout_request, payouts_send_stuck
from payments.services.refunds import refunds_sync_processing
from payments.services.settlement import earnings_settle_due
from payments.services.sync import payments_sync_open
from tests.brokers import celery_broker, stopped_broker
from tests.factories import CourseFactory, UserFactory
from tests.payments.browser import Browser
from tests.payments.conftest import NOTIFY_URL, sandbox_notification_body
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.timedelta(0)


@contextmanager
def delay_raising(monkeypatch):
    def refuse(task, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refuse)
    yield


@contextmanager
def broker_stopped(monkeypatch):
    with stopped_broker() as url, celery_broker(url):
        yield


@pytest.fixture(params=["delay raises", "broker stopped"])
def broker_down(request, monkeypatch):
    """Every task.delay() fails: either it raises, or the broker's port refuses connections."""
    outage = delay_raising if request.param == "delay raises" else broker_stopped
    with outage(monkeypatch):
        yield


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def browser(gateway_site, learner):
    browser = Browser(gateway_site.url)
    browser.login_as(Client(), learner)
    return browser


def pay_at_the_simulator(browser, course):
    """The learner buys and opens Sandbox Pay's cashier: an open trade at the gateway."""
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    cashier = browser.submit(checkout, "/pay/", method="sandbox:page")
    assert "Sandbox Pay" in cashier.text, cashier.text
    return cashier


def test_a_notification_is_applied_once_and_answered_success(payment, client, broker_down):
    response = client.post(
        NOTIFY_URL, data=sandbox_notification_body(payment), content_type="application/x-www-form-urlencoded"
    )

    assert response.content == b"SUCCESS"
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.PROCESSED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.SALE).count() == 1


def test_the_learners_email_is_sent_by_the_next_outbox_sweep(payment, client, broker_down):
    client.post(NOTIFY_URL, data=sandbox_notification_body(payment), content_type="application/x-www-form-urlencoded")
    assert OutboxMessage.objects.get(topic="order_paid").sent_at is None

    assert outbox_send_due() == OutboxMessage.objects.count()  # the learner's, and the creator's of the sale

    assert [payment.order.learner.email] in [m.to for m in mail.outbox]
    assert not OutboxMessage.objects.filter(sent_at=None).exists()


def test_a_cancelled_orders_open_trade_is_closed_at_the_gateway_by_the_sync_sweep(browser, course, broker_down):
    pay_at_the_simulator(browser, course)
    attempt = Payment.objects.get()

    response = browser.post(f"/orders/{attempt.order.order_no}/cancel/", allow_redirects=False)

    assert response.status_code == 302
    assert Order.objects.get(pk=attempt.order_id).status == Order.Status.CLOSED
    assert SimulatedTrade.objects.get(out_trade_no=attempt.out_trade_no).status == "waiting"

    payments_sync_open(older_than=NOW)

    assert Payment.objects.get(pk=attempt.pk).status == Payment.Status.CLOSED
    assert SimulatedTrade.objects.get(out_trade_no=attempt.out_trade_no).status == "closed"


def test_a_refund_approved_in_the_admin_is_sent_by_the_refund_sweep(
    browser, course, learner, staff_client, broker_down
):
    browser.submit(pay_at_the_simulator(browser, course), "/pay/")
    order = Order.objects.get(learner=learner, status=Order.Status.PAID)
    browser.post(f"/orders/{order.order_no}/refund/", {"reason": "not for me"})
    refund = Refund.objects.get(order=order)

    response = staff_client.post(
        reverse("admin:payments_refund_changelist"), {"action": "approve", "_selected_action": [refund.pk]}
    )

    assert response.status_code == 302
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PROCESSING

    refunds_sync_processing(older_than=NOW)

    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.SUCCEEDED
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED


def test_a_payout_approved_in_the_admin_is_transferred_by_the_payout_sweep(
    gateway_site, creator, staff_client, settings, broker_down
):
    settings.PAYOUT_TRANSFER_CHANNEL = "sandbox"
    sell(CourseFactory(creator=creator, price_fen=20000), days_ago=8)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=15000)

    response = staff_client.post(
        reverse("admin:payments_payout_changelist"), {"action": "approve", "_selected_action": [payout.pk]}
    )

    assert response.status_code == 302
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.SENDING

    payouts_send_stuck(older_than=NOW)

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.PAID
    assert SimulatedTransfer.objects.filter(out_biz_no=payout.payout_no).count() == 1
