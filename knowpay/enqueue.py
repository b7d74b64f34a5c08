"""Handing work to the Celery workers after a commit, without ever failing what was committed."""

from __future__ import annotations

import logging

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_after_commit(task: Task, *args) -> None:
    """Run `task(*args)` on a worker once the current transaction commits; never if it rolls back.

    Sending is best effort: a broker that is down, or hung (bounded by the broker timeouts in
    settings), is logged and never raised into the request, the notification reply or the task that
    committed. Only work a periodic sweep finds by its state is handed over this way (an unsent
    outbox message, an open attempt of an order no longer pending, a refund processing, a payout
    sending), so a lost message makes the work late, never lost.
    """

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception(
                "%s was not handed to the workers after commit; a periodic sweep will do it",
                task.name,
                extra={"task": task.name, "task_args": list(args)},
            )

    # robust: even a failure of the logging above cannot undo the request's committed success.
    transaction.on_commit(send, robust=True)
