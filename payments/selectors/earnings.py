"""Reads of a creator's earnings and payouts, all from the ledger: one query per figure or table,
however many sales there are. Used by the dashboard, the CSV exports, the API and the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from payments.models import LedgerAccount, LedgerEntry, LedgerLine, Payout, PayoutAllocation

Kind = LedgerAccount.Kind
Entry = LedgerEntry.Kind
CREATOR_EARNINGS = (Kind.CREATOR_PENDING, Kind.CREATOR_AVAILABLE)


def _sum(condition: Q, *, negate: bool = False):
    total = Sum("amount_fen", filter=condition)
    return Coalesce(-total if negate else total, 0)


@dataclass(frozen=True)
class PendingPart:
    available_on: dt.date
    amount_fen: int


@dataclass(frozen=True)
class EarningsSummary:
    available_fen: int
    pending_fen: int
    in_payout_fen: int
    paid_out_fen: int
    sales_count: int
    gross_fen: int
    fees_fen: int
    net_fen: int
    refunded_fen: int  # given back to learners
    refunded_fees_fen: int  # of which the platform gave back its fee
    refunded_net_fen: int  # and the creator the rest
    pending_parts: list[PendingPart]

    @property
    def kept_fen(self) -> int:
        """Lifetime earnings after refunds: what is pending, available, in payout and paid out."""
        return self.net_fen - self.refunded_net_fen


def creator_available_fen(*, creator_id: int) -> int:
    """What a creator could withdraw now, read without locks (0 before their first sale)."""
    balance = (
        LedgerAccount.objects.filter(creator_id=creator_id, kind=Kind.CREATOR_AVAILABLE)
        .values_list("balance_fen", flat=True)
        .first()
    )
    return balance or 0


def earnings_summary(*, creator: User) -> EarningsSummary:
    balances = dict(LedgerAccount.objects.filter(creator=creator).values_list("kind", "balance_fen"))
    totals = LedgerLine.objects.filter(entry__creator_id=creator.pk).aggregate(
        sales_count=Count("pk", filter=Q(entry__kind=Entry.SALE, account__kind=Kind.GATEWAY_CLEARING)),
        gross_fen=_sum(Q(entry__kind=Entry.SALE, account__kind=Kind.GATEWAY_CLEARING)),
        fees_fen=_sum(Q(entry__kind=Entry.SALE, account__kind=Kind.PLATFORM_REVENUE), negate=True),
        net_fen=_sum(Q(entry__kind=Entry.SALE, account__kind=Kind.CREATOR_PENDING), negate=True),
        refunded_fen=_sum(Q(entry__kind=Entry.REFUND, account__kind=Kind.GATEWAY_CLEARING), negate=True),
        refunded_fees_fen=_sum(Q(entry__kind=Entry.REFUND, account__kind=Kind.PLATFORM_REVENUE)),
        refunded_net_fen=_sum(Q(entry__kind=Entry.REFUND, account__kind__in=CREATOR_EARNINGS)),
        paid_out_fen=_sum(Q(entry__kind=Entry.PAYOUT_PAID, account__kind=Kind.CREATOR_IN_TRANSIT)),
    )
    return EarningsSummary(
        available_fen=balances.get(Kind.CREATOR_AVAILABLE, 0),
        pending_fen=balances.get(Kind.CREATOR_PENDING, 0),
        in_payout_fen=balances.get(Kind.CREATOR_IN_TRANSIT, 0),
        pending_parts=earnings_pending_parts(creator=creator),
        **totals,
    )


def earnings_pending_parts(*, creator: User) -> list[PendingPart]:
    """What is on hold, by the day it becomes available (the next settlement run after that moment)."""
    held = (
        LedgerLine.objects.filter(account__creator=creator, account__kind=Kind.CREATOR_PENDING)
        .values("entry__payment_id")
        .annotate(held_fen=-Sum("amount_fen"), settles_at=Max("entry__settles_at"))
        .filter(held_fen__gt=0)
    )
    by_day: dict[dt.date, int] = {}
    for row in held:
        day = timezone.localdate(row["settles_at"])
        by_day[day] = by_day.get(day, 0) + row["held_fen"]
    return [PendingPart(available_on=day, amount_fen=fen) for day, fen in sorted(by_day.items())]


@dataclass(frozen=True)
class DayEarnings:
    day: dt.date
    sales_fen: int  # the creator's share of the day's sales
    refunds_fen: int  # the creator's share of the day's refunds

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.refunds_fen


def earnings_daily(*, creator: User, start: dt.date, end: dt.date) -> list[DayEarnings]:
    """The creator's share of sales and refunds per local day, from `start` to `end` inclusive, by when
    the learner paid or the refund went through (not when the entry was posted)."""
    tz = timezone.get_current_timezone()
    rows = (
        LedgerLine.objects.filter(
            account__creator=creator,
            account__kind__in=CREATOR_EARNINGS,
            entry__kind__in=[Entry.SALE, Entry.REFUND],
            entry__occurred_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            entry__occurred_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        )
        .annotate(day=TruncDate("entry__occurred_at", tzinfo=tz))
        .values("day")
        .annotate(
            sales_fen=_sum(Q(entry__kind=Entry.SALE), negate=True),
            refunds_fen=_sum(Q(entry__kind=Entry.REFUND)),
        )
    )
    found = {row["day"]: row for row in rows}
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return [
        DayEarnings(
            day=day,
            sales_fen=found.get(day, {}).get("sales_fen", 0),
            refunds_fen=found.get(day, {}).get("refunds_fen", 0),
        )
        for day in days
    ]


@dataclass(frozen=True)
class CourseEarnings:
    course_id: int
    title: str
    sales_count: int
    gross_fen: int
    fees_fen: int
    net_fen: int
    refunded_fen: int
    refunded_net_fen: int

    @property
    def kept_fen(self) -> int:
        return self.net_fen - self.refunded_net_fen


def earnings_by_course(*, creator: User) -> list[CourseEarnings]:
    rows = (
        LedgerLine.objects.filter(entry__creator_id=creator.pk, entry__kind__in=[Entry.SALE, Entry.REFUND])
        .values(course_id=F("entry__payment__order__course_id"), title=F("entry__payment__order__course__title"))
        .annotate(
            sales_count=Count("pk", filter=Q(entry__kind=Entry.SALE, account__kind=Kind.GATEWAY_CLEARING)),
            gross_fen=_sum(Q(entry__kind=Entry.SALE, account__kind=Kind.GATEWAY_CLEARING)),
            fees_fen=_sum(Q(entry__kind=Entry.SALE, account__kind=Kind.PLATFORM_REVENUE), negate=True),
            net_fen=_sum(Q(entry__kind=Entry.SALE, account__kind=Kind.CREATOR_PENDING), negate=True),
            refunded_fen=_sum(Q(entry__kind=Entry.REFUND, account__kind=Kind.GATEWAY_CLEARING), negate=True),
            refunded_net_fen=_sum(Q(entry__kind=Entry.REFUND, account__kind__in=CREATOR_EARNINGS)),
        )
        .order_by("-gross_fen", "title")
    )
    return [CourseEarnings(**row) for row in rows]


def _refund_lines_of_sale(condition: Q, *, negate: bool = False) -> Coalesce:
    total = (
        LedgerLine.objects.filter(condition, entry__kind=Entry.REFUND, entry__payment_id=OuterRef("payment_id"))
        .values("entry__payment_id")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    return Coalesce(-Subquery(total) if negate else Subquery(total), 0)


def _lines_of_entry(condition: Q, *, negate: bool = False) -> Coalesce:
    total = (
        LedgerLine.objects.filter(condition, entry_id=OuterRef("pk"))
        .values("entry_id")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    return Coalesce(-Subquery(total) if negate else Subquery(total), 0)


def sale_list_for_creator(*, creator: User) -> QuerySet[LedgerEntry]:
    """The creator's sales, newest paid first, each with its split, its refunds and when it settled."""
    settlement = LedgerEntry.objects.filter(kind=Entry.SETTLEMENT, payment_id=OuterRef("payment_id"))
    return (
        LedgerEntry.objects.filter(creator_id=creator.pk, kind=Entry.SALE)
        .select_related("payment__order__course")
        .annotate(
            gross_fen=_lines_of_entry(Q(account__kind=Kind.GATEWAY_CLEARING)),
            fee_fen=_lines_of_entry(Q(account__kind=Kind.PLATFORM_REVENUE), negate=True),
            net_fen=_lines_of_entry(Q(account__kind=Kind.CREATOR_PENDING), negate=True),
            refunded_fen=_refund_lines_of_sale(Q(account__kind=Kind.GATEWAY_CLEARING), negate=True),
            refunded_net_fen=_refund_lines_of_sale(Q(account__kind__in=CREATOR_EARNINGS)),
            settled_at=Subquery(settlement.values("created_at")[:1]),
        )
        .order_by("-occurred_at", "-id")
    )


