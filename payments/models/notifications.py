from django.db import models
from django.db.models import Q

from knowpay.crypto import EncryptedBinaryField
from payments.models.orders import Payment, Refund


class GatewayNotification(models.Model):
    """Every asynchronous message a gateway sent us, stored raw before anything else happens."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received, not processed yet"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Already processed; acknowledged again"
        IGNORED = "ignored", "Verified; nothing to do"
        ANOMALY = "anomaly", "Verified; recorded as an anomaly for staff"
        REJECTED = "rejected", "Rejected (failed a check)"
        FAILED = "failed", "Error while processing; the gateway will retry"

    channel = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    # Encrypted at rest: a payment notification names the payer (buyer id, openid).
    body = EncryptedBinaryField()
    body_truncated = models.BooleanField(default=False)
    # SHA-256 of what the gateway signed: the body, plus the headers it signs with where it does
    # (payments.services.notifications.notification_store); one row per distinct message.
    body_sha256 = models.CharField(max_length=64)
    # A body received again (a gateway resending, or a flood) is counted here, not stored again.
    times_received = models.PositiveIntegerField(default=1)
    last_received_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    detail = models.TextField(blank=True)
    event_type = models.CharField(max_length=30, blank=True)
    out_trade_no = models.CharField(max_length=64, blank=True, db_index=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        permissions = [("reprocess_gatewaynotification", "Can process a stored notification again")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    outcome__in=["received", "processed", "duplicate", "ignored", "anomaly", "rejected", "failed"]
                ),
                name="notification_outcome_valid",
            ),
            models.UniqueConstraint(fields=["channel", "kind", "body_sha256"], name="notification_unique_body"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} #{self.pk} ({self.outcome})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class OutboxMessage(models.Model):
    """A message to send after a commit (e-mail to a learner or creator).

    Written in the same transaction as the change it reports, so a crash between commit and
    enqueue cannot lose it: a periodic sweep sends whatever the immediate attempt did not.
    """

    topic = models.CharField(max_length=40)
    # One message per business event, even if the event is handled twice.
    dedupe_key = models.CharField(max_length=120, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The backlog and its oldest message, read at every metrics scrape: only unsent rows.
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="outbox_unsent_created_idx"),
        ]

    def __str__(self) -> str:
        return self.dedupe_key
