"""Reads that audit the ledger: account balances recomputed from lines, and every invariant that
`manage.py ledger_check` verifies, each violation described in one line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    Payment,
    Payout,
    PayoutAllocation,
    ReconciliationRun,
    Refund,
)

Kind = LedgerAccount.Kind
Entry = LedgerEntry.Kind
CREATOR_EARNINGS = (Kind.CREATOR_PENDING, Kind.CREATOR_AVAILABLE)


def ledger_account_list_with_balances() -> QuerySet[LedgerAccount]:
    """Every account with `lines_total_fen`, the sum of its lines (debits positive)."""
    return LedgerAccount.objects.select_related("creator").annotate(
        lines_total_fen=Coalesce(Sum("lines__amount_fen"), 0)
    )


def _entries_of_kind(kind: str) -> Count:
    return Count("ledger_entries", filter=Q(ledger_entries__kind=kind), distinct=True)


def _clearing_fen_of_entries(kind: str) -> Coalesce:
    return Coalesce(
        Sum(
            "ledger_entries__lines__amount_fen",
            filter=Q(ledger_entries__kind=kind, ledger_entries__lines__account__kind=Kind.GATEWAY_CLEARING),
        ),
        0,
    )


def _unbalanced_entries() -> Iterator[str]:
    entries = (
        LedgerEntry.objects.annotate(total=Coalesce(Sum("lines__amount_fen"), 0), line_count=Count("lines"))
        .filter(~Q(total=0) | Q(line_count__lt=2))
        .values_list("reference", "line_count", "total")
    )
    for reference, line_count, total in entries:
        yield f"entry {reference}: {line_count} lines summing to {total} fen; it must balance"


def _lines_of_another_creator() -> Iterator[str]:
    lines = (
        LedgerLine.objects.filter(account__creator__isnull=False)
        .alias(entry_creator=F("entry__creator_id"))
        .filter(
            Q(entry_creator__isnull=True)
            | Q(entry_creator__lt=F("account__creator_id"))
            | Q(entry_creator__gt=F("account__creator_id"))
        )
        .values_list("entry__reference", "account__creator_id")
    )
    for reference, creator_id in lines:
        yield f"entry {reference}: posts to creator #{creator_id}'s account but does not concern that creator"


def _cached_balances() -> Iterator[str]:
    # Creator accounts, the only cached ones, grow with credits: balance == -(sum of lines).
    accounts = (
        LedgerAccount.objects.filter(balance_fen__isnull=False)
        .annotate(lines_total=Coalesce(Sum("lines__amount_fen"), 0))
        .annotate(difference=F("balance_fen") + F("lines_total"))
        .exclude(difference=0)
    )
    for account in accounts:
        yield f"account {account}: cached balance {account.balance_fen} fen, lines give {-account.lines_total} fen"


def _sales() -> Iterator[str]:
    primary = Payment.objects.filter(status=Payment.Status.SUCCEEDED, is_duplicate=False)
    for out_trade_no, count in (
        primary.annotate(count=_entries_of_kind(Entry.SALE)).exclude(count=1).values_list("out_trade_no", "count")
    ):
        yield f"payment {out_trade_no}: paid, with {count} sale entries instead of 1"
    stray = LedgerEntry.objects.filter(kind=Entry.SALE).exclude(
        payment__status=Payment.Status.SUCCEEDED, payment__is_duplicate=False
    )
    for reference in stray.values_list("reference", flat=True):
        yield f"entry {reference}: a sale of a payment that is not a paid primary payment"
    for out_trade_no, amount, gross in (
        primary.annotate(gross=_clearing_fen_of_entries(Entry.SALE))
        .filter(gross__gt=0)
        .exclude(gross=F("amount_fen"))
        .values_list("out_trade_no", "amount_fen", "gross")
    ):
        yield f"payment {out_trade_no}: paid {amount} fen, its sale entry says {gross} fen"


def _purchases() -> Iterator[str]:
    # A course is a one-time product: a learner holds at most one sale of it that is not fully refunded.
    live_sales = (
        LedgerEntry.objects.filter(
            kind=Entry.SALE, payment__is_duplicate=False, payment__refunded_fen__lt=F("payment__amount_fen")
        )
        .values("payment__order__learner_id", "payment__order__course_id")
        .annotate(sales=Count("pk"))
        .filter(sales__gt=1)
        .order_by("payment__order__learner_id", "payment__order__course_id")
    )
    for row in live_sales:
        yield (
            f"learner #{row['payment__order__learner_id']}: {row['sales']} sales of course "
            f"#{row['payment__order__course_id']} not refunded in full; one purchase is one sale, the others "
            "are duplicates to refund"
        )


def _duplicates() -> Iterator[str]:
    duplicates = Payment.objects.filter(is_duplicate=True)
    for out_trade_no, count in (
        duplicates.annotate(count=_entries_of_kind(Entry.DUPLICATE_PAYMENT))
        .exclude(count=1)
        .values_list("out_trade_no", "count")
    ):
        yield f"payment {out_trade_no}: a duplicate payment with {count} duplicate postings instead of 1"
    stray = LedgerEntry.objects.filter(kind=Entry.DUPLICATE_PAYMENT).exclude(payment__is_duplicate=True)
    for reference in stray.values_list("reference", flat=True):
        yield f"entry {reference}: a duplicate posting of a payment that is not a duplicate"
    for out_trade_no, amount, gross in (
        duplicates.annotate(gross=_clearing_fen_of_entries(Entry.DUPLICATE_PAYMENT))
        .exclude(gross=F("amount_fen"))
        .filter(gross__gt=0)
        .values_list("out_trade_no", "amount_fen", "gross")
    ):
        yield f"payment {out_trade_no}: a duplicate of {amount} fen posted as {gross} fen"


def _refunds() -> Iterator[str]:
    succeeded = Refund.objects.filter(status=Refund.Status.SUCCEEDED)
    for refund_no, count in (
        succeeded.annotate(count=_entries_of_kind(Entry.REFUND)).exclude(count=1).values_list("refund_no", "count")
    ):
        yield f"refund {refund_no}: succeeded, with {count} refund entries instead of 1"
    stray = LedgerEntry.objects.filter(kind=Entry.REFUND).exclude(refund__status=Refund.Status.SUCCEEDED)
    for reference in stray.values_list("reference", flat=True):
        yield f"entry {reference}: a refund posting of a refund that did not succeed"
    for refund_no, amount, posted in (
        succeeded.annotate(posted=-_clearing_fen_of_entries(Entry.REFUND))
        .exclude(posted=F("amount_fen"))
        .filter(posted__gt=0)
        .values_list("refund_no", "amount_fen", "posted")
    ):
        yield f"refund {refund_no}: {amount} fen refunded, posted as {posted} fen"
    for out_trade_no, refunded, posted in (
        Payment.objects.filter(refunded_fen__gt=0)
        .annotate(posted=-_clearing_fen_of_entries(Entry.REFUND))
        .exclude(posted=F("refunded_fen"))
        .values_list("out_trade_no", "refunded_fen", "posted")
    ):
        yield f"payment {out_trade_no}: {refunded} fen refunded, the ledger's refunds of it total {posted} fen"
    # A sale's fee and creator share are never given back beyond what the sale gave.
    overdrawn = (
        LedgerLine.objects.filter(entry__kind__in=[Entry.SALE, Entry.REFUND], entry__payment__is_duplicate=False)
        .values("entry__payment__out_trade_no")
        .annotate(
            fee=Coalesce(Sum("amount_fen", filter=Q(account__kind=Kind.PLATFORM_REVENUE)), 0),
            creator=Coalesce(Sum("amount_fen", filter=Q(account__kind__in=CREATOR_EARNINGS)), 0),
        )
        .filter(Q(fee__gt=0) | Q(creator__gt=0))
    )
    for row in overdrawn:
        yield f"payment {row['entry__payment__out_trade_no']}: its refunds gave back more than its sale brought"


def _settlements() -> Iterator[str]:
    held = (
        LedgerLine.objects.filter(account__kind=Kind.CREATOR_PENDING)
        .values("entry__payment__out_trade_no")
        .annotate(held=-Sum("amount_fen"), settled=Count("pk", filter=Q(entry__kind=Entry.SETTLEMENT)))
        .filter(Q(held__lt=0) | Q(settled__gt=0, held__gt=0))
    )
    for row in held:
        out_trade_no, fen = row["entry__payment__out_trade_no"], row["held"]
        if fen < 0:
            yield f"payment {out_trade_no}: {fen} fen held; a sale's held share cannot go below zero"
        else:
            yield f"payment {out_trade_no}: settled, yet {fen} fen of it is still held"


def _payouts() -> Iterator[str]:
    expected = {
        Payout.Status.REQUESTED: ((1, 0, 0), "reserved"),
        Payout.Status.SENDING: ((1, 0, 0), "reserved"),
        Payout.Status.PAID: ((1, 1, 0), "reserved and paid"),
        Payout.Status.REJECTED: ((1, 0, 1), "reserved and released"),
        Payout.Status.FAILED: ((1, 0, 1), "reserved and released"),
        Payout.Status.CANCELLED: ((1, 0, 1), "reserved and released"),
    }
    allocated = (
        PayoutAllocation.objects.filter(payout=OuterRef("pk"))
        .values("payout")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    payouts = Payout.objects.annotate(
        reserves=Count("ledger_entries", filter=Q(ledger_entries__kind=Entry.PAYOUT_RESERVE), distinct=True),
        paids=Count("ledger_entries", filter=Q(ledger_entries__kind=Entry.PAYOUT_PAID), distinct=True),
        releases=Count("ledger_entries", filter=Q(ledger_entries__kind=Entry.PAYOUT_RELEASE), distinct=True),
        in_transit=Coalesce(
            -Sum(
                "ledger_entries__lines__amount_fen",
                filter=Q(ledger_entries__lines__account__kind=Kind.CREATOR_IN_TRANSIT),
            ),
            0,
        ),
        allocated=Coalesce(Subquery(allocated), 0),
    )
    for payout in payouts:
        counts, posted = expected[payout.status]
        if (payout.reserves, payout.paids, payout.releases) != counts:
            yield (
                f"payout {payout.payout_no}: {payout.status} must be {posted} once; entries: {payout.reserves} "
                f"reserve, {payout.paids} paid, {payout.releases} release"
            )
        in_transit = payout.amount_fen if payout.status in Payout.IN_TRANSIT else 0
        if payout.in_transit != in_transit:
            yield f"payout {payout.payout_no}: {payout.in_transit} fen in transit, expected {in_transit} fen"
        if payout.allocated != payout.amount_fen:
            yield f"payout {payout.payout_no}: {payout.allocated} fen of sales allocated to {payout.amount_fen} fen"


def _gateway_fees() -> Iterator[str]:
    """Every gateway fee on a reconciled bill is booked: per run, the bill's net fees equal the fee
    entries of that channel and day (fees are booked at the bill's own time of each entry)."""
    tz = timezone.get_current_timezone()
    reconciled = ReconciliationRun.objects.filter(
        status__in=[ReconciliationRun.Status.BALANCED, ReconciliationRun.Status.DISCREPANCIES]
    )
    for run in reconciled:
        start = dt.datetime.combine(run.day, dt.time.min, tzinfo=tz)
        booked = LedgerLine.objects.filter(
            account__kind=Kind.GATEWAY_FEES,
            account__channel=run.channel,
            entry__kind__in=LedgerEntry.GATEWAY_FEE_KINDS,
            entry__occurred_at__gte=start,
            entry__occurred_at__lt=start + dt.timedelta(days=1),
        ).aggregate(fen=Coalesce(Sum("amount_fen"), 0))["fen"]
        if booked != run.bill_fees_fen:
            yield (
                f"reconciliation {run.channel} {run.day}: the bill's gateway fees total {run.bill_fees_fen} fen, "
                f"the ledger booked {booked} fen"
            )


def ledger_violations() -> list[str]:
    """Every broken invariant of the ledger, one line each; empty when all hold."""
    return [
        *_unbalanced_entries(),
        *_lines_of_another_creator(),
        *_cached_balances(),
        *_sales(),
        *_purchases(),
        *_duplicates(),
        *_refunds(),
        *_settlements(),
        *_payouts(),
        *_gateway_fees(),
    ]
