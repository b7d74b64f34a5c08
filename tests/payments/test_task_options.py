"""Work that was started is finished, once, after any crash: the Celery options that make redelivery
real, retries on transient database and broker errors, and countdowns kept below the visibility timeout.
(A worker child killed mid-task: tests/test_celery_worker.py, with Redis and PostgreSQL.)
"""

import pytest
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from knowpay.celery import app as celery_app
from payments import tasks
from payments.checks import check_celery_redelivery
from payments.models import OutboxMessage
from tests.payments.outbox import outbox_message

PAYMENTS_TASKS = sorted(name for name in celery_app.tasks if name.startswith("payments.tasks."))


def test_a_worker_child_killed_mid_task_has_its_message_redelivered():
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True


def test_the_visibility_timeout_outlasts_the_longest_countdown_and_task(settings):
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]

    assert visibility > settings.TASK_MAX_COUNTDOWN_SECONDS + celery_app.conf.task_time_limit
    # A whole-worker crash is redelivered within the hour, not after two.
    assert visibility <= 3600


def test_a_hard_time_limit_stops_any_task_before_redelivery_and_a_soft_one_comes_first():
    assert 0 < celery_app.conf.task_soft_time_limit < celery_app.conf.task_time_limit


@pytest.mark.parametrize("name", PAYMENTS_TASKS)
def test_every_task_retries_transient_database_and_broker_errors_with_backoff_and_jitter(name, settings):
    task = celery_app.tasks[name]

    assert {DatabaseOperationalError, InterfaceError, BrokerOperationalError} <= set(task.autoretry_for)
    assert task.retry_backoff
    assert task.retry_jitter is True
    assert task.retry_backoff_max <= settings.TASK_MAX_COUNTDOWN_SECONDS
    assert task.max_retries >= 5


def test_there_are_tasks_to_check():
    assert "payments.tasks.outbox_send_task" in PAYMENTS_TASKS
    assert "payments.tasks.notifications_finish_stuck_task" in PAYMENTS_TASKS


@pytest.mark.django_db
def test_a_task_that_meets_a_database_error_is_run_again_and_finishes(monkeypatch):
    message = outbox_message("healthy")
    real_send = tasks.outbox.outbox_send
    calls = []

    def send_once_the_database_is_back(*, message_id):
        calls.append(message_id)
        if len(calls) == 1:
            raise DatabaseOperationalError("server closed the connection unexpectedly")
        return real_send(message_id=message_id)

    monkeypatch.setattr(tasks.outbox, "outbox_send", send_once_the_database_is_back)

    # As a worker runs it: a retry is run again (here at once) instead of being raised to a caller.
    result = tasks.outbox_send_task.apply(args=[message.pk], throw=False)

    assert result.successful()
    assert calls == [message.pk, message.pk]
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is not None


def test_a_visibility_timeout_shorter_than_a_countdown_and_a_task_is_refused(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": settings.TASK_MAX_COUNTDOWN_SECONDS,
    }

    assert [e.id for e in check_celery_redelivery()] == ["payments.E010"]


def test_a_countdown_longer_than_the_visibility_timeout_is_refused(settings):
    settings.TASK_MAX_COUNTDOWN_SECONDS = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 1

    assert [e.id for e in check_celery_redelivery()] == ["payments.E010"]


def test_the_configured_redelivery_passes():
    assert check_celery_redelivery() == []
