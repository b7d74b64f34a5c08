"""The double-entry ledger: accounts, and append-only journal entries made of signed lines.

Lines are signed fen: a debit is positive, a credit negative; the lines of an entry sum to zero.
Entries and lines are never updated or deleted (here, and on PostgreSQL by triggers too); a
correction is a new entry that reverses an old one. The rules for what is posted where live in
payments.services.ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from knowpay.money import format_cny
from payments.models.orders import Payment, Refund


class AppendOnlyError(RuntimeError):
    """Something tried to change or delete a ledger row; post a reversing entry instead."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be updated.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted.")


class AppendOnlyModel(models.Model):
    """Rows are written once; saving an existing row or deleting one raises AppendOnlyError."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be updated; post a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted; post a reversing entry.")


class AccountKind(models.TextChoices):
    GATEWAY_CLEARING = "gateway_clearing", "Gateway clearing"
    BANK = "bank", "Bank (manual payouts)"
    PLATFORM_REVENUE = "platform_revenue", "Platform revenue (fees)"
    REFUNDS_PAYABLE = "refunds_payable", "Refunds payable (duplicate payments)"
    CREATOR_PENDING = "creator_pending", "Creator earnings on hold"
    CREATOR_AVAILABLE = "creator_available", "Creator earnings available"
    CREATOR_IN_TRANSIT = "creator_in_transit", "Creator payouts in transit"
    GATEWAY_FEES = "gateway_fees", "Gateway fees (expense)"


# Assets and expenses grow with debits; everything else here (what we owe or earned) with credits.
DEBIT_NORMAL_KINDS = (AccountKind.GATEWAY_CLEARING, AccountKind.BANK, AccountKind.GATEWAY_FEES)
# Accounts kept per gateway channel.
CHANNEL_KINDS = (AccountKind.GATEWAY_CLEARING, AccountKind.GATEWAY_FEES)
CREATOR_KINDS = (AccountKind.CREATOR_PENDING, AccountKind.CREATOR_AVAILABLE, AccountKind.CREATOR_IN_TRANSIT)


class LedgerAccount(models.Model):
    """Where money is: at a gateway, earned by the platform, owed to a payer or to a creator.

    Creator accounts keep a cached balance (`balance_fen`, in their normal sign), changed under a
    row lock with every posting, because rules read it (a payout may not exceed what is available).
    Shared accounts keep none: every sale would otherwise update one hot row; their balance is the
    sum of their lines.
    """

    Kind = AccountKind
    DEBIT_NORMAL = DEBIT_NORMAL_KINDS
    CREATOR_KINDS = CREATOR_KINDS

    kind = models.CharField(max_length=20, choices=Kind.choices)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    channel = models.CharField(max_length=20, blank=True)
    balance_fen = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AccountKind.values), name="ledger_account_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind__in=CREATOR_KINDS, creator__isnull=False, balance_fen__isnull=False)
                | (~Q(kind__in=CREATOR_KINDS) & Q(creator__isnull=True, balance_fen__isnull=True)),
                name="ledger_account_creator_kinds_cached",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CHANNEL_KINDS, channel__gt="") | (~Q(kind__in=CHANNEL_KINDS) & Q(channel="")),
                name="ledger_account_channel_for_gateway_kinds",
            ),
            # Held earnings and payouts in transit are sums of positive amounts; only what is
            # available can go negative (a refund after the money was paid out).
            models.CheckConstraint(
                condition=Q(balance_fen__isnull=True) | Q(balance_fen__gte=0) | Q(kind=AccountKind.CREATOR_AVAILABLE),
                name="ledger_account_only_available_negative",
            ),
            models.UniqueConstraint(
                fields=["kind", "creator"], condition=Q(creator__isnull=False), name="ledger_account_unique_creator"
            ),
            models.UniqueConstraint(
                fields=["kind", "channel"], condition=Q(creator__isnull=True), name="ledger_account_unique_shared"
            ),
        ]

    def __str__(self) -> str:
        if self.creator_id:
            return f"{self.get_kind_display()} · creator #{self.creator_id}"
        if self.channel:
            return f"{self.get_kind_display()} · {self.channel}"
        return self.get_kind_display()

    @property
    def sign(self) -> int:
        """+1 if a debit raises this account's balance, -1 if a credit does."""
        return 1 if self.kind in self.DEBIT_NORMAL else -1

    @property
    def is_cached(self) -> bool:
        return self.kind in self.CREATOR_KINDS


