"""Messages to people (e-mail), written in the same transaction as the change they report.

`outbox_enqueue` inside the transaction, then an immediate attempt after commit; `outbox_send_due`
(periodic) sends whatever an attempt missed, so a crash between commit and enqueue loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from knowpay.enqueue import enqueue_after_commit
from payments.models import OutboxMessage

logger = logging.getLogger(__name__)

RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=3))


def outbox_enqueue(
    *, topic: str, key: str, to: str, subject: str, context: dict, template: str = "", secret: bool = False
) -> OutboxMessage | None:
    """Queue one e-mail per business event (`key`); a second call with the same key does nothing.

    The body is rendered from `template` (default: payments/email/<topic>.txt) when it is sent. A
    `secret` message (a password reset link) has its context dropped once sent.
    """
    payload = {"to": to, "subject": subject, "context": context}
    if template:
        payload["template"] = template
    if secret:
        payload["secret"] = True
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                dedupe_key=key,
                topic=topic,
                payload=payload,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None  # this event's message exists already
    from payments.tasks import outbox_send_task  # tasks import services; the reverse only here

    enqueue_after_commit(outbox_send_task, message.pk)
    return message


def outbox_send(*, message_id: int) -> bool:
    """Send one message if it is still unsent. Returns True if sent.

    Anything that stops this message (its template does not render, its payload is broken, the mail
    server refuses) is recorded on it (attempts, last error, next attempt with backoff), so the
    others go on; staff see it in admin while it keeps failing.
    """
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None or message.sent_at is not None:
            return False
        try:
            payload = message.payload
            template = payload.get("template") or f"payments/email/{message.topic}.txt"
            body = render_to_string(template, payload["context"], using="text")
            send_mail(payload["subject"], body, settings.DEFAULT_FROM_EMAIL, [payload["to"]])
        except Exception as exc:  # any failure of this message: keep it and try later
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            delay = RETRY_DELAYS[min(message.attempts - 1, len(RETRY_DELAYS) - 1)]
            message.next_attempt_at = timezone.now() + delay
            message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            logger.warning(
                "outbox message %s not sent",
                message.dedupe_key,
                extra={"error": message.last_error, "attempts": message.attempts},
            )
            return False
        message.attempts += 1
        message.sent_at = timezone.now()
        if payload.get("secret"):
            message.payload = {**payload, "context": {}}  # the link was for the recipient only
        message.save(update_fields=["attempts", "sent_at", "payload"])
        return True


def outbox_send_due(*, now: dt.datetime | None = None) -> int:
    """Send every message due, oldest first, each on its own. Returns how many were sent."""
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    return sum(outbox_send(message_id=pk) for pk in list(due[:500]))
