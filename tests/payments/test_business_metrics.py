"""Every business metric moves when its event happens (and only once it committed)."""

import datetime as dt

import pytest
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import GatewayContractViolation, GatewayUnavailable, RefundEvent, RefundStatus
from payments.gateways.breakers import breaker_for
from payments.models import Order, OutboxMessage, Payment, Payout, ReconciliationItem, ReconciliationRun
from payments.services.checkout import payment_start
from payments.services.reconciliation import reconciliation_run
from payments.services.refunds import refund_approve, refund_event_apply, refund_reject, refund_request
from payments.tasks import outbox_send_due_task
from tests.factories import CreatorFactory, OrderFactory, PaymentFactory, UserFactory
from tests.operating import closed_port, sample, scraped
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)


def test_a_processed_notification_counts_it_and_the_payment_it_made(
    payment, post_notify, django_capture_on_commit_callbacks
):
    processed = sample("knowpay_notifications_total", channel="sandbox", kind="payment", outcome="processed")
    succeeded = sample("knowpay_payments_succeeded_total", channel="sandbox")

    with django_capture_on_commit_callbacks(execute=True):
        post_notify(sandbox_notification_body(payment))

    assert (
        sample("knowpay_notifications_total", channel="sandbox", kind="payment", outcome="processed") == processed + 1
    )
    assert sample("knowpay_payments_succeeded_total", channel="sandbox") == succeeded + 1


def test_a_forged_notification_counts_as_rejected(payment, post_notify):
    rejected = sample("knowpay_notifications_total", channel="sandbox", kind="payment", outcome="rejected")

    post_notify(sandbox_notification_body(payment, key="not-the-merchant-key"))

    assert sample("knowpay_notifications_total", channel="sandbox", kind="payment", outcome="rejected") == rejected + 1


def test_a_payment_that_rolls_back_is_not_counted(payment, post_notify):
    succeeded = sample("knowpay_payments_succeeded_total", channel="sandbox")

    post_notify(sandbox_notification_body(payment))  # the test's transaction never commits

    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert sample("knowpay_payments_succeeded_total", channel="sandbox") == succeeded


def test_a_second_payment_for_a_paid_order_counts_as_duplicated(
    payment, post_notify, django_capture_on_commit_callbacks
):
    second = PaymentFactory(order=payment.order)
    post_notify(sandbox_notification_body(payment))
    duplicated = sample("knowpay_payments_duplicated_total", channel="sandbox")

    with django_capture_on_commit_callbacks(execute=True):
        post_notify(sandbox_notification_body(second, trade_no="SBX-second"))

    assert sample("knowpay_payments_duplicated_total", channel="sandbox") == duplicated + 1


def test_starting_a_payment_counts_it(learner, course):
    order = OrderFactory(learner=learner, course=course)
    started = sample("knowpay_payments_started_total", channel="sandbox")

    payment_start(order=order, channel="sandbox", method="page", client_ip="127.0.0.1")

    assert sample("knowpay_payments_started_total", channel="sandbox") == started + 1


@pytest.fixture
def paid_order(learner, course):
    order = OrderFactory(learner=learner, course=course, status=Order.Status.PAID, paid_at=timezone.now())
    PaymentFactory(order=order, status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())
    return order


def refunds_in(state: str) -> float:
    return sample("knowpay_refunds_total", state=state)


def test_refunds_are_counted_by_the_state_they_enter(paid_order, learner, django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)
    before = {state: refunds_in(state) for state in ("requested", "rejected", "processing", "succeeded", "failed")}

    with django_capture_on_commit_callbacks(execute=True):
        first = refund_request(order=paid_order, learner=learner, amount_fen=100)
        refund_reject(refund=first, staff=staff, note="No")
        second = refund_request(order=paid_order, learner=learner, amount_fen=200)
        refund_approve(refund=second, staff=staff)  # its sending fails: no gateway to answer
        refund_event_apply(
            channel="sandbox",
            event=RefundEvent(
                out_trade_no=second.payment.out_trade_no,
                out_refund_no=second.refund_no,
                status=RefundStatus.FAILED,
                refund_fen=200,
            ),
        )

    after = {state: refunds_in(state) - before[state] for state in before}
    assert after == {"requested": 2, "rejected": 1, "processing": 1, "succeeded": 0, "failed": 1}


def test_a_refund_that_succeeds_is_counted(paid_order, learner, django_capture_on_commit_callbacks):
    refund = refund_request(order=paid_order, learner=learner, amount_fen=100)
    refund.status = "processing"
    refund.save()
    before = refunds_in("succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        refund_event_apply(
            channel="sandbox",
            event=RefundEvent(
                out_trade_no=refund.payment.out_trade_no,
                out_refund_no=refund.refund_no,
                status=RefundStatus.SUCCEEDED,
                refund_fen=100,
            ),
        )

    assert refunds_in("succeeded") == before + 1


