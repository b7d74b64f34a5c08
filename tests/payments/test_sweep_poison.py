"""A poison row never stalls a sweep: in every periodic sweep, a row that fails in the middle of
healthy ones is recorded (attempts, last error, next attempt with backoff), the rest are done oldest
first, the failing row is left alone until its next attempt is due, and staff see it in admin.
"""

import datetime as dt
import importlib

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from payments.models import Alert, GatewayNotification, Order, OutboxMessage, Refund, SweepFailure
from payments.services.notifications import notification_store, notifications_finish_stuck
from payments.services.orders import orders_expire_due
from payments.services.outbox import outbox_send_due
from payments.services.payouts import (
    payout_approve,
    payout_request,
    payout_schedule_set,
    payouts_create_due,
    payouts_send_stuck,
)
from payments.services.refunds import refunds_sync_processing
from payments.services.settlement import earnings_settle_due
from payments.services.sweeps import sweep_retry_delay
from payments.services.sync import payments_sync_open
from tests.factories import CourseFactory, CreatorFactory, OrderFactory, PaymentFactory, RefundFactory, UserFactory
from tests.payments.conftest import sandbox_notification_body
from tests.payments.ledger.helpers import sell
from tests.payments.outbox import outbox_message

pytestmark = pytest.mark.django_db

NOW = dt.timedelta(0)


def poisoned(monkeypatch, target: str, poison_id: int) -> list[int]:
    """Make the per-row service `target` ("module.function") raise for one row, like a bug or bad data
    would; it runs for real for every other row. Returns the ids it was called with, in order."""
    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    real = getattr(module, name)
    calls = []

    def run(**kwargs):
        row = next(iter(kwargs.values()))
        row_id = getattr(row, "pk", row)
        calls.append(row_id)
        if row_id == poison_id:
            raise KeyError("total_amount")  # e.g. a gateway module leaking a bare KeyError
        return real(**kwargs)

    monkeypatch.setattr(module, name, run)
    return calls


def failure_of(sweep: str, object_id: int) -> SweepFailure:
    failure = SweepFailure.objects.get(sweep=sweep, object_id=object_id)
    assert failure.attempts == 1
    assert "KeyError: 'total_amount'" in failure.last_error
    assert failure.next_attempt_at > timezone.now()
    return failure


def aged(rows, field: str) -> None:
    """Make the rows oldest-first in the given order by `field`."""
    for age, row in enumerate(reversed(rows), start=1):
        type(row).objects.filter(pk=row.pk).update(**{field: timezone.now() - dt.timedelta(hours=age)})


# --- The outbox: failures recorded on the message itself -----------------------------------------


def test_an_outbox_message_that_cannot_render_does_not_stop_the_later_ones():
    first = outbox_message("first")
    poison = outbox_message("poison", topic="no_such_template")
    last = outbox_message("last")
    aged([first, poison, last], "created_at")

    assert outbox_send_due() == 2

    assert sorted(m.to[0] for m in mail.outbox) == ["first@example.com", "last@example.com"]
    poison.refresh_from_db()
    assert (poison.sent_at, poison.attempts) == (None, 1)
    assert poison.last_error.startswith("TemplateDoesNotExist")
    assert poison.next_attempt_at > timezone.now()


def test_an_outbox_message_with_a_broken_payload_is_recorded_and_skipped():
    poison = outbox_message("poison")
    OutboxMessage.objects.filter(pk=poison.pk).update(
        payload={key: value for key, value in poison.payload.items() if key != "to"}
    )
    healthy = outbox_message("healthy")

    assert outbox_send_due() == 1

    assert OutboxMessage.objects.get(pk=healthy.pk).sent_at is not None
    assert OutboxMessage.objects.get(pk=poison.pk).last_error.startswith("KeyError")


def test_a_failing_outbox_message_waits_for_its_next_attempt():
    outbox_message("poison", topic="no_such_template")
    outbox_send_due()

    outbox_send_due()

    assert OutboxMessage.objects.get().attempts == 1


