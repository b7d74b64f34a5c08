"""Readiness: can this process serve? Each check says ok or fail, how long it took, and why.

A failing *critical* check (database, migrations, cache) makes `/readyz` answer 503 so a load
balancer stops sending traffic here. The others (the broker, the breakers' Redis, the gateways'
circuits) are reported, and make the overall status "degraded", but keep the process in
rotation: without them the web still takes payments (tasks are swept later, breakers fall back
to in-process state, a learner picks another channel).

Apps add their own checks with `readiness_check_register` (payments adds the gateway circuits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

# Seconds a readiness probe waits on one dependency before calling it down.
PROBE_TIMEOUT_SECONDS = 2


class CheckFailed(Exception):
    """A dependency is not usable; the message says why (never a password or key)."""


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    run: Callable[[], str]  # returns a short detail, raises CheckFailed (or anything) when down
    critical: bool = True


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    critical: bool
    seconds: float
    detail: str

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.ok else "fail",
            "critical": self.critical,
            "time_ms": round(self.seconds * 1000, 2),
            "detail": self.detail,
        }


_extra_checks: list[Callable[[], list[ReadinessCheck]]] = []


def readiness_check_register(provider: Callable[[], list[ReadinessCheck]]) -> None:
    """Add checks from an app; `provider` is called at each probe (settings may have changed)."""
    if provider not in _extra_checks:
        _extra_checks.append(provider)


def database_check(alias: str = DEFAULT_DB_ALIAS) -> str:
    """A new connection answers a query: the server is up and accepts connections (not only ours)."""
    probe = connections.create_connection(alias)
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        probe.close()
    return probe.vendor


def migrations_check() -> str:
    """Every migration this code has is applied (a deploy that forgot `migrate` is not ready)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
        raise CheckFailed(f"{len(pending)} unapplied: {names}")
    return "all applied"


def cache_check() -> str:
    """The cache stores and returns a value."""
    cache = caches["default"]
    key = "knowpay:readyz"
    cache.set(key, "1", timeout=PROBE_TIMEOUT_SECONDS * 5)
    if cache.get(key) != "1":
        raise CheckFailed("a value written was not read back")
    return type(cache).__name__


def broker_check() -> str:
    """The Celery broker accepts a connection."""
    from knowpay.celery import app  # the Celery app imports Django settings; loaded when first probed

    with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=PROBE_TIMEOUT_SECONDS)
        return conn.transport.driver_name


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL.startswith("memory://")


def readiness_checks() -> list[ReadinessCheck]:
    checks = [
        ReadinessCheck("database", database_check),
        ReadinessCheck("migrations", migrations_check),
        ReadinessCheck("cache", cache_check),
    ]
    if broker_configured():
        checks.append(ReadinessCheck("broker", broker_check, critical=False))
    for provider in _extra_checks:
        checks.extend(provider())
    return checks


def _run(check: ReadinessCheck) -> CheckResult:
    started = time.perf_counter()
    try:
        detail, ok = check.run(), True
    except Exception as exc:  # any failure of a dependency is an answer, never a 500
        detail, ok = (str(exc) if isinstance(exc, CheckFailed) else type(exc).__name__)[:300], False
    return CheckResult(check.name, ok, check.critical, time.perf_counter() - started, detail)


def readiness_report() -> tuple[bool, dict]:
    """Run every check; returns (ready, the JSON document for /readyz)."""
    results = [_run(check) for check in readiness_checks()]
    ready = all(result.ok for result in results if result.critical)
    status = "fail" if not ready else ("ok" if all(result.ok for result in results) else "degraded")
    return ready, {"status": status, "checks": {result.name: result.as_dict() for result in results}}
