from django.db import models
from django.db.models import Q


class ReconciliationRun(models.Model):
    """One channel's daily bill compared with our records; running it again replaces its findings."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        BALANCED = "balanced", "Balanced"
        DISCREPANCIES = "discrepancies", "Discrepancies found"
        FAILED = "failed", "Could not fetch the bill"

    channel = models.CharField(max_length=20)
    day = models.DateField()
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    bill_payments_fen = models.BigIntegerField(default=0)
    bill_refunds_fen = models.BigIntegerField(default=0)
    our_payments_fen = models.BigIntegerField(default=0)
    our_refunds_fen = models.BigIntegerField(default=0)
    bill_entries = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-day", "channel"]
        permissions = [("run_reconciliation", "Can run a day's reconciliation again")]
        constraints = [
            models.UniqueConstraint(fields=["channel", "day"], name="reconciliation_one_run_per_channel_day"),
            models.CheckConstraint(
                condition=Q(status__in=["running", "balanced", "discrepancies", "failed"]),
                name="reconciliation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.day} ({self.status})"


class ReconciliationItem(models.Model):
    """One difference between a gateway's bill and our records, or one we repaired."""

    class Kind(models.TextChoices):
        MISSING_HERE = "missing_here", "On the bill, unknown or unpaid here"
        MISSING_ON_BILL = "missing_on_bill", "Paid here, not on the bill"
        AMOUNT_MISMATCH = "amount_mismatch", "Amounts differ"
        REPAIRED = "repaired", "We were behind; applied from the gateway"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entry_kind = models.CharField(max_length=10)  # payment or refund
    out_trade_no = models.CharField(max_length=64)
    out_refund_no = models.CharField(max_length=64, blank=True)
    bill_amount_fen = models.BigIntegerField(null=True, blank=True)
    our_amount_fen = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "kind", "out_trade_no"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["missing_here", "missing_on_bill", "amount_mismatch", "repaired"]),
                name="reconciliation_item_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.out_refund_no or self.out_trade_no}"