def sale_payment_ids_due_for_settlement(*, now: dt.datetime) -> list[int]:
    """Payments of sales whose hold has ended and whose creator share is not settled nor all refunded."""
    settled = LedgerEntry.objects.filter(kind=Entry.SETTLEMENT, payment_id=OuterRef("payment_id"))
    has_creator_share = LedgerLine.objects.filter(entry_id=OuterRef("pk"), account__kind=Kind.CREATOR_PENDING)
    return list(
        LedgerEntry.objects.filter(
            kind=Entry.SALE, settles_at__lte=now, payment__refunded_fen__lt=F("payment__amount_fen")
        )
        .filter(Exists(has_creator_share))
        .exclude(Exists(settled))
        .order_by("settles_at", "pk")
        .values_list("payment_id", flat=True)
    )


def sale_held_fen(*, payment_id: int) -> int:
    """What is still on hold of a sale's creator share: its share less refunds and settlement."""
    held = LedgerLine.objects.filter(entry__payment_id=payment_id, account__kind=Kind.CREATOR_PENDING).aggregate(
        total=Coalesce(Sum("amount_fen"), 0)
    )
    return -held["total"]


def sale_unpaid_settled_list(*, creator_id: int) -> list[tuple[int, int]]:
    """(sale entry id, fen) of settled sales not yet allocated to payouts, oldest settled first.

    A sale offers what it brought to the available balance (its settlement, less refunds taken from
    what was available) minus what payouts that still count have taken of it.
    """
    sale = LedgerEntry.objects.filter(kind=Entry.SALE, payment_id=OuterRef("entry__payment_id")).values("pk")[:1]
    brought = (
        LedgerLine.objects.filter(
            account__creator_id=creator_id,
            account__kind=Kind.CREATOR_AVAILABLE,
            entry__kind__in=[Entry.SETTLEMENT, Entry.REFUND],
        )
        .values("entry__payment_id")
        .annotate(fen=-Sum("amount_fen"), first_entry=Min("entry_id"), sale_id=Subquery(sale))
        .filter(fen__gt=0, sale_id__isnull=False)
        .order_by("first_entry")
    )
    taken = dict(
        PayoutAllocation.objects.filter(sale__creator_id=creator_id, payout__status__in=Payout.HOLDS_SALES)
        .values("sale_id")
        .annotate(fen=Sum("amount_fen"))
        .values_list("sale_id", "fen")
    )
    return [(row["sale_id"], row["fen"] - taken.get(row["sale_id"], 0)) for row in brought]


def payout_list_for_creator(*, creator: User) -> QuerySet[Payout]:
    """The creator's payouts, newest first, each with the sales it paid."""
    allocations = PayoutAllocation.objects.select_related("sale__payment__order__course").order_by("id")
    return (
        Payout.objects.filter(creator=creator)
        .prefetch_related(Prefetch("allocations", queryset=allocations))
        .order_by("-created_at", "-id")
    )


def payout_get_for_creator(*, creator: User, payout_no: str) -> Payout:
    """The creator's own payout; another creator's (or an unknown number) is a 404, never a 403."""
    payout = payout_list_for_creator(creator=creator).filter(payout_no=payout_no).first()
    if payout is None:
        raise Http404("No such payout.")
    return payout
