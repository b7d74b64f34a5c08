"""Incoming gateway notifications: stored raw first, then verified and applied, outcome recorded.

Nothing is lost: the row is committed before verification starts, so even a crash while
processing leaves the message for inspection, and the gateway resends it anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import traceback
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from knowpay.metrics import NOTIFICATIONS
from payments.gateways import gateway_get
from payments.gateways.base import GatewayError, IncomingNotification, NotificationRejected, PaymentEvent
from payments.models import GatewayNotification
from payments.services.alerts import notification_failed_alert
from payments.services.events import ApplyOutcome, EventMismatch, payment_event_apply
from payments.services.refunds import refund_event_apply
from payments.services.sweeps import sweep_backing_off, sweep_each

logger = logging.getLogger(__name__)

_OUTCOMES = {
    ApplyOutcome.ALREADY_APPLIED: GatewayNotification.Outcome.DUPLICATE,
    ApplyOutcome.NO_CHANGE: GatewayNotification.Outcome.IGNORED,
    ApplyOutcome.ANOMALY: GatewayNotification.Outcome.ANOMALY,
}
# Headers worth keeping; cookies and the like are not ours to store.
_KEPT_HEADERS = ("CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_USER_AGENT", "HTTP_X_FORWARDED_FOR", "HTTP_WECHATPAY_SERIAL")


@dataclass(frozen=True)
class NotificationResult:
    acknowledge: bool
    notification: GatewayNotification


def notification_store(
    *,
    channel: str,
    kind: str,
    body: bytes,
    truncated: bool,
    meta: dict,
    remote_addr: str | None,
    keep_headers: tuple[str, ...] = (),
) -> GatewayNotification:
    """Persist a notification exactly as received (in its own autocommitted statement), with the
    headers every notification keeps and those its gateway verifies it with (`keep_headers`).

    What the gateway signed (the body, and the headers it signs with: Stripe's and PayPal's
    signatures) already stored for this channel and kind is not stored again: its row counts one
    more receipt. A resend signed afresh is a new message and gets its own row, since only its own
    signature verifies now. Race-safe: the counter is incremented in SQL, and the unique digest
    decides which of two concurrent first receipts inserts the row.
    """
    headers = {key: str(meta[key]) for key in (*_KEPT_HEADERS, *keep_headers) if key in meta}
    signed = hashlib.sha256(body)
    for key in keep_headers:
        signed.update(f"\n{key}: {headers.get(key, '')}".encode())
    digest = signed.hexdigest()
    stored = GatewayNotification.objects.filter(channel=channel, kind=kind, body_sha256=digest)
    # A resend is the common repeat (gateways retry until acknowledged): try counting it first.
    if stored.update(times_received=F("times_received") + 1, last_received_at=timezone.now()):
        return stored.get()
    try:
        with transaction.atomic():
            return GatewayNotification.objects.create(
                channel=channel,
                kind=kind,
                body=body,
                body_truncated=truncated,
                body_sha256=digest,
                headers=headers,
                remote_addr=remote_addr,
            )
    except IntegrityError:
        # Another request stored the same message between our update and our insert.
        stored.update(times_received=F("times_received") + 1, last_received_at=timezone.now())
        return stored.get()


def notification_process(*, notification: GatewayNotification) -> NotificationResult:
    """Verify a stored notification, apply it, and record the outcome on the row.

    Acknowledge (tell the gateway to stop resending) only when it was applied now or before, or
    recorded for staff: a success under another gateway trade number for a paid attempt is kept as
    a PaymentAnomaly with this row in the same transaction as the outcome, and then acknowledged,
    because resending cannot change what staff must now look into. A body received again is
    processed again (applying is idempotent): a resend after a failure is applied then, and a
    resend of one already applied is acknowledged again.
    """
    if notification.body_truncated:
        return _record(notification, GatewayNotification.Outcome.REJECTED, "body too large", ack=False)
    gateway = gateway_get(notification.channel)
    incoming = IncomingNotification(
        kind=notification.kind,
        body=bytes(notification.body),
        content_type=notification.headers.get("CONTENT_TYPE", ""),
        headers=notification.headers,
    )
    try:
        event = gateway.parse_notification(incoming)
    except NotificationRejected as exc:
        logger.warning(
            "notification rejected", extra={"notification": notification.pk, "channel": notification.channel}
        )
        return _record(notification, GatewayNotification.Outcome.REJECTED, f"{exc.code}: {exc}", ack=False)
    except GatewayError as exc:
        # Our module failed to read it (see payments.gateways.boundary): not the sender's fault, so
        # not rejected; the gateway sends it again, and staff can process it again once fixed.
        return _record(notification, GatewayNotification.Outcome.FAILED, f"{exc.code}: {exc}", ack=False)

    fields = {"event_type": event.raw_status[:30], "out_trade_no": event.out_trade_no[:64]}
    try:
        # The outcome commits with the state change it describes (and one commit fewer per notification).
        with transaction.atomic():
            if isinstance(event, PaymentEvent):
                result = payment_event_apply(channel=notification.channel, event=event, notification=notification)
                fields["payment"] = result.payment
            else:
                result = refund_event_apply(channel=notification.channel, event=event)
                fields["refund"] = result.refund
            outcome = _OUTCOMES.get(result.outcome, GatewayNotification.Outcome.PROCESSED)
            return _record(notification, outcome, result.outcome.value, ack=True, **fields)
    except EventMismatch as exc:
        logger.warning("verified notification does not match our records", extra={"notification": notification.pk})
        return _record(notification, GatewayNotification.Outcome.REJECTED, f"{exc.code}: {exc}", ack=False, **fields)
    except Exception:
        # The gateway will resend; the stored row keeps what went wrong for the operator.
        logger.exception("notification processing failed", extra={"notification": notification.pk})
        detail = traceback.format_exc(limit=5)
        return _record(notification, GatewayNotification.Outcome.FAILED, detail, ack=False, **fields)


def _record(notification: GatewayNotification, outcome: str, detail: str, *, ack: bool, **fields) -> NotificationResult:
    notification.outcome = outcome
    notification.detail = detail
    notification.processed_at = timezone.now()
    for name, value in fields.items():
        setattr(notification, name, value)
    # "Processed" is final: a later receipt of the same body (found already applied) keeps it on record.
    rows = GatewayNotification.objects.filter(pk=notification.pk).exclude(outcome=GatewayNotification.Outcome.PROCESSED)
    rows.update(outcome=outcome, detail=detail, processed_at=notification.processed_at, **fields)
    NOTIFICATIONS.labels(channel=notification.channel, kind=notification.kind, outcome=outcome).inc()
    if outcome == GatewayNotification.Outcome.FAILED:
        notification_failed_alert(notification=notification)
    return NotificationResult(acknowledge=ack, notification=notification)


def notification_finish_stuck(*, notification_id: int) -> bool:
    """Process a notification still `received` through the normal path; True if it was done now.

    Its row stays locked while it is processed, so two sweeps never finish the same row twice.
    """
    with transaction.atomic():
        notification = (
            GatewayNotification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, outcome=GatewayNotification.Outcome.RECEIVED)
            .first()
        )
        if notification is None:
            return False
        notification_process(notification=notification)
    return True


def notifications_finish_stuck(
    *, now: dt.datetime | None = None, older_than: dt.timedelta = dt.timedelta(minutes=10)
) -> int:
    """Finish notifications stored and never processed (the process handling one died), oldest first.

    `older_than` leaves a notification to the request that stored it (which takes seconds). Whatever
    the gateway meant is applied as if the request had finished: nothing is applied twice.
    Returns how many were finished.
    """
    now = now or timezone.now()
    stuck = (
        GatewayNotification.objects.filter(
            outcome=GatewayNotification.Outcome.RECEIVED, received_at__lte=now - older_than
        )
        .exclude(pk__in=sweep_backing_off(sweep="notifications_finish", now=now))
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    finished = sweep_each(
        sweep="notifications_finish",
        model=GatewayNotification,
        ids=list(stuck[:500]),
        work=lambda pk: notification_finish_stuck(notification_id=pk),
        now=now,
    )
    return sum(finished)
