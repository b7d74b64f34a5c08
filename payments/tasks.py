"""Celery tasks: thin adapters that load by id, call one service, and retry gateway hiccups later.

Every task is idempotent: acknowledged late, and requeued if its worker dies (settings), so it may
run twice. Transient database and broker errors are retried with backoff and jitter; gateway errors
by `_retry_later`. No countdown exceeds TASK_MAX_COUNTDOWN_SECONDS, which the broker's visibility
timeout outlasts (payments.E010).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from payments.gateways.base import GatewayError, GatewayRejected
from payments.services import notifications, orders, outbox, payouts, reconciliation, refunds, settlement, sync
from payments.simulators import common as simulators

logger = logging.getLogger(__name__)


class PaymentsTask(Task):
    """Retries what goes away by itself: a database restart or failover, a broker reconnect."""

    autoretry_for = (DatabaseOperationalError, InterfaceError, BrokerOperationalError)
    retry_backoff = 5
    retry_backoff_max = settings.TASK_MAX_COUNTDOWN_SECONDS
    retry_jitter = True
    max_retries = 8


def retry_countdown(retries: int) -> int:
    """Seconds before retry number `retries` + 1 of a gateway call: 30 s doubling, capped."""
    return min(30 * 2**retries, settings.TASK_MAX_COUNTDOWN_SECONDS)


def _retry_later(task, exc: Exception) -> None:
    if task.request.is_eager:
        # No broker to schedule a retry with: the periodic sweeps pick this up.
        logger.warning("%s failed; left for the periodic sweep: %s", task.name, exc)
        return
    raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries))


@shared_task(base=PaymentsTask, bind=True)
def payment_close_task(self, payment_id: int) -> None:
    try:
        sync.payment_close(payment_id=payment_id)
    except GatewayRejected as exc:
        # WeChat refuses to close an order in its first five minutes: try again once they have passed.
        # Even if that fails the trade cannot be paid after the expiry we gave the gateway.
        if not self.request.is_eager and self.request.retries < 2:
            raise self.retry(exc=exc, countdown=330) from exc
        logger.info("close refused by gateway", extra={"payment": payment_id}, exc_info=True)
    except GatewayError as exc:
        _retry_later(self, exc)


@shared_task(base=PaymentsTask, bind=True)
def refund_send_task(self, refund_id: int) -> None:
    try:
        refunds.refund_send(refund_id=refund_id)
    except GatewayError as exc:
        _retry_later(self, exc)


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


@shared_task(base=PaymentsTask, bind=True)
def payout_send_task(self, payout_id: int) -> None:
    try:
        payouts.payout_send(payout_id=payout_id)
    except payouts.PayoutError:
        # Its channel cannot transfer any more: it stays sending until configured; the sweep retries.
        logger.error("payout cannot be transferred", extra={"payout": payout_id}, exc_info=True)
    except GatewayError as exc:
        _retry_later(self, exc)


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