def test_staff_find_failing_outbox_messages(admin_client):
    poison = outbox_message("poison", topic="no_such_template")
    outbox_message("healthy")
    outbox_send_due()

    response = admin_client.get(reverse("admin:payments_outboxmessage_changelist") + "?delivery=failing")

    assert list(response.context["cl"].result_list) == [poison]


# --- Every other sweep: failures recorded as SweepFailure ----------------------------------------


def test_expiry_goes_on_past_an_order_that_cannot_be_closed(monkeypatch):
    orders = [OrderFactory(expires_at=timezone.now() - dt.timedelta(minutes=m)) for m in (30, 20, 10)]
    calls = poisoned(monkeypatch, "payments.services.orders.order_expire", orders[1].pk)

    assert orders_expire_due() == 2

    assert calls == [o.pk for o in orders]
    statuses = [Order.objects.get(pk=o.pk).status for o in orders]
    assert statuses == [Order.Status.CLOSED, Order.Status.PENDING, Order.Status.CLOSED]
    assert failure_of("orders_expire", orders[1].pk).model_label == "payments.order"


def test_settlement_goes_on_past_a_sale_that_cannot_be_settled(monkeypatch, creator):
    course = CourseFactory(creator=creator, price_fen=1000)
    sales = [sell(course, days_ago=days) for days in (10, 9, 8)]
    calls = poisoned(monkeypatch, "payments.services.settlement.earning_settle", sales[1].pk)

    assert earnings_settle_due() == 2

    assert calls == [s.pk for s in sales]
    failure_of("earnings_settle", sales[1].pk)


def test_the_open_payment_query_goes_on_past_an_attempt_whose_answer_breaks(monkeypatch, settings):
    settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"
    attempts = [PaymentFactory() for _ in range(3)]
    aged(attempts, "created_at")
    calls = poisoned(monkeypatch, "payments.services.sync.payment_sync", attempts[1].pk)

    payments_sync_open(older_than=NOW)

    assert calls == [p.pk for p in attempts]
    failure_of("payments_sync", attempts[1].pk)
    assert SweepFailure.objects.count() == 1  # an unreachable gateway is not the rows' fault


def test_the_refund_query_goes_on_past_a_refund_whose_answer_breaks(monkeypatch, settings):
    settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"
    refunds = [RefundFactory(status=Refund.Status.PROCESSING) for _ in range(3)]
    aged(refunds, "updated_at")
    calls = poisoned(monkeypatch, "payments.services.refunds.refund_sync", refunds[1].pk)

    refunds_sync_processing(older_than=NOW)

    assert calls == [r.pk for r in refunds]
    failure_of("refunds_sync", refunds[1].pk)


def test_the_payout_resend_goes_on_past_a_payout_that_breaks(monkeypatch, creator, settings):
    settings.PAYOUT_MIN_FEN = 100
    sell(CourseFactory(creator=creator, price_fen=10000), days_ago=8)
    earnings_settle_due()
    payouts = [payout_request(creator=creator, requested_by=creator, amount_fen=1000) for _ in range(3)]
    settings.PAYOUT_TRANSFER_CHANNEL = "sandbox"
    staff = UserFactory(is_staff=True)
    for payout in payouts:
        payout_approve(payout=payout, staff=staff)  # sent after commit: never, in this test's transaction
    aged(payouts, "updated_at")
    settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"
    calls = poisoned(monkeypatch, "payments.services.payouts.payout_send", payouts[1].pk)

    payouts_send_stuck(older_than=NOW)

    assert calls == [p.pk for p in payouts]
    failure_of("payouts_send", payouts[1].pk)


def test_scheduled_payouts_go_on_past_a_schedule_that_breaks(monkeypatch):
    schedules = [
        payout_schedule_set(creator=CreatorFactory(), frequency="weekly", threshold_fen=settings.PAYOUT_MIN_FEN)
        for _ in range(3)
    ]
    calls = poisoned(monkeypatch, "payments.services.payouts._payout_create_due", schedules[1].pk)

    payouts_create_due(now=timezone.now() + dt.timedelta(days=8))

    assert calls == [schedule.pk for schedule in schedules]
    assert failure_of("payouts_create", schedules[1].pk).model_label == "payments.payoutschedule"