class EntryKind(models.TextChoices):
    SALE = "sale", "Sale"
    DUPLICATE_PAYMENT = "duplicate_payment", "Duplicate payment"
    REFUND = "refund", "Refund"
    SETTLEMENT = "settlement", "Settlement (hold ended)"
    PAYOUT_RESERVE = "payout_reserve", "Payout requested"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    PAYOUT_RELEASE = "payout_release", "Payout released"
    GATEWAY_FEE = "gateway_fee", "Gateway fee"
    GATEWAY_FEE_RETURN = "gateway_fee_return", "Gateway fee returned"


PAYOUT_ENTRY_KINDS = (EntryKind.PAYOUT_RESERVE, EntryKind.PAYOUT_PAID, EntryKind.PAYOUT_RELEASE)
PAYMENT_ENTRY_KINDS = (EntryKind.SALE, EntryKind.DUPLICATE_PAYMENT, EntryKind.REFUND, EntryKind.SETTLEMENT)
GATEWAY_FEE_ENTRY_KINDS = (EntryKind.GATEWAY_FEE, EntryKind.GATEWAY_FEE_RETURN)


class LedgerEntry(AppendOnlyModel):
    """One money movement, balanced, with the business event that caused it.

    `reference` names that event (e.g. "sale:<out_trade_no>", "refund:<refund_no>"); it is unique,
    so the same movement can never be posted twice. `occurred_at` is the business time of the event
    (when the learner paid, when the refund went through, the bill's time of a gateway fee), which
    earnings by day follow; `created_at` is when it was posted.
    """

    Kind = EntryKind
    PAYOUT_KINDS = PAYOUT_ENTRY_KINDS
    GATEWAY_FEE_KINDS = GATEWAY_FEE_ENTRY_KINDS

    # Long enough for a gateway fee of a trade number we never issued (up to 64 characters).
    reference = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.CharField(max_length=300)
    # The creator whose earnings this entry concerns. No database constraint: inserting a row that
    # references a user would take a key-share lock on that user, and the payment core holds
    # learners' rows FOR UPDATE while it posts; a posting must not queue behind an unrelated purchase.
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # ledger_entry_creator_time_idx leads with it
        related_name="+",
    )
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    payout = models.ForeignKey(
        "payments.Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    # Sales only: when the creator's share leaves the hold and becomes available.
    settles_at = models.DateTimeField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["kind", "settles_at"], name="ledger_entry_kind_settles_idx"),
            models.Index(fields=["creator", "kind", "occurred_at"], name="ledger_entry_creator_time_idx"),
            models.Index(fields=["kind", "occurred_at"], name="ledger_entry_kind_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="ledger_entry_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.SALE, settles_at__isnull=False)
                | (~Q(kind=EntryKind.SALE) & Q(settles_at__isnull=True)),
                name="ledger_entry_settles_at_for_sales",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=PAYMENT_ENTRY_KINDS) | Q(payment__isnull=False), name="ledger_entry_payment_set"
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.REFUND) | Q(refund__isnull=False), name="ledger_entry_refund_set"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=PAYOUT_ENTRY_KINDS) | Q(payout__isnull=False), name="ledger_entry_payout_set"
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.PAYOUT_RELEASE) | Q(reverses__isnull=False),
                name="ledger_entry_release_reverses",
            ),
            # The invariants "one sale entry per payment" etc., in the database.
            models.UniqueConstraint(
                fields=["kind", "payment"],
                condition=Q(kind__in=[EntryKind.SALE, EntryKind.DUPLICATE_PAYMENT, EntryKind.SETTLEMENT]),
                name="ledger_entry_once_per_payment",
            ),
            models.UniqueConstraint(
                fields=["refund"], condition=Q(kind=EntryKind.REFUND), name="ledger_entry_once_per_refund"
            ),
            models.UniqueConstraint(
                fields=["kind", "payout"], condition=Q(payout__isnull=False), name="ledger_entry_once_per_payout"
            ),
            # A gateway fee belongs to no creator: it is the platform's cost.
            models.CheckConstraint(
                condition=~Q(kind__in=GATEWAY_FEE_ENTRY_KINDS) | Q(creator__isnull=True),
                name="ledger_entry_gateway_fee_no_creator",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class LedgerLine(AppendOnlyModel):
    """One side of an entry: `amount_fen` debited (positive) or credited (negative) to one account."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    amount_fen = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="ledger_line_amount_not_zero"),
        ]

    def __str__(self) -> str:
        side = "Dr" if self.amount_fen > 0 else "Cr"
        return f"{side} {format_cny(abs(self.amount_fen))} · {self.account}"
