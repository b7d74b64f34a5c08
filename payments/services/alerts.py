"""Alerts to staff: once per incident, not once per check.

`alert_raise` is the one way to alert. An incident is named by its key ("reconciliation:alipay:
2026-11-20", "payout_stuck"); the first raise opens an Alert row and tells staff (an e-mail through
the outbox to each of settings.ADMINS, and a note in the inbox, e-mailed as they choose, of each
active staff member who is a superuser or in one of settings.ALERT_STAFF_GROUPS); every later raise
of the open incident only counts an occurrence. The database allows one open row per key, so two
workers raising at once open it once. `alert_resolve` closes it when the condition clears (the
checks below do) or staff resolve it in admin; the same condition found again is a new incident.

A kind listed in settings.ALERTS_SILENCED, or silenced by staff in admin until some moment
(AlertSilence), is still recorded, and nobody is told.

`alerts_check` (periodic) raises and resolves what is found by looking: payouts and refunds stuck
past their thresholds, an old outbox backlog, and gateway notifications that failed recently.
Reconciliation and notification processing raise their own as they happen.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import parseaddr

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Min, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from payments.models import Alert, AlertSilence, GatewayNotification, OutboxMessage, Payout, Refund
from payments.services.inbox import inbox_notify
from payments.services.outbox import outbox_enqueue

logger = logging.getLogger(__name__)
Kind = Alert.Kind
LISTED = 20  # references named in an alert's text; the rest are counted


def alert_raise(*, kind: str, incident_key: str, subject: str, body: str = "") -> Alert | None:
    """Raise an incident: open it and tell staff the first time, count an occurrence after that.

    Keyword-only and safe to call from anywhere, inside a transaction or not (it uses a savepoint):
    an alert that cannot be recorded is logged and never raised into the caller. `kind` is one of
    Alert.Kind; `incident_key` names the incident (at most 120 characters).

    Returns the open Alert, or None if it could not be recorded.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            alert, opened = _alert_open_or_count(
                kind=kind, incident_key=incident_key[:120], subject=subject[:200], body=body, now=now
            )
            if opened and not alert_kind_silenced(kind=kind, now=now):
                _alert_tell_staff(alert)
                Alert.objects.filter(pk=alert.pk).update(notified=True)
                alert.notified = True
    except DatabaseError:
        # Never `extra={"alert": ...}` here: ERROR records carrying that key are what raise alerts.
        logger.exception("alert could not be recorded", extra={"alert_kind": kind, "incident_key": incident_key})
        return None
    if opened:
        logger.warning(
            "alert raised: %s",
            subject,
            extra={"alert_kind": kind, "incident_key": incident_key, "alert_id": alert.pk, "notified": alert.notified},
        )
    return alert


def _alert_open_or_count(*, kind: str, incident_key: str, subject: str, body: str, now: dt.datetime):
    open_alerts = Alert.objects.select_for_update().filter(incident_key=incident_key, status=Alert.Status.OPEN)
    alert = open_alerts.first()
    if alert is None:
        try:
            with transaction.atomic():
                opened = Alert.objects.create(
                    kind=kind,
                    incident_key=incident_key,
                    subject=subject,
                    body=body,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            return opened, True
        except IntegrityError:
            # Another worker opened it between our look and our insert; it has committed by now.
            alert = open_alerts.get()
    Alert.objects.filter(pk=alert.pk).update(occurrences=F("occurrences") + 1, last_seen_at=now, body=body)
    alert.refresh_from_db()
    return alert, False


def alert_kind_silenced(*, kind: str, now: dt.datetime | None = None) -> bool:
    if kind in settings.ALERTS_SILENCED:
        return True
    return AlertSilence.objects.filter(kind=kind, until__gt=now or timezone.now()).exists()


def alert_recipients() -> list[User]:
    """Active staff who are superusers or members of settings.ALERT_STAFF_GROUPS."""
    return list(
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=settings.ALERT_STAFF_GROUPS))
        .distinct()
        .order_by("pk")
    )


