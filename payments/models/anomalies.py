from django.db import models
from django.db.models import Q

from payments.models.notifications import GatewayNotification
from payments.models.orders import Payment


class PaymentAnomaly(models.Model):
    """Something a gateway verifiably reported about one of our payments that our records cannot
    absorb: recorded for staff to investigate with the gateway, never applied as money."""

    class Kind(models.TextChoices):
        # A verified success for an attempt already paid under another gateway trade number: the
        # payer may have been charged twice for one out_trade_no, or the gateway's records disagree.
        SECOND_GATEWAY_TRADE = "second_gateway_trade", "Another gateway trade for a paid attempt"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="anomalies")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # What the gateway reported now, beside what we had recorded when the payment succeeded.
    gateway_trade_no = models.CharField(max_length=64)
    recorded_trade_no = models.CharField(max_length=64, blank=True)
    amount_fen = models.PositiveIntegerField()
    reported_paid_at = models.DateTimeField(null=True, blank=True)
    # The raw notification that first reported it; empty when our own query of the gateway did.
    notification = models.ForeignKey(
        GatewayNotification, null=True, blank=True, on_delete=models.PROTECT, related_name="anomalies"
    )
    detected_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name_plural = "payment anomalies"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["second_gateway_trade"]), name="anomaly_kind_valid"),
            # A gateway resending the same report adds nothing.
            models.UniqueConstraint(fields=["payment", "kind", "gateway_trade_no"], name="anomaly_once_per_report"),
        ]

    def __str__(self) -> str:
        return f"{self.payment} {self.get_kind_display().lower()} {self.gateway_trade_no}"
