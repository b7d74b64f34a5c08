"""A task enqueued by a request logs, in a real worker, the request id of that request."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from knowpay.celery import app as celery_app
from tests.factories import OrderFactory, PaymentFactory
from tests.operating import closed_port

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_log(tmp_path):
    """A worker on the default queue, logging JSON to a file; yields a function reading its records."""
    db = connection.settings_dict
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        # The close the task asks for finds no gateway: it is retried later, after the test.
        "SANDBOX_SERVER_URL": f"http://127.0.0.1:{closed_port()}/",
    }
    with log.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "knowpay",
                "worker",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--pool=solo",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    celery_app.conf.task_always_eager = False

    def records() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    try:
        yield records
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=30)


def test_a_task_started_by_a_request_logs_that_requests_id(client, learner, course, worker_log):
    order = OrderFactory(learner=learner, course=course)
    attempt = PaymentFactory(order=order)
    client.force_login(learner)
    request_id = f"cancel-req-{uuid.uuid4().hex}"  # unlike any retry left by an earlier run

    response = client.post(
        reverse("payments:order_cancel", kwargs={"order_no": order.order_no}), HTTP_X_REQUEST_ID=request_id
    )
    assert response.status_code == 302

    def ours() -> list[dict]:
        return [r for r in worker_log() if r.get("message") == "task finished"]

    deadline = time.monotonic() + 60
    finished: list[dict] = []
    while time.monotonic() < deadline and not finished:
        finished = [r for r in ours() if r.get("request_id") == request_id]
        time.sleep(0.3)
    assert finished, ours()
    assert finished[0]["task"] == "payments.tasks.payment_close_task"
    # Celery's autoretry: the gateway did not answer (a jittered retry may already have run too).
    assert finished[0]["outcome"] == "retry"
    assert attempt.pk
