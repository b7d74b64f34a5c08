"""The Celery application; configured from Django settings prefixed with CELERY_.

Workers log through Django's LOGGING (JSON lines with the request id of the request that started
the task, see knowpay.request_id) and count every task run in the Prometheus metrics.
"""

import logging
import os
import time

from celery import Celery
from celery.signals import beat_init, setup_logging, task_postrun, task_prerun, worker_init
from django.core.exceptions import ImproperlyConfigured

from knowpay import request_id  # noqa: F401  (connects the signals that carry the request id into tasks)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knowpay.settings")

app = Celery("knowpay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _refuse_unsafe_configuration(process: str) -> None:
    # Celery logs and swallows exceptions raised by signal handlers; SystemExit is what stops it.
    from payments.safety import startup_refuse_if_unsafe  # settings are read only once the process starts

    try:
        startup_refuse_if_unsafe(process)
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc


@worker_init.connect
def _worker_refuses_unsafe_configuration(**kwargs) -> None:
    _refuse_unsafe_configuration("Celery worker")


@beat_init.connect
def _beat_refuses_unsafe_configuration(**kwargs) -> None:
    _refuse_unsafe_configuration("Celery beat")


logger = logging.getLogger("knowpay.tasks")


@setup_logging.connect(dispatch_uid="knowpay.celery.logging")
def _keep_django_logging(**kwargs) -> None:
    # A receiver here stops Celery from replacing the root logger's handlers with its own plain
    # format: Django has configured LOGGING already, and workers log like the web does.
    return None


_started: dict[str, float] = {}


@task_prerun.connect(dispatch_uid="knowpay.celery.prerun")
def _task_started(task_id=None, **kwargs) -> None:
    _started[task_id] = time.perf_counter()


@task_postrun.connect(dispatch_uid="knowpay.celery.postrun")
def _task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    from knowpay.metrics import TASK_DURATION, TASKS  # prometheus_client reads its multi-process setting on import

    seconds = time.perf_counter() - _started.pop(task_id, time.perf_counter())
    outcome = (state or "unknown").lower()
    TASKS.labels(task=task.name, outcome=outcome).inc()
    TASK_DURATION.labels(task=task.name).observe(seconds)
    # Eager tasks (development, no broker) run inside the request, whose own lines tell the story.
    logger.log(
        logging.DEBUG if task.request.is_eager else logging.INFO,
        "task finished",
        extra={"task": task.name, "task_id": task_id, "outcome": outcome, "duration_ms": round(seconds * 1000)},
    )