def test_gateway_calls_are_timed_and_counted_by_outcome(settings):
    settings.SANDBOX_SERVER_URL = f"http://127.0.0.1:{closed_port()}/"
    labels = {"channel": "sandbox", "operation": "query_payment"}
    unavailable = sample("knowpay_gateway_calls_total", **labels, outcome="unavailable")
    timed = sample("knowpay_gateway_call_duration_seconds_count", **labels)

    with pytest.raises(GatewayUnavailable):
        gateway_get("sandbox").query_payment("KP-metrics-1")

    assert sample("knowpay_gateway_calls_total", **labels, outcome="unavailable") == unavailable + 1
    assert sample("knowpay_gateway_call_duration_seconds_count", **labels) == timed + 1


def test_a_contract_violation_is_counted_as_such(settings):
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "brokenpay": "tests.payments.fakes.BrokenBillGateway"}
    settings.PAYMENTS_CHANNELS = ["brokenpay", "sandbox"]
    before = sample(
        "knowpay_gateway_calls_total", channel="brokenpay", operation="query_payment", outcome="contract_violation"
    )

    with pytest.raises(GatewayContractViolation):
        gateway_get("brokenpay").query_payment("KP-metrics-2")

    assert (
        sample(
            "knowpay_gateway_calls_total", channel="brokenpay", operation="query_payment", outcome="contract_violation"
        )
        == before + 1
    )


def test_circuit_state_and_openings_are_exposed():
    opened = sample("knowpay_gateway_circuit_opened_total", channel="sandbox", operation="refund")
    assert scraped("knowpay_gateway_circuit_state", channel="sandbox", operation="refund") == 0

    breaker_for("sandbox", "refund").open()

    assert scraped("knowpay_gateway_circuit_state", channel="sandbox", operation="refund") == 2
    assert sample("knowpay_gateway_circuit_opened_total", channel="sandbox", operation="refund") == opened + 1


def test_outbox_backlog_and_its_oldest_age_are_read_at_scrape():
    OutboxMessage.objects.create(
        dedupe_key="sent", topic="order_paid", next_attempt_at=timezone.now(), sent_at=timezone.now()
    )
    stuck = OutboxMessage.objects.create(dedupe_key="stuck", topic="order_paid", next_attempt_at=timezone.now())
    OutboxMessage.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))

    assert scraped("knowpay_outbox_backlog") == 1
    assert 7100 < scraped("knowpay_outbox_oldest_age_seconds") < 7300


def test_payouts_awaiting_review_are_read_at_scrape():
    creator = CreatorFactory()
    Payout.objects.create(payout_no="PO-review-1", creator=creator, amount_fen=10000)
    Payout.objects.create(
        payout_no="PO-rejected-1",
        creator=creator,
        amount_fen=10000,
        status=Payout.Status.REJECTED,
        decided_by=UserFactory(is_staff=True),
        decided_at=timezone.now(),
    )

    assert scraped("knowpay_payouts_awaiting_review") == 1


def test_discrepancies_of_each_channels_latest_completed_run_are_read_at_scrape():
    now = timezone.now()
    older = ReconciliationRun.objects.create(
        channel="alipay", day=YESTERDAY - dt.timedelta(days=1), status="discrepancies", started_at=now
    )
    ReconciliationItem.objects.create(run=older, kind="amount_mismatch", entry_kind="payment", out_trade_no="A0")
    latest = ReconciliationRun.objects.create(channel="alipay", day=YESTERDAY, status="discrepancies", started_at=now)
    for number in ("A1", "A2"):
        ReconciliationItem.objects.create(run=latest, kind="missing_here", entry_kind="payment", out_trade_no=number)
    ReconciliationRun.objects.create(channel="alipay", day=timezone.localdate(), status="failed", started_at=now)

    assert scraped("knowpay_reconciliation_discrepancies", channel="alipay", kind="missing_here") == 2
    assert scraped("knowpay_reconciliation_discrepancies", channel="alipay", kind="amount_mismatch") == 0
    assert scraped("knowpay_reconciliation_discrepancies", channel="wechat", kind="missing_here") == 0


def test_reconciliation_runs_are_counted_by_outcome(settings):
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "brokenpay": "tests.payments.fakes.BrokenBillGateway"}
    settings.PAYMENTS_CHANNELS = ["brokenpay", "sandbox"]
    failed = sample("knowpay_reconciliation_runs_total", channel="brokenpay", status="failed")

    with pytest.raises(GatewayContractViolation):
        reconciliation_run(channel="brokenpay", day=YESTERDAY)

    assert sample("knowpay_reconciliation_runs_total", channel="brokenpay", status="failed") == failed + 1


def test_celery_task_runs_are_counted_by_outcome():
    task = "payments.tasks.outbox_send_due_task"
    before = sample("knowpay_celery_tasks_total", task=task, outcome="success")

    outbox_send_due_task.delay()

    assert sample("knowpay_celery_tasks_total", task=task, outcome="success") == before + 1
    assert sample("knowpay_celery_task_duration_seconds_count", task=task) >= 1
