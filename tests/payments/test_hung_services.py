"""A hung broker or gateway never holds a web worker: every broker socket has a timeout, a broker
that failed is not waited for again at once, and "I have paid" answers within its time budget.

Each action runs in a thread joined with a deadline, so a hang fails the test instead of stalling it;
the thread has its own database connection, so these tests commit (transaction=True).
"""

import datetime as dt
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.app.task import Task
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from knowpay import enqueue
from knowpay.celery import app as celery_app
from payments.models import GatewayCall, GatewayNotification, Order, Payment, Payout
from payments.services import sync
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from payments.services.sync import order_sync
from tests.brokers import celery_broker, hung_broker
from tests.factories import CourseFactory, OrderFactory, PaymentFactory, UserFactory
from tests.payments.alipay.helpers import signed_reply
from tests.payments.conftest import NOTIFY_URL, sandbox_notification_body
from tests.payments.ledger.helpers import sell

# Far below the 30 s a web worker may take, far above the few seconds the timeouts allow.
DEADLINE = 20.0


def finished_within(deadline: float, action):
    """Run `action` in a thread; (its result or exception, seconds taken), or fail after `deadline`."""
    outcome = {}

    def run():
        try:
            outcome["result"] = action()
        except Exception as exc:
            outcome["result"] = exc
        finally:
            connection.close()

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=deadline)
    assert not thread.is_alive(), f"still waiting after {deadline} s"
    return outcome["result"], time.monotonic() - started


# --- The broker ------------------------------------------------------------------------------------


def test_every_broker_socket_has_a_timeout_and_publishing_gives_up_quickly():
    conf = celery_app.conf
    options = conf.broker_transport_options
    attempts = conf.task_publish_retry_policy["max_retries"] + 1

    assert 0 < options["socket_connect_timeout"] <= 5
    assert 0 < options["socket_timeout"] <= 5
    assert 0 < conf.broker_connection_timeout <= 5
    assert options["socket_connect_timeout"] + attempts * options["socket_timeout"] < DEADLINE


@pytest.fixture
def broker_hangs():
    with hung_broker() as url, celery_broker(url):
        yield


@pytest.fixture
def payouts(creator, settings):
    settings.PAYOUT_TRANSFER_CHANNEL = "sandbox"
    settings.PAYOUT_MIN_FEN = 100
    sell(CourseFactory(creator=creator, price_fen=20000), days_ago=8)
    earnings_settle_due()
    return [payout_request(creator=creator, requested_by=creator, amount_fen=1000) for _ in range(3)]


def approve_in_the_admin(payouts):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client.post(
        reverse("admin:payments_payout_changelist"),
        {"action": "approve", "_selected_action": [p.pk for p in payouts]},
    )


@pytest.mark.django_db(transaction=True)
def test_a_payout_approval_returns_while_the_broker_hangs(payouts, broker_hangs):
    response, _ = finished_within(DEADLINE, lambda: approve_in_the_admin(payouts[:1]))

    assert response.status_code == 302
    assert Payout.objects.get(pk=payouts[0].pk).status == Payout.Status.SENDING


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_answered_while_the_broker_hangs(payment, broker_hangs):
    body = sandbox_notification_body(payment)

    response, _ = finished_within(
        DEADLINE, lambda: Client().post(NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded")
    )

    assert response.content == b"SUCCESS"
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_just_failed_is_not_waited_for_again(payouts, broker_hangs, caplog):
    with caplog.at_level(logging.WARNING, logger="knowpay.enqueue"):
        response, _ = finished_within(DEADLINE, lambda: approve_in_the_admin(payouts))

    assert response.status_code == 302
    assert Payout.objects.filter(status=Payout.Status.SENDING).count() == 3
    waited = [r for r in caplog.records if r.levelno == logging.ERROR]
    skipped = [r for r in caplog.records if r.levelno == logging.WARNING]
    # Three payouts to transfer (and e-mails to their creator): the broker is waited for once.
    assert len(waited) == 1
    handed = sorted(r.task_args for r in waited + skipped if r.task == "payments.tasks.payout_send_task")
    assert handed == [[p.pk] for p in payouts]


@pytest.mark.django_db(transaction=True)
def test_the_broker_is_tried_again_once_the_pause_is_over(payouts, broker_hangs, monkeypatch):
    approve_in_the_admin(payouts[:1])
    sent = []
    monkeypatch.setattr(enqueue.time, "monotonic", lambda: time.perf_counter() + enqueue.BROKER_PAUSE_SECONDS + 3600)
    monkeypatch.setattr(Task, "delay", lambda task, *args: sent.append((task.name, args)))

    approve_in_the_admin(payouts[1:2])

    assert ("payments.tasks.payout_send_task", (payouts[1].pk,)) in sent


# --- "I have paid": every open attempt asked at once, within a budget --------------------------------


@pytest.fixture(autouse=True)
def _abandoned_queries_finish():
    """Queries abandoned when the budget ran out record their call when the gateway gives up: let
    them, before the next test's database exists."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("order-sync"):
            thread.join(timeout=DEADLINE)


class StubAlipay:
    """Answers Alipay's trade query for `paid` as paid (signed); hangs on anything else."""

    def __init__(self, paid: Payment | None = None) -> None:
        stub, self.paid, self.release = self, paid, threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if stub.paid is None or stub.paid.out_trade_no not in body:
                    stub.release.wait(30)
                    return
                reply = signed_reply(
                    "alipay.trade.query",
                    {
                        "code": "10000",
                        "msg": "Success",
                        "out_trade_no": stub.paid.out_trade_no,
                        "trade_no": "2026112222001400009999999999",
                        "trade_status": "TRADE_SUCCESS",
                        "total_amount": "12.90",
                        "send_pay_date": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
                    },
                )
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/gateway.do"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def alipay(settings):
    stub = StubAlipay()
    settings.ALIPAY_SERVER_URL = stub.url
    yield stub
    stub.close()


@pytest.fixture
def wechat_hangs(settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    settings.WECHAT_API_BASE_URL = f"http://127.0.0.1:{silent.getsockname()[1]}/"
    yield
    silent.close()


@pytest.fixture
def budget(settings):
    settings.PAYMENT_SYNC_BUDGET_SECONDS = 0.5
    # Longer than the budget; short, because here (eager tasks) closing the other attempts after a
    # payment waits for the hung gateway inside the request.
    settings.GATEWAY_TIMEOUT_SECONDS = 2.0
    return settings.PAYMENT_SYNC_BUDGET_SECONDS


def attempts(order, *channels: str) -> list[Payment]:
    """Open attempts of `order`, the first created first (each a minute after the one before)."""
    made = []
    for i, channel in enumerate(channels):
        payment = PaymentFactory(order=order, channel=channel, method="native" if channel == "wechat" else "page")
        Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10 - i))
        made.append(payment)
    return made


