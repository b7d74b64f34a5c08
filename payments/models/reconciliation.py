from django.db import models
from django.db.models import Q

from knowpay.money import format_cny


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
    # Gateway fees on the bill, net: charged on payments less given back on refunds.
    bill_fees_fen = models.BigIntegerField(default=0)
    # The ledger's gateway clearing account of the channel, moved by entries of that day.
    ledger_payments_fen = models.BigIntegerField(default=0)
    ledger_refunds_fen = models.BigIntegerField(default=0)
    ledger_fees_fen = models.BigIntegerField(default=0)
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

    def differences(self) -> list[str]:
        """The three-way check of a finished run: bill totals = our payments and refunds = ledger clearing."""
        if self.status in (self.Status.RUNNING, self.Status.FAILED):
            return []
        return self.totals_differences()

    def totals_differences(self) -> list[str]:
        """Where the bill's totals, ours and the ledger's movement of gateway clearing disagree, one line each."""
        found = []
        for label, bill, ours, ledger in (
            ("Payments", self.bill_payments_fen, self.our_payments_fen, self.ledger_payments_fen),
            ("Refunds", self.bill_refunds_fen, self.our_refunds_fen, self.ledger_refunds_fen),
        ):
            if not bill == ours == ledger:
                found.append(
                    f"{label}: bill {format_cny(bill)}, ours {format_cny(ours)}, ledger clearing {format_cny(ledger)}"
                )
        if self.bill_fees_fen != self.ledger_fees_fen:
            found.append(
                f"Gateway fees: bill {format_cny(self.bill_fees_fen)}, ledger {format_cny(self.ledger_fees_fen)}"
            )
        return found


class ReconciliationItem(models.Model):
    """One difference between a gateway's bill and our records, or one we repaired."""

    class Kind(models.TextChoices):
        MISSING_HERE = "missing_here", "On the bill, unknown or unpaid here"
        MISSING_ON_BILL = "missing_on_bill", "Paid here, not on the bill"
        AMOUNT_MISMATCH = "amount_mismatch", "Amounts differ"
        STATUS_MISMATCH = "status_mismatch", "Done on the bill, not done here"
        FEE_MISMATCH = "fee_mismatch", "Gateway fee differs from the contracted rate or what was booked"
        REPAIRED = "repaired", "We were behind; applied from the gateway"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    entry_kind = models.CharField(max_length=10)  # payment or refund
    out_trade_no = models.CharField(max_length=64)
    out_refund_no = models.CharField(max_length=64, blank=True)
    bill_amount_fen = models.BigIntegerField(null=True, blank=True)
    our_amount_fen = models.BigIntegerField(null=True, blank=True)
    bill_fee_fen = models.BigIntegerField(null=True, blank=True)
    expected_fee_fen = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "kind", "out_trade_no"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "missing_here",
                        "missing_on_bill",
                        "amount_mismatch",
                        "status_mismatch",
                        "fee_mismatch",
                        "repaired",
                    ]
                ),
                name="reconciliation_item_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.out_refund_no or self.out_trade_no}"
