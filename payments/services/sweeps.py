"""Periodic sweeps process each row on its own: one that fails is recorded and retried later with
backoff while the sweep goes on with the rest, so a poison row never stalls the others.

A failure is recorded as a SweepFailure (attempts, last error, next attempt), logged, raised as the
sweep's `sweep_failing` alert (one incident per sweep, resolved once none of its rows fails) and
shown to staff in admin; the row is left alone until its next attempt is due; a success deletes
the record.
Expected transient trouble (a gateway that cannot be reached) is handled by each sweep itself and
is not a failure of the row.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.utils import timezone

from payments.models import Alert, SweepFailure
from payments.services.alerts import alert_raise, alert_resolve

logger = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=6)


def sweep_backing_off(*, sweep: str, now: dt.datetime | None = None) -> QuerySet:
    """Ids of rows of `sweep` waiting for their next attempt: for `.exclude(pk__in=...)` before a limit."""
    now = now or timezone.now()
    return SweepFailure.objects.filter(sweep=sweep, next_attempt_at__gt=now).values("object_id")


def sweep_each(
    *, sweep: str, model: type[Model], ids: Iterable[int], work: Callable[[int], T], now: dt.datetime | None = None
) -> list[T]:
    """Run `work(id)` for each id in the given order (oldest first), each on its own.

    Returns the results of the rows that succeeded; rows still backing off are skipped.
    """
    now = now or timezone.now()
    failing = dict(SweepFailure.objects.filter(sweep=sweep).values_list("object_id", "next_attempt_at"))
    results = []
    for object_id in ids:
        if object_id in failing and failing[object_id] > now:
            continue
        try:
            result = work(object_id)
        except Exception as exc:
            _failure_record(sweep=sweep, model=model, object_id=object_id, exc=exc)
            continue
        if object_id in failing:
            SweepFailure.objects.filter(sweep=sweep, object_id=object_id).delete()
            logger.info("%s: row recovered", sweep, extra={"sweep": sweep, "object_id": object_id})
            if not SweepFailure.objects.filter(sweep=sweep).exists():
                alert_resolve(incident_key=f"sweep_failing:{sweep}", note="Every row of the sweep succeeds again.")
        results.append(result)
    return results


def sweep_retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failure: a minute, doubling, at most six hours."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)


def _failure_record(*, sweep: str, model: type[Model], object_id: int, exc: Exception) -> None:
    now = timezone.now()
    error = "".join(traceback.format_exception(exc, limit=8))[-4000:]
    failure, created = SweepFailure.objects.get_or_create(
        sweep=sweep,
        object_id=object_id,
        defaults={
            "model_label": model._meta.label_lower,
            "first_failed_at": now,
            "last_failed_at": now,
            "next_attempt_at": now + sweep_retry_delay(1),
            "last_error": error,
        },
    )
    if not created:
        failure.attempts += 1
        failure.last_failed_at = now
        failure.next_attempt_at = now + sweep_retry_delay(failure.attempts)
        failure.last_error = error
        failure.save(update_fields=["attempts", "last_failed_at", "next_attempt_at", "last_error"])
    logger.error(
        "%s: row failed; the sweep goes on and retries it later",
        sweep,
        exc_info=exc,
        extra={
            "alert": Alert.Kind.SWEEP_FAILING,
            "sweep": sweep,
            "object_id": object_id,
            "attempts": failure.attempts,
            "next_attempt_at": failure.next_attempt_at.isoformat(),
        },
    )
    alert_raise(
        kind=Alert.Kind.SWEEP_FAILING,
        incident_key=f"sweep_failing:{sweep}",
        subject=f"The {sweep} sweep fails on some rows",
        body=(
            f"{failure.model_label} #{object_id} failed {failure.attempts} time(s), last with "
            f"{type(exc).__name__}: {exc}"[:500]
            + ". The other rows go on; this one is retried with backoff. Admin: Sweep failures."
        ),
    )
