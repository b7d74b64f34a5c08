"""A real Celery worker, over the Redis broker, against PostgreSQL: what production runs."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from knowpay.celery import app as celery_app
from payments.models import OutboxMessage
from payments.tasks import outbox_send_task
from tests.payments.outbox import outbox_message

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def worker(*options: str, **env: str) -> Iterator[str]:
    """A worker process on a queue of its own, reading the test database; yields the queue."""
    queue = f"knowpay-test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        **env,
    }
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "celery", "-A", "knowpay", "worker", "-Q", queue, "--loglevel=WARNING", *options],
        cwd=ROOT,
        env=env,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = True
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def worker_queue():
    with worker("--pool=solo") as queue:
        yield queue


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_sends_an_outbox_message_enqueued_through_redis(worker_queue):
    message = OutboxMessage.objects.create(
        topic="order_paid",
        dedupe_key=f"order_paid:{worker_queue}",
        payload={
            "to": "learner@example.com",
            "subject": "Welcome",
            "context": {"order_no": "KP1", "course": "Course", "amount_fen": 1290},
        },
        next_attempt_at=timezone.now(),
    )

    outbox_send_task.apply_async(args=[message.pk], queue=worker_queue)

    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).sent_at is not None)
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1


def test_a_task_whose_worker_child_is_killed_midway_is_redelivered_and_done_once(tmp_path):
    message = outbox_message("killed-midway")
    stalled = tmp_path / "stalled_pid"
    options = ("--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat")
    mail = {"EMAIL_BACKEND": "tests.stalling_mail.StallingEmailBackend", "KNOWPAY_TEST_MAIL_DIR": str(tmp_path)}

    with worker(*options, **mail) as queue:
        outbox_send_task.apply_async(args=[message.pk], queue=queue)
        assert wait_for(stalled.exists, timeout=30), "the worker never started the task"
        time.sleep(0.2)  # the pid is written; the child is now sleeping inside the send
        os.kill(int(stalled.read_text()), signal.SIGKILL)

        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).sent_at is not None, timeout=20)

    assert (tmp_path / "sent").read_text().splitlines() == [message.payload["subject"]]
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1
