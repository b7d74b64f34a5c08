"""The Celery application; configured from Django settings prefixed with CELERY_."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init
from django.core.exceptions import ImproperlyConfigured

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
