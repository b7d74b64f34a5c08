"""Handing work to the Celery workers after a commit, without ever failing what was committed."""

from __future__ import annotations

import logging
import threading
import time

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# After the broker failed to take a message, this process does not wait for it again for this long:
# every send would wait for the same timeouts (a request enqueuing ten tasks would wait ten times).
BROKER_PAUSE_SECONDS = 30.0
_paused_until = 0.0
_pause_lock = threading.Lock()


def enqueue_after_commit(task: Task, *args) -> None:
    """Run `task(*args)` on a worker once the current transaction commits; never if it rolls back.

    Sending is best effort: a broker that is down or hung (bounded by the broker timeouts in
    settings, and not tried again for BROKER_PAUSE_SECONDS after it failed) is logged, never raised
    into the request, the notification reply or the task that committed. Only work a periodic sweep
    finds by its state is handed over this way (an unsent outbox message, an open attempt of an order
    no longer pending, a refund processing, a payout sending), so a lost message makes it late, not lost.
    """
    # robust: even a failure of the logging in _send cannot undo the request's committed success.
    transaction.on_commit(lambda: _send(task, args), robust=True)


def _send(task: Task, args: tuple) -> None:
    global _paused_until
    facts = {"task": task.name, "task_args": list(args)}
    if time.monotonic() < _paused_until and not task.app.conf.task_always_eager:
        logger.warning(
            "%s not sent: the broker failed a moment ago; a periodic sweep will do it", task.name, extra=facts
        )
        return
    try:
        task.delay(*args)
    except BrokerError:
        with _pause_lock:
            _paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.exception("%s not sent: the broker failed; a periodic sweep will do it", task.name, extra=facts)
    except Exception:
        # Eager mode (no broker): the task itself failed; what it left undone is found by state too.
        logger.exception("%s failed after commit; a periodic sweep will finish it", task.name, extra=facts)
