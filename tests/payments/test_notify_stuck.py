"""Notifications left `received` (the process handling one died after storing it) are finished by a
sweep through the normal processing path, once, and only after a while."""

import datetime as dt

import pytest
from django.utils import timezone

from payments.models import GatewayNotification, LedgerEntry, Order
from payments.services.notifications import notification_store, notifications_finish_stuck
from payments.tasks import notifications_finish_stuck_task
from tests.factories import PaymentFactory
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=11)


def stored(payment, **fields) -> GatewayNotification:
    """A notification stored raw, as the notify view does first, and never processed (a crash)."""
    return notification_store(
        channel="sandbox",
        kind="payment",
        body=sandbox_notification_body(payment, **fields),
        truncated=False,
        meta={"CONTENT_TYPE": "application/x-www-form-urlencoded"},
        remote_addr="127.0.0.1",
    )


def test_a_notification_stuck_received_is_finished_by_the_sweep(payment):
    stuck = stored(payment)

    assert notifications_finish_stuck(now=timezone.now() + LATER) == 1

    stuck.refresh_from_db()
    assert stuck.outcome == GatewayNotification.Outcome.PROCESSED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.SALE).count() == 1


def test_a_notification_received_a_moment_ago_is_left_to_its_request(payment):
    fresh = stored(payment)

    assert notifications_finish_stuck(now=timezone.now() + dt.timedelta(minutes=1)) == 0

    assert GatewayNotification.objects.get(pk=fresh.pk).outcome == GatewayNotification.Outcome.RECEIVED


def test_the_sweep_finishes_each_row_once(payment):
    stored(payment)
    notifications_finish_stuck(now=timezone.now() + LATER)

    assert notifications_finish_stuck(now=timezone.now() + LATER) == 0

    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.SALE).count() == 1
    assert GatewayNotification.objects.get().outcome == GatewayNotification.Outcome.PROCESSED


def test_a_stuck_resend_of_an_applied_notification_is_recorded_as_a_duplicate(payment, post_notify):
    post_notify(sandbox_notification_body(payment))
    stuck = stored(payment)

    notifications_finish_stuck(now=timezone.now() + LATER)

    assert GatewayNotification.objects.get(pk=stuck.pk).outcome == GatewayNotification.Outcome.DUPLICATE
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.SALE).count() == 1


def test_stuck_rows_are_finished_oldest_first(course, learner):
    first, second = PaymentFactory(order__course=course), PaymentFactory(order__course=course)
    late, early = stored(second), stored(first)
    GatewayNotification.objects.filter(pk=early.pk).update(received_at=timezone.now() - dt.timedelta(hours=1))

    notifications_finish_stuck(now=timezone.now() + LATER)

    processed = GatewayNotification.objects.order_by("processed_at").values_list("pk", flat=True)
    assert list(processed) == [early.pk, late.pk]


def test_the_sweep_runs_periodically(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule[notifications_finish_stuck_task.name] <= 600