def _admin_addresses() -> list[str]:
    """settings.ADMINS as addresses; Django's (name, address) pairs or plain addresses, empty if unset."""
    addresses = []
    for admin in getattr(settings, "ADMINS", None) or []:
        address = admin[1] if isinstance(admin, list | tuple) and len(admin) == 2 else parseaddr(str(admin))[1]
        if address and address not in addresses:
            addresses.append(address)
    return addresses


def _alert_tell_staff(alert: Alert) -> None:
    url = reverse("admin:payments_alert_change", args=[alert.pk])
    subject = f"[KnowPay alert] {alert.subject}"
    recipients = alert_recipients()
    for user in recipients:
        inbox_notify(
            user=user,
            kind="alert",
            key=f"alert:{alert.pk}:to:{user.pk}",
            title=subject,
            body=alert.body,
            url=url,
            email_topic="alert",
            email_context={"subject": alert.subject, "body": alert.body, "link": f"{settings.SITE_URL}{url}"},
        )
    told = {user.email.lower() for user in recipients if user.email}
    admins = [address for address in _admin_addresses() if address.lower() not in told]
    for address in admins:
        outbox_enqueue(
            topic="alert",
            key=f"alert:{alert.pk}:to:{address}"[:120],
            to=address,
            subject=subject,
            context={"subject": alert.subject, "body": alert.body, "link": f"{settings.SITE_URL}{url}"},
        )
    if not recipients and not admins:
        logger.warning(
            "alert has nobody to tell: set ADMINS or add staff to %s",
            ", ".join(settings.ALERT_STAFF_GROUPS) or "a group",
            extra={"alert_id": alert.pk, "incident_key": alert.incident_key},
        )


def alert_resolve(*, incident_key: str, staff: User | None = None, note: str = "") -> Alert | None:
    """Close the open incident of this key, if there is one: its condition cleared, or staff say so."""
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update().filter(incident_key=incident_key[:120], status=Alert.Status.OPEN).first()
        )
        if alert is None:
            return None
        alert.status = Alert.Status.RESOLVED
        alert.resolved_at = timezone.now()
        alert.resolved_by = staff
        alert.resolution = (note or ("Resolved by staff." if staff else "The condition cleared."))[:300]
        alert.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    return alert


def alert_silence(*, kind: str, until: dt.datetime, reason: str, staff: User) -> AlertSilence:
    """Staff silence a kind of alert until `until`: incidents are recorded, nobody is told."""
    if kind not in Kind.values:
        raise ValueError(f"unknown alert kind {kind!r}")
    return AlertSilence.objects.create(kind=kind, until=until, reason=reason[:300], created_by=staff)


def alert_silence_end(*, silences) -> int:
    """End silences before their time: from now on their kinds are told again."""
    return silences.filter(until__gt=timezone.now()).update(until=timezone.now())


# --- Checks by looking ---------------------------------------------------------------------------


def alerts_check(*, now: dt.datetime | None = None) -> list[str]:
    """Raise or resolve what the periodic look finds; returns the incident keys open after it."""
    now = now or timezone.now()
    found = []
    for check in (_check_stuck_payouts, _check_stuck_refunds, _check_outbox_backlog, _check_failed_notifications):
        try:
            found += check(now)
        except DatabaseError:
            logger.exception("alert check failed", extra={"check": check.__name__})
    return found


def _minutes(value: int) -> dt.timedelta:
    return dt.timedelta(minutes=value)


def _raise_or_resolve(*, kind: str, key: str, found: list[str], subject: str, body: str) -> list[str]:
    if found:
        alert_raise(kind=kind, incident_key=key, subject=subject, body=body)
        return [key]
    alert_resolve(incident_key=key)
    return []


def _listed(references: list[str], total: int) -> str:
    more = f"\n… and {total - len(references)} more." if total > len(references) else ""
    return "\n".join(references) + more


