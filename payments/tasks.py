"""Celery tasks: thin adapters that load by id, call one service, and retry gateway hiccups later.

Every task is idempotent: acknowledged late, and requeued if its worker dies (settings), so it may
run twice. Every task retries transient database and broker errors with backoff and jitter; tasks
that call a gateway also retry when it did not answer (a refusal is an answer and is never
retried). No retry waits longer than TASK_MAX_COUNTDOWN_SECONDS, which the broker's visibility
timeout outlasts (payments.E010). Run eagerly (no broker) gateway tasks never retry inside the
request: the periodic sweeps pick the work up.
"""

from __future__ import annotations

import contextlib
import logging

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from payments.gateways.base import GatewayError, GatewayRejected
from payments.services import alerts, notifications, orders, outbox, payouts, reconciliation, refunds, settlement, sync
from payments.services.idempotency import idempotency_keys_expire
from payments.simulators import common as simulators

logger = logging.getLogger(__name__)


class PaymentsTask(Task):
    """Every task: retries what goes away by itself (a database restart or failover, a broker reconnect)."""

    autoretry_for = (DatabaseOperationalError, InterfaceError, BrokerOperationalError)
    retry_backoff = 5
    retry_backoff_max = settings.TASK_MAX_COUNTDOWN_SECONDS
    retry_jitter = True
    max_retries = 8


class GatewayTask(PaymentsTask):
    """A task whose gateway call is retried by Celery too: 30 s, 60 s, 120 s... at most
    TASK_MAX_COUNTDOWN_SECONDS apart, each delay drawn at random below that (so a recovering gateway
    is not hit by every retry at once)."""

    autoretry_for = (*PaymentsTask.autoretry_for, GatewayError)
    dont_autoretry_for = (GatewayRejected,)
    retry_backoff = 30


@contextlib.contextmanager
def _left_for_the_sweep_when_eager(task: Task):
    """In eager mode (no broker) a gateway failure ends the task: a retry would run again at once,
    inside the request. The periodic sweeps find the work by its state."""
    try:
        yield
    except GatewayRejected:
        raise
    except GatewayError as exc:
        if not task.request.is_eager:
            raise
        logger.warning("%s failed; left for the periodic sweep: %s", task.name, exc, extra={"task": task.name})


@shared_task(bind=True, base=GatewayTask)
def payment_close_task(self, payment_id: int) -> None:
    try:
        with _left_for_the_sweep_when_eager(self):
            sync.payment_close(payment_id=payment_id)
    except GatewayRejected as exc:
        # WeChat refuses to close an order in its first five minutes: try again once they have passed.
        # Even if that fails the trade cannot be paid after the expiry we gave the gateway.
        if not self.request.is_eager and self.request.retries < 2:
            raise self.retry(exc=exc, countdown=330) from exc
        logger.info("close refused by gateway", extra={"payment": payment_id}, exc_info=True)


@shared_task(bind=True, base=GatewayTask)
def refund_send_task(self, refund_id: int) -> None:
    with _left_for_the_sweep_when_eager(self):
        refunds.refund_send(refund_id=refund_id)


@shared_task(base=PaymentsTask, bind=True, max_retries=5)
def outbox_send_task(self, message_id: int) -> None:
    outbox.outbox_send(message_id=message_id)


@shared_task(base=PaymentsTask)
def outbox_send_due_task() -> int:
    return outbox.outbox_send_due()


@shared_task(base=PaymentsTask)
def orders_expire_task() -> int:
    return orders.orders_expire_due()


@shared_task(base=PaymentsTask)
def payments_sync_task() -> int:
    return sync.payments_sync_open()


@shared_task(base=PaymentsTask)
def refunds_sync_task() -> int:
    return refunds.refunds_sync_processing()


@shared_task(base=PaymentsTask)
def simulator_notifications_task() -> int:
    return simulators.notifications_deliver_due()


@shared_task(base=PaymentsTask)
def earnings_settle_due_task() -> int:
    return settlement.earnings_settle_due()


@shared_task(bind=True, base=GatewayTask)
def payout_send_task(self, payout_id: int) -> None:
    try:
        with _left_for_the_sweep_when_eager(self):
            payouts.payout_send(payout_id=payout_id)
    except payouts.PayoutError:
        # Its channel cannot transfer any more: it stays sending until configured; the sweep retries.
        logger.error("payout cannot be transferred", extra={"payout": payout_id}, exc_info=True)


@shared_task(base=PaymentsTask)
def payouts_send_stuck_task() -> int:
    return payouts.payouts_send_stuck()


@shared_task(base=PaymentsTask)
def notifications_finish_stuck_task() -> int:
    return notifications.notifications_finish_stuck()


@shared_task(base=PaymentsTask)
def reconcile_yesterday_task() -> int:
    """Compare every channel's bill for yesterday with our records; returns how many runs balanced."""
    runs = reconciliation.reconciliation_run_all()
    return sum(run.status == "balanced" for run in runs)


@shared_task(base=PaymentsTask)
def idempotency_keys_expire_task() -> int:
    return idempotency_keys_expire()


@shared_task(base=PaymentsTask)
def alerts_check_task() -> int:
    """Raise or resolve the alerts found by looking (stuck payouts and refunds, outbox, notifications)."""
    return len(alerts.alerts_check())


@shared_task(base=PaymentsTask)
def payouts_create_due_task() -> int:
    """Create the automatic payouts due now; idempotent per creator and period."""
    return payouts.payouts_create_due()
