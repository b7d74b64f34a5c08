"""Shared set-up for benchmarks: Django on a throwaway database, timing and ratio reporting.

A benchmark never touches the development database: it creates a test database (PostgreSQL when
DATABASE_URL points at one, else a SQLite file), runs, and drops it.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knowpay.settings")


@contextlib.contextmanager
def django_with_test_database() -> Iterator[None]:
    import django
    from django.conf import settings
    from django.test.utils import setup_test_environment, teardown_test_environment

    django.setup()
    from django.db import connection

    from knowpay.celery import app as celery_app

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SIMULATOR_ASYNC_NOTIFY = False
    # As in production, the web process only publishes tasks (here to the in-memory broker);
    # running them inline would time the worker's e-mail inside the request.
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://localhost/"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def best_of(repeats: int, run: Callable[[], float]) -> float:
    """The median of `repeats` runs of `run` (which returns seconds); the median resists noise."""
    return statistics.median(run() for _ in range(repeats))


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def report(
    name: str,
    *,
    baseline: str,
    baseline_value: float,
    candidate: str,
    candidate_value: float,
    unit: str,
    target: str,
    met: bool,
) -> None:
    ratio = candidate_value / baseline_value if baseline_value else float("inf")
    print(f"[{name}]")
    print(f"  baseline  {baseline}: {baseline_value:,.3f} {unit}")
    print(f"  candidate {candidate}: {candidate_value:,.3f} {unit}")
    print(f"  ratio candidate/baseline: {ratio:.2f}x   target: {target}   {'MET' if met else 'NOT MET'}")
