"""Alerts to staff: one row per incident, open until its condition clears or staff resolve it."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Alert(models.Model):
    """An incident staff were (or, silenced, would have been) told about once.

    Each check that finds the incident again counts an occurrence on the open row; the database
    allows one open row per incident key, so two workers cannot open it twice. Once resolved, the
    same condition found again is a new incident.
    """

    class Kind(models.TextChoices):
        RECONCILIATION_DISCREPANCIES = "reconciliation_discrepancies", "Reconciliation found discrepancies"
        RECONCILIATION_FAILED = "reconciliation_failed", "Reconciliation could not run"
        PAYOUT_STUCK = "payout_stuck", "Payouts stuck in transfer"
        REFUND_STUCK = "refund_stuck", "Refunds stuck at the gateway"
        OUTBOX_BACKLOG = "outbox_backlog", "Outbox backlog"
        NOTIFICATION_FAILED = "notification_failed", "Gateway notifications fail processing"
        CIRCUIT_OPEN = "circuit_open", "A gateway circuit opened"
        PAYMENT_ANOMALY = "payment_anomaly", "A gateway reported another trade for a paid attempt"
        SWEEP_FAILING = "sweep_failing", "A periodic sweep keeps failing on some rows"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    incident_key = models.CharField(max_length=120)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    occurrences = models.PositiveIntegerField(default=1)
    # False when the kind was silenced as the incident opened: recorded, nobody told.
    notified = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Empty when the condition cleared by itself.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident_key"], condition=Q(status="open"), name="alert_one_open_per_incident"
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "resolved"]), name="alert_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True) | Q(status="resolved", resolved_at__isnull=False),
                name="alert_resolved_has_time",
            ),
            models.CheckConstraint(condition=Q(occurrences__gte=1), name="alert_occurs_at_least_once"),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="alert_status_kind_idx")]
        permissions = [
            ("resolve_alert", "Can resolve alerts"),
            ("silence_alert", "Can silence a kind of alert for a while, and end a silence"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.status})"


class AlertSilence(models.Model):
    """Staff silenced a kind of alert until a moment: incidents are still recorded, nobody is told."""

    kind = models.CharField(max_length=40, choices=Alert.Kind.choices)
    until = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-until"]
        indexes = [models.Index(fields=["kind", "until"], name="alert_silence_kind_until_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} silenced until {self.until:%Y-%m-%d %H:%M}"
