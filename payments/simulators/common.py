"""What every local gateway simulator shares: sandbox gating and asynchronous notification delivery.

A simulator plays the gateway: it keeps its own records (payments.models.simulator) and talks to
our payment code only over HTTP, in the gateway's dialect. Each dialect module
(payments/simulators/<channel>.py) defines:

- RETRY_SCHEDULE: the delays between delivery attempts, as the real gateway documents them;
- is_acknowledged(status_code, body) -> bool: whether our reply means "received";
- optionally delivery_headers(body) -> dict: headers signed afresh for each attempt (PayPal's
  transmission signature, Stripe-Signature with its timestamp).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import threading
from collections.abc import Callable
from importlib import import_module

import requests
from django.conf import settings
from django.db import close_old_connections, transaction
from django.http import Http404
from django.utils import timezone

from payments.models import SimulatedIdempotentRequest, SimulatedNotification

logger = logging.getLogger(__name__)


def sandbox_only(view):
    """404 unless sandbox mode is on, even if the URL happens to be routed."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.PAYMENTS_SANDBOX:
            raise Http404("The gateway simulators exist only in sandbox mode.")
        return view(request, *args, **kwargs)

    return wrapper


def simulator_base_url(channel: str) -> str:
    """Where the local simulator of `channel` is served, under this site."""
    return f"{settings.SITE_URL}/sandbox/{channel}/"


def random_digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _dialect(gateway: str):
    return import_module(f"payments.simulators.{gateway}")


def notification_send(*, gateway: str, url: str, body: str, content_type: str) -> SimulatedNotification:
    """Queue a notification and make the first attempt once the simulator's own change commits."""
    notification = SimulatedNotification.objects.create(
        gateway=gateway, url=url, body=body, content_type=content_type, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: _dispatch(notification.pk))
    return notification


def _dispatch(notification_id: int) -> None:
    if settings.SIMULATOR_ASYNC_NOTIFY:
        # A real gateway notifies from its own servers, independently of the buyer's browser.
        threading.Thread(target=_attempt_in_thread, args=(notification_id,), daemon=True).start()
    else:
        notification_attempt(notification_id=notification_id)


def _attempt_in_thread(notification_id: int) -> None:
    try:
        notification_attempt(notification_id=notification_id)
    finally:
        close_old_connections()


def deliver_over_http(
    url: str, body: str, content_type: str, headers: dict[str, str] | None = None
) -> tuple[int | None, str]:
    """POST one notification as the gateway's servers would: (status, reply), status None if unreachable."""
    try:
        response = requests.post(
            url, data=body.encode("utf-8"), headers={"Content-Type": content_type, **(headers or {})}, timeout=10
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, response.text


def notification_attempt(*, notification_id: int, now: dt.datetime | None = None) -> bool:
    """Deliver one notification once; on failure schedule the next attempt. Returns True if acknowledged."""
    now = now or timezone.now()
    notification = SimulatedNotification.objects.get(pk=notification_id)
    if notification.delivered_at is not None:
        return True
    dialect = _dialect(notification.gateway)
    sign = getattr(dialect, "delivery_headers", None)
    headers = sign(notification.body) if sign else {}
    status, reply = deliver_over_http(notification.url, notification.body, notification.content_type, headers)
    acknowledged = status is not None and dialect.is_acknowledged(status, reply)
    notification.attempts += 1
    notification.last_status = status
    notification.last_response = reply[:500]
    if acknowledged:
        notification.delivered_at = now
        notification.next_attempt_at = None
    else:
        schedule = dialect.RETRY_SCHEDULE
        retry = notification.attempts - 1
        # After the last scheduled retry the gateway gives up; the merchant must query.
        notification.next_attempt_at = now + schedule[retry] if retry < len(schedule) else None
        logger.info(
            "simulated %s notification not acknowledged",
            notification.gateway,
            extra={"notification": notification.pk, "status": status, "attempts": notification.attempts},
        )
    notification.save(update_fields=["attempts", "last_status", "last_response", "delivered_at", "next_attempt_at"])
    return acknowledged


def notifications_deliver_due(*, now: dt.datetime | None = None) -> int:
    """Retry every notification whose next attempt is due. Returns how many were acknowledged now."""
    now = now or timezone.now()
    due = SimulatedNotification.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
    return sum(notification_attempt(notification_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def idempotent(
    *, gateway: str, key: str, fingerprint: str, answer: Callable[[], tuple[int, str]]
) -> tuple[int, str] | None:
    """Answer a create request once per idempotency key, as Stripe and PayPal do.

    Returns the stored (status, body) for a repeated key, the fresh answer for a new one, or None
    when the key was used for a different request (the caller answers with its gateway's error).
    Call inside a transaction.
    """
    if not key:
        return answer()
    stored = SimulatedIdempotentRequest.objects.select_for_update().filter(gateway=gateway, key=key).first()
    if stored is not None:
        return (stored.status, stored.body) if stored.fingerprint == fingerprint else None
    status, body = answer()
    SimulatedIdempotentRequest.objects.create(
        gateway=gateway, key=key, fingerprint=fingerprint, status=status, body=body
    )
    return status, body