@pytest.mark.django_db(transaction=True)
def test_i_have_paid_with_every_gateway_hanging_answers_still_checking_within_the_budget(
    learner, course, alipay, wechat_hangs, budget
):
    order = OrderFactory(learner=learner, course=course)
    attempts(order, "alipay", "wechat", "alipay", "wechat")

    result, took = finished_within(DEADLINE, lambda: order_sync(order=order))

    assert not isinstance(result, Exception), result
    assert result.still_checking is True
    assert result.order.status == Order.Status.PENDING
    assert took < budget + 5


@pytest.mark.django_db(transaction=True)
def test_the_attempt_that_answers_is_applied_even_while_others_hang(learner, course, alipay, wechat_hangs, budget):
    order = OrderFactory(learner=learner, course=course)
    _, paid, _ = attempts(order, "wechat", "alipay", "wechat")
    alipay.paid = paid

    result, _ = finished_within(DEADLINE, lambda: order_sync(order=order))

    assert result.order.status == Order.Status.PAID
    assert Payment.objects.get(pk=paid.pk).status == Payment.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_the_most_recent_attempts_are_asked_first(learner, course, alipay, budget, settings, monkeypatch):
    order = OrderFactory(learner=learner, course=course)
    made = attempts(order, "alipay", "alipay", "alipay", "alipay", "alipay", "alipay")
    asked = []
    monkeypatch.setattr(sync, "SYNC_PARALLEL_QUERIES", 1)
    monkeypatch.setattr(sync._GatewayQuery, "run", lambda query: asked.append(query.payment.pk) or time.sleep(0.2))

    result = order_sync(order=order)

    assert result.still_checking is True
    assert asked[:2] == [made[-1].pk, made[-2].pk]


@pytest.mark.django_db(transaction=True)
def test_i_have_paid_page_says_still_checking_when_the_budget_runs_out(learner, course, wechat_hangs, budget, client):
    order = OrderFactory(learner=learner, course=course)
    attempts(order, "wechat")
    client.force_login(learner)

    response, _ = finished_within(
        DEADLINE, lambda: client.post(reverse("payments:order_check", args=[order.order_no]), follow=True)
    )

    assert response.status_code == 200
    assert "still checking" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_202_while_still_checking(learner, course, wechat_hangs, budget, client):
    order = OrderFactory(learner=learner, course=course)
    attempts(order, "wechat")
    client.force_login(learner)

    response, _ = finished_within(DEADLINE, lambda: client.post(f"/api/v1/orders/{order.order_no}/check/"))

    assert response.status_code == 202
    assert response.json()["status"] == Order.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_query_that_answers_after_the_budget_still_records_its_call(learner, course, wechat_hangs, budget):
    order = OrderFactory(learner=learner, course=course)
    attempts(order, "wechat")

    order_sync(order=order)
    assert not GatewayCall.objects.exists()  # the gateway has not given up yet

    assert wait_until(lambda: GatewayCall.objects.filter(operation="query_payment").exists(), DEADLINE)
    call = GatewayCall.objects.get()
    assert (call.channel, call.outcome) == ("wechat", "unavailable")


@pytest.mark.django_db
def test_the_calls_answered_in_time_are_recorded_in_the_requests_transaction(learner, course, alipay, budget):
    order = OrderFactory(learner=learner, course=course)
    paid = attempts(order, "alipay")[0]
    alipay.paid = paid

    result = order_sync(order=order)

    assert result.order.status == Order.Status.PAID
    call = GatewayCall.objects.get(operation="query_payment")
    assert (call.out_trade_no, call.outcome) == (paid.out_trade_no, "ok")


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
