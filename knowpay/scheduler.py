"""The periodic task schedule (CELERY_BEAT_SCHEDULE) run by a thread of the development server.

`make run` has no broker, so there is no worker and no `celery beat`: without this, orders would
never expire, open payments never be queried, earnings never settle, the outbox and the
simulators' notifications never be retried. Each task runs in this process as a worker would run
it (`Task.apply`); each entry keeps Celery's own schedule semantics (an interval, or a crontab).
With a broker, `make beat` does this job instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from copy import copy

from celery.schedules import BaseSchedule, schedule
from django.apps import apps
from django.db import close_old_connections

from knowpay.celery import app as celery_app

logger = logging.getLogger(__name__)

# The longest the thread sleeps between two looks at the schedule.
MAX_SLEEP_SECONDS = 5.0


class InProcessScheduler:
    def __init__(self, entries: dict[str, dict], *, now: Callable[[], dt.datetime] | None = None) -> None:
        self._now = now or celery_app.now
        # What a worker's start-up does: import every installed app's tasks module.
        celery_app.loader.autodiscover_tasks([config.name for config in apps.get_app_configs()])
        self.entries: dict[str, BaseSchedule] = {}
        for name, entry in entries.items():
            when = entry["schedule"]
            if isinstance(when, BaseSchedule):
                when = copy(when)
                when.nowfun = self._now
            else:
                when = schedule(run_every=dt.timedelta(seconds=float(when)), nowfun=self._now, app=celery_app)
            self.entries[name] = when
        self._tasks = {name: entry["task"] for name, entry in entries.items()}
        # As celery beat does: every entry counts as run at start-up.
        started = self._now()
        self._last_run = dict.fromkeys(self.entries, started)
        self._stop = threading.Event()

    def run_due(self) -> list[str]:
        """Run every entry whose time has come, each on its own; returns their names."""
        ran = []
        for name, when in self.entries.items():
            if not when.is_due(self._last_run[name]).is_due:
                continue
            self._last_run[name] = self._now()
            ran.append(name)
            try:
                celery_app.tasks[self._tasks[name]].apply(throw=True)
            except Exception:
                # One broken task must not stop the others, nor the thread.
                logger.exception("periodic task %s failed", name, extra={"task": self._tasks[name]})
            finally:
                close_old_connections()
        return ran

    def seconds_to_next(self) -> float:
        waits = [when.is_due(self._last_run[name]).next for name, when in self.entries.items()]
        return max(0.5, min([MAX_SLEEP_SECONDS, *waits]))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="knowpay-periodic", daemon=True)
        thread.start()
        logger.info("periodic tasks run in this process: %s", ", ".join(self.entries))
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self.seconds_to_next())
