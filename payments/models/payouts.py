"""Creator payouts: a withdrawal of available earnings, reserved at once, decided by staff, then paid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from knowpay.crypto import EncryptedCharField
from knowpay.money import format_cny
from payments.models.ledger import AppendOnlyModel, LedgerEntry


class Payout(models.Model):
    """Money a creator asked to withdraw. `payout_no` is the number the gateway sees (out_biz_no).

    requested (reserved) → sending (approved, transfer on its way) → paid, or failed (released);
    requested → paid (staff paid it by bank transfer), rejected (released) or cancelled by the
    creator before staff decided (released). A scheduled payout carries its period ("2026-W48",
    "2026-11"): at most one per creator and period.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested, awaiting review"
        SENDING = "sending", "Approved, being transferred"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Transfer failed"
        CANCELLED = "cancelled", "Cancelled by the creator"

    class Origin(models.TextChoices):
        REQUESTED = "requested", "Asked for by the creator"
        SCHEDULED = "scheduled", "Automatic, on the creator's schedule"

    class Method(models.TextChoices):
        GATEWAY_TRANSFER = "gateway_transfer", "Transfer to the creator's Alipay account"
        BANK_TRANSFER = "bank_transfer", "Bank transfer made by staff"

    # Their money is reserved (in transit): counted neither as available nor as paid.
    IN_TRANSIT = (Status.REQUESTED, Status.SENDING)
    # They keep the sales allocated to them; rejected, failed and cancelled payouts gave theirs back.
    HOLDS_SALES = (Status.REQUESTED, Status.SENDING, Status.PAID)

    payout_no = models.CharField(max_length=32, unique=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    amount_fen = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.REQUESTED)
    period = models.CharField(max_length=10, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    # Where the transfer went, as it was when staff approved it (encrypted at rest, like the profile).
    payee_account = EncryptedCharField(max_length=100, blank=True)
    payee_name = EncryptedCharField(max_length=60, blank=True)
    transfer_no = models.CharField(max_length=64, blank=True)
    bank_reference = models.CharField(max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Every status change, with who made it (admin history).
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("decide_payout", "Can approve, reject, send again and mark payouts paid by bank")]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="payout_status_updated_idx"),
            models.Index(fields=["creator", "created_at"], name="payout_creator_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "sending", "paid", "rejected", "failed", "cancelled"]),
                name="payout_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(method__in=["", "gateway_transfer", "bank_transfer"]), name="payout_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="payout_decided_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_at__isnull=False) & ~Q(method="")),
                name="payout_paid_has_time_and_method",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sending", "failed"]) | Q(method="gateway_transfer"),
                name="payout_sending_is_a_transfer",
            ),
            models.CheckConstraint(
                condition=~Q(method="gateway_transfer") | (~Q(channel="") & ~Q(payee_account="")),
                name="payout_transfer_has_channel_and_payee",
            ),
            models.CheckConstraint(
                condition=~Q(method="bank_transfer") | ~Q(bank_reference=""), name="payout_bank_has_reference"
            ),
            models.CheckConstraint(
                condition=Q(origin="requested", period="") | (Q(origin="scheduled") & ~Q(period="")),
                name="payout_scheduled_has_period",
            ),
            # A double run of the scheduler (two beats, a retried task) cannot pay a period twice.
            models.UniqueConstraint(
                fields=["creator", "period"], condition=~Q(period=""), name="payout_one_per_creator_period"
            ),
        ]

    def __str__(self) -> str:
        return self.payout_no


class PayoutAllocation(AppendOnlyModel):
    """The part of one settled sale a payout pays out: settled sales are allocated oldest first
    when the payout is requested. A rejected or failed payout's allocations no longer count."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="allocations")
    sale = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="payout_allocations")
    amount_fen = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payout_allocation_amount_positive"),
            models.UniqueConstraint(fields=["payout", "sale"], name="payout_allocation_unique_sale"),
        ]

    def __str__(self) -> str:
        return f"{self.payout_id} ← sale entry {self.sale_id}: {format_cny(self.amount_fen)}"


class PayoutSchedule(models.Model):
    """A creator's automatic payouts: every week (Mondays) or month (the 1st), Beijing time, of all
    that is available once it reaches their threshold. Asking by hand works as well."""

    class Frequency(models.TextChoices):
        OFF = "off", "Only when I ask"
        WEEKLY = "weekly", "Every week (Mondays)"
        MONTHLY = "monthly", "Every month (the 1st)"

    creator = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payout_schedule")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.OFF)
    threshold_fen = models.PositiveBigIntegerField()
    # Periods starting before this day are not paid: turning it on mid-week starts next week.
    active_since = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(threshold_fen__gt=0), name="payout_schedule_threshold_positive"),
            models.CheckConstraint(
                condition=Q(frequency__in=["off", "weekly", "monthly"]), name="payout_schedule_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.creator_id}: {self.get_frequency_display()}"
