"""The demo runs the periodic work itself: `make run` has no broker, no worker and no beat."""

import datetime as dt

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import timezone

from knowpay import scheduler as scheduler_module
from knowpay.scheduler import InProcessScheduler
from payments.models import Order
from tests.factories import OrderFactory


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_once_its_interval_has_passed(clock):
    stale = OrderFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    scheduler = InProcessScheduler(
        {"expire-orders": {"task": "payments.tasks.orders_expire_task", "schedule": 60.0}}, now=clock
    )

    assert scheduler.run_due() == []
    assert Order.objects.get(pk=stale.pk).status == Order.Status.PENDING

    clock.now += dt.timedelta(seconds=61)
    assert scheduler.run_due() == ["expire-orders"]
    assert Order.objects.get(pk=stale.pk).status == Order.Status.CLOSED

    assert scheduler.run_due() == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_logged_and_does_not_stop_the_others(clock, caplog):
    stale = OrderFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    scheduler = InProcessScheduler(
        {
            "broken": {"task": "no.such.task", "schedule": 10.0},
            "expire-orders": {"task": "payments.tasks.orders_expire_task", "schedule": 10.0},
        },
        now=clock,
    )
    clock.now += dt.timedelta(seconds=11)

    assert scheduler.run_due() == ["broken", "expire-orders"]
    assert "periodic task broken failed" in caplog.text
    assert Order.objects.get(pk=stale.pk).status == Order.Status.CLOSED


def test_the_development_server_is_ours():
    assert get_commands()["runserver"] == "payments"


@pytest.fixture
def serving(monkeypatch):
    """runserver's serving step, with the server itself left out; returns the schedulers started."""
    started = []
    monkeypatch.setattr(
        "django.core.management.commands.runserver.Command.inner_run", lambda self, *args, **options: None
    )
    monkeypatch.setattr(scheduler_module.InProcessScheduler, "start", lambda self: started.append(self))

    def serve(**options):
        command = load_command_class("payments", "runserver")
        command.inner_run(None, use_periodic=True, **options)
        return started

    return serve


def test_the_development_server_runs_the_periodic_tasks_in_the_demo(serving, settings):
    settings.PAYMENTS_SANDBOX = True
    settings.CELERY_TASK_ALWAYS_EAGER = True

    (scheduler,) = serving()

    expected = {"expire-orders", "sync-open-payments", "send-due-outbox", "settle-earnings", "simulator-notifications"}
    assert expected <= set(scheduler.entries)


def test_with_a_broker_beat_runs_them_and_the_development_server_does_not(serving, settings):
    settings.PAYMENTS_SANDBOX = True
    settings.CELERY_TASK_ALWAYS_EAGER = False

    assert serving() == []


def test_outside_sandbox_mode_the_development_server_runs_no_periodic_tasks(serving, settings):
    settings.PAYMENTS_SANDBOX = False
    settings.CELERY_TASK_ALWAYS_EAGER = True

    assert serving() == []
