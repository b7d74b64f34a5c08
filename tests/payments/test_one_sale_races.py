"""One sale per purchase under real concurrency (PostgreSQL): two orders of one learner for one course,
both paid at the same instant through different channels and paths. Exactly one becomes the sale;
the other is recorded as a duplicate, posted and refunded.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from courses.models import Enrollment
from payments.models import LedgerEntry, Order, Payment, Refund
from payments.selectors.ledger import ledger_violations
from payments.services.sync import order_sync
from payments.simulators.wechat import is_acknowledged
from tests.concurrency import run_at_once
from tests.factories import OrderFactory, PaymentFactory, UserFactory
from tests.payments.alipay.helpers import NOTIFY_URL as ALIPAY_NOTIFY_URL
from tests.payments.alipay.helpers import notification_body, signed_reply
from tests.payments.wechat.messages import payment_notification

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WECHAT_NOTIFY_URL = "/payments/notify/wechat/"
TRIALS = 30


@pytest.fixture(autouse=True)
def _gateways_unreachable(settings):
    # The duplicate's refund and the closing of attempts are sent after commit; no gateway answers here.
    settings.ALIPAY_SERVER_URL = "http://127.0.0.1:9/gateway.do"
    settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9/"
    settings.PAYMENTS_CHANNELS = ["alipay", "wechat"]


def closed_and_open_orders(learner, course, *, closed_channel: str, open_channel: str) -> tuple[Payment, Payment]:
    """Order A closed while its payment was in flight, order B bought again: one attempt each."""
    closed = OrderFactory(
        learner=learner,
        course=course,
        status=Order.Status.CLOSED,
        closed_at=timezone.now(),
        close_reason=Order.CloseReason.EXPIRED,
    )
    methods = {"alipay": "page", "wechat": "native"}
    late = PaymentFactory(order=closed, channel=closed_channel, method=methods[closed_channel])
    current = PaymentFactory(
        order=OrderFactory(learner=learner, course=course), channel=open_channel, method=methods[open_channel]
    )
    return late, current


def notify(payment: Payment) -> bool:
    """Deliver the gateway's signed notification of `payment` through our notify view; True if acknowledged."""
    if payment.channel == "alipay":
        reply = Client().post(
            ALIPAY_NOTIFY_URL, data=notification_body(payment), content_type="application/x-www-form-urlencoded"
        )
        return reply.content == b"success"
    reply = Client().post(WECHAT_NOTIFY_URL, data=payment_notification(payment), content_type="text/xml")
    return is_acknowledged(reply.status_code, reply.content.decode())


def purchase_outcome(learner, course) -> dict[str, int]:
    """What became of the learner's two payments for the course, counted."""
    mine = Q(payment__order__learner=learner, payment__order__course=course)
    payments = Payment.objects.filter(order__learner=learner, order__course=course)
    duplicate = payments.filter(is_duplicate=True).first()
    return {
        "succeeded payments": payments.filter(status=Payment.Status.SUCCEEDED).count(),
        "sales": LedgerEntry.objects.filter(mine, kind=LedgerEntry.Kind.SALE).count(),
        "duplicates posted": LedgerEntry.objects.filter(mine, kind=LedgerEntry.Kind.DUPLICATE_PAYMENT).count(),
        "full refunds of the duplicate": Refund.objects.filter(
            payment=duplicate, kind=Refund.Kind.DUPLICATE, amount_fen=duplicate.amount_fen if duplicate else 0
        ).count(),
        "paid orders": Order.objects.filter(learner=learner, course=course, status=Order.Status.PAID).count(),
        "active enrollments": Enrollment.objects.filter(learner=learner, course=course, revoked_at=None).count(),
    }


ONE_SALE = {
    "succeeded payments": 2,
    "sales": 1,
    "duplicates posted": 1,
    "full refunds of the duplicate": 1,
    "paid orders": 1,
    "active enrollments": 1,
}


def test_two_orders_for_one_course_paid_at_once_through_two_channels_make_one_sale(course):
    failures = []
    for trial in range(TRIALS):
        learner = UserFactory()
        # Alternate which channel pays the closed order, so each reaches the lock first in some trials.
        channels = ("alipay", "wechat") if trial % 2 else ("wechat", "alipay")
        late, current = closed_and_open_orders(learner, course, closed_channel=channels[0], open_channel=channels[1])

        payments = (late, current)
        replies = run_at_once(2, lambda i, payments=payments: notify(payments[i]))

        assert replies == [True, True], (trial, replies)
        outcome = purchase_outcome(learner, course)
        if outcome != ONE_SALE:
            failures.append((trial, outcome))
    assert failures == [], f"{len(failures)} of {TRIALS} trials went wrong, e.g. {failures[:2]}"
    assert ledger_violations() == []


class StubAlipayQuery:
    """Plays Alipay for "I have paid": every trade query is answered "paid" for `payment`, signed."""

    def __init__(self) -> None:
        self.payment: Payment | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payment = stub.payment
                body = signed_reply(
                    "alipay.trade.query",
                    {
                        "code": "10000",
                        "msg": "Success",
                        "out_trade_no": payment.out_trade_no,
                        "trade_no": f"20261122220010{payment.pk:014d}",
                        "trade_status": "TRADE_SUCCESS",
                        "total_amount": f"{payment.amount_fen // 100}.{payment.amount_fen % 100:02d}",
                        "send_pay_date": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
                    },
                )
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/gateway.do"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()


@pytest.fixture
def alipay_answers_paid(settings):
    stub = StubAlipayQuery()
    settings.ALIPAY_SERVER_URL = stub.url
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


def test_a_notification_racing_i_have_paid_for_the_other_order_makes_one_sale(course, alipay_answers_paid):
    failures = []
    for trial in range(10):
        learner = UserFactory()
        late, current = closed_and_open_orders(learner, course, closed_channel="wechat", open_channel="alipay")
        alipay_answers_paid.payment = current

        def work(i, late=late, current=current):
            return notify(late) if i == 0 else order_sync(order=current.order)

        results = run_at_once(2, work)

        assert results[0] is True, (trial, results)
        assert not isinstance(results[1], Exception), (trial, results)
        outcome = purchase_outcome(learner, course)
        if outcome != ONE_SALE:
            failures.append((trial, outcome))
    assert failures == [], f"{len(failures)} of 10 trials went wrong, e.g. {failures[:2]}"
    assert ledger_violations() == []