def _check_stuck_payouts(now: dt.datetime) -> list[str]:
    threshold = settings.ALERT_PAYOUT_STUCK_MINUTES
    stuck = Payout.objects.filter(status=Payout.Status.SENDING, updated_at__lte=now - _minutes(threshold))
    total = stuck.count()
    numbers = list(stuck.order_by("updated_at").values_list("payout_no", flat=True)[:LISTED])
    return _raise_or_resolve(
        kind=Kind.PAYOUT_STUCK,
        key="payout_stuck",
        found=numbers,
        subject=f"{total} payout(s) still being transferred after {threshold} minutes",
        body=(
            "The transfer gateway has not confirmed these payouts; they are sent again every few minutes. "
            f"Check the gateway and its call records.\n{_listed(numbers, total)}"
        ),
    )


def _check_stuck_refunds(now: dt.datetime) -> list[str]:
    threshold = settings.ALERT_REFUND_STUCK_MINUTES
    stuck = Refund.objects.filter(status=Refund.Status.PROCESSING, updated_at__lte=now - _minutes(threshold))
    total = stuck.count()
    numbers = list(stuck.order_by("updated_at").values_list("refund_no", flat=True)[:LISTED])
    return _raise_or_resolve(
        kind=Kind.REFUND_STUCK,
        key="refund_stuck",
        found=numbers,
        subject=f"{total} refund(s) still processing at the gateway after {threshold} minutes",
        body=f"The gateway has not finished these refunds; they are queried again every few minutes.\n"
        f"{_listed(numbers, total)}",
    )


def _check_outbox_backlog(now: dt.datetime) -> list[str]:
    threshold = settings.ALERT_OUTBOX_BACKLOG_MINUTES
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    oldest = unsent.aggregate(oldest=Min("created_at"))["oldest"]
    late = oldest is not None and oldest <= now - _minutes(threshold)
    body = ""
    if late:
        total = unsent.count()
        errors = list(unsent.exclude(last_error="").order_by("created_at").values_list("last_error", flat=True)[:3])
        body = (
            f"{total} e-mail(s) are waiting to be sent, the oldest since {timezone.localtime(oldest):%Y-%m-%d %H:%M}. "
            "Alert e-mails wait in the same outbox: staff inboxes still show this one.\n"
            + ("Last errors:\n" + "\n".join(errors) if errors else "No sending error recorded: is a worker running?")
        )
    return _raise_or_resolve(
        kind=Kind.OUTBOX_BACKLOG,
        key="outbox_backlog",
        found=["late"] if late else [],
        subject=f"E-mails waiting in the outbox for over {threshold} minutes",
        body=body,
    )


def notification_failed_alert(*, notification: GatewayNotification) -> None:
    """A gateway's notification failed processing: one incident per channel until they stop failing."""
    alert_raise(
        kind=Kind.NOTIFICATION_FAILED,
        incident_key=f"notification_failed:{notification.channel}",
        subject=f"{notification.channel} notifications fail processing",
        body=(
            f"Notification #{notification.pk} ({notification.kind}, {notification.out_trade_no or 'no trade yet'}) "
            f"failed; the gateway sends it again, and staff can process it again once the cause is fixed.\n"
            f"{notification.detail[-1500:]}"
        ),
    )


def _check_failed_notifications(now: dt.datetime) -> list[str]:
    """Resolve a channel's incident once none of its notifications failed for the quiet period."""
    quiet_since = now - _minutes(settings.ALERT_NOTIFICATION_FAILED_QUIET_MINUTES)
    still_open = []
    for key in Alert.objects.filter(kind=Kind.NOTIFICATION_FAILED, status=Alert.Status.OPEN).values_list(
        "incident_key", flat=True
    ):
        channel = key.split(":", 1)[1]
        failing = GatewayNotification.objects.filter(
            channel=channel, outcome=GatewayNotification.Outcome.FAILED, received_at__gt=quiet_since
        ).exists()
        if failing:
            still_open.append(key)
        else:
            alert_resolve(incident_key=key, note="No notification of this channel failed for a while.")
    return still_open