def test_the_stuck_notification_sweep_goes_on_past_one_of_a_channel_no_longer_offered(payment, settings):
    def stuck(channel):
        return notification_store(
            channel=channel,
            kind="payment",
            body=sandbox_notification_body(payment),
            truncated=False,
            meta={"CONTENT_TYPE": "application/x-www-form-urlencoded"},
            remote_addr="127.0.0.1",
        )

    rows = [stuck("sandbox"), stuck("nosuchpay"), stuck("sandbox")]
    aged(rows, "received_at")

    notifications_finish_stuck()

    outcomes = [GatewayNotification.objects.get(pk=n.pk).outcome for n in rows]
    assert outcomes == ["processed", "received", "duplicate"]
    failure = SweepFailure.objects.get(sweep="notifications_finish", object_id=rows[1].pk)
    assert "UnknownChannel" in failure.last_error


# --- Backoff, recovery, and staff --------------------------------------------------------------------


@pytest.fixture
def poison_order(monkeypatch):
    order = OrderFactory(expires_at=timezone.now() - dt.timedelta(minutes=5))
    poisoned(monkeypatch, "payments.services.orders.order_expire", order.pk)
    orders_expire_due()
    return order


def test_a_failing_row_is_left_alone_until_its_next_attempt(poison_order):
    orders_expire_due()

    assert SweepFailure.objects.get().attempts == 1


def test_a_failing_row_is_tried_again_when_due_and_waits_longer_each_time(poison_order):
    later = timezone.now() + dt.timedelta(minutes=2)

    orders_expire_due(now=later)

    failure = SweepFailure.objects.get()
    assert failure.attempts == 2
    assert failure.next_attempt_at - failure.last_failed_at == sweep_retry_delay(2) > sweep_retry_delay(1)


def test_backoff_is_capped():
    assert sweep_retry_delay(100) == dt.timedelta(hours=6)


def test_a_row_that_succeeds_again_is_no_longer_a_failure(poison_order, monkeypatch):
    monkeypatch.undo()  # the bug is fixed

    assert orders_expire_due(now=timezone.now() + dt.timedelta(minutes=2)) == 1

    assert not SweepFailure.objects.exists()
    assert Order.objects.get(pk=poison_order.pk).status == Order.Status.CLOSED


def test_rows_backing_off_do_not_take_the_place_of_due_ones(monkeypatch):
    poison = OrderFactory(expires_at=timezone.now() - dt.timedelta(hours=1))
    poisoned(monkeypatch, "payments.services.orders.order_expire", poison.pk)
    orders_expire_due()
    healthy = OrderFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    calls = poisoned(monkeypatch, "payments.services.orders.order_expire", poison.pk)

    orders_expire_due()

    assert calls == [healthy.pk]


def test_a_failing_sweep_raises_one_alert_that_recovery_resolves(poison_order, monkeypatch):
    other = OrderFactory(expires_at=timezone.now() - dt.timedelta(minutes=4))
    poisoned(monkeypatch, "payments.services.orders.order_expire", other.pk)
    orders_expire_due()

    alert = Alert.objects.get(kind=Alert.Kind.SWEEP_FAILING)
    assert (alert.incident_key, alert.occurrences, alert.status) == ("sweep_failing:orders_expire", 2, "open")

    monkeypatch.undo()
    orders_expire_due(now=timezone.now() + dt.timedelta(minutes=2))

    assert Alert.objects.get(pk=alert.pk).status == Alert.Status.RESOLVED


def test_staff_see_failing_rows_with_a_link_to_them(poison_order, admin_client):
    failure = SweepFailure.objects.get()

    listed = admin_client.get(reverse("admin:payments_sweepfailure_changelist") + "?sweep=orders_expire")
    page = admin_client.get(reverse("admin:payments_sweepfailure_change", args=[failure.pk]))

    assert list(listed.context["cl"].result_list) == [failure]
    assert reverse("admin:payments_order_change", args=[poison_order.pk]) in page.content.decode()
    assert "KeyError" in page.content.decode()


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client
