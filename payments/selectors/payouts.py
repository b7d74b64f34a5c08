"""Reads of payouts: the next automatic payout, and each payout's statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from payments.models import LedgerAccount, LedgerEntry, LedgerLine, Payout, PayoutSchedule
from payments.selectors.earnings import creator_available_fen, earnings_pending_parts
from payments.services.payouts import payout_period, payout_period_next_start

Kind = LedgerAccount.Kind
CREATOR_KINDS = (Kind.CREATOR_PENDING, Kind.CREATOR_AVAILABLE)


@dataclass(frozen=True)
class NextPayout:
    """When the creator's next automatic payout is due, and about how much it will be."""

    on: dt.date
    # What is available now, and what leaves the hold by then; refunds meanwhile may lower it.
    amount_fen: int
    threshold_fen: int
    frequency_label: str

    @property
    def below_threshold(self) -> bool:
        return self.amount_fen < max(self.threshold_fen, settings.PAYOUT_MIN_FEN)


def payout_schedule_get(*, creator: User) -> PayoutSchedule | None:
    return PayoutSchedule.objects.filter(creator=creator).first()


def payout_schedule_next(*, schedule: PayoutSchedule | None, now: dt.datetime | None = None) -> NextPayout | None:
    """None unless the creator chose automatic payouts. Today while this period's payout is still due
    (it has none yet), otherwise the first day of the next period."""
    if schedule is None or schedule.frequency == PayoutSchedule.Frequency.OFF:
        return None
    creator = schedule.creator
    today = timezone.localdate(now or timezone.now())
    period, start = payout_period(frequency=schedule.frequency, day=today)
    due_now = start >= schedule.active_since and not Payout.objects.filter(creator=creator, period=period).exists()
    on = today if due_now else payout_period_next_start(frequency=schedule.frequency, start=start)
    available = creator_available_fen(creator_id=creator.pk)
    settling = sum(part.amount_fen for part in earnings_pending_parts(creator=creator) if part.available_on <= on)
    return NextPayout(
        on=on,
        amount_fen=max(available, 0) + settling,
        threshold_fen=schedule.threshold_fen,
        frequency_label=schedule.get_frequency_display(),
    )


@dataclass(frozen=True)
class StatementRefund:
    refund_no: str
    refunded_at: dt.datetime
    amount_fen: int  # given back to the learner
    from_creator_fen: int  # of which came out of the creator's share


@dataclass(frozen=True)
class StatementLine:
    """One sale the payout pays (part of): its split, its refunds before the payout, what is paid now."""

    order_no: str
    product: str
    paid_at: dt.datetime
    gross_fen: int
    fee_fen: int
    share_fen: int
    refunds: tuple[StatementRefund, ...]
    paid_fen: int


@dataclass(frozen=True)
class PayoutStatement:
    payout: Payout
    creator_name: str
    lines: tuple[StatementLine, ...]

    @property
    def total_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)


def _lines_by_entry(entry_ids: list[int]) -> dict[int, dict[str, int]]:
    rows = (
        LedgerLine.objects.filter(entry_id__in=entry_ids)
        .values("entry_id")
        .annotate(
            clearing=Sum("amount_fen", filter=Q(account__kind=Kind.GATEWAY_CLEARING)),
            revenue=Sum("amount_fen", filter=Q(account__kind=Kind.PLATFORM_REVENUE)),
            creator=Sum("amount_fen", filter=Q(account__kind__in=CREATOR_KINDS)),
        )
    )
    return {row["entry_id"]: {k: row[k] or 0 for k in ("clearing", "revenue", "creator")} for row in rows}


def payout_statement_get(*, payout_no: str, user: User) -> PayoutStatement:
    """The statement of a payout, for its creator or staff who may view payouts; otherwise a 404.

    Its lines are the payout's allocations (the settled sales it pays, oldest first), each with the
    sale's split and the refunds of that sale posted before the payout was made.
    """
    payouts = Payout.objects.select_related("creator__creator_profile").filter(payout_no=payout_no)
    if not user.has_perm("payments.view_payout"):
        payouts = payouts.filter(creator=user)
    payout = payouts.first()
    if payout is None:
        raise Http404("No such payout.")
    allocations = list(payout.allocations.select_related("sale__payment__order__course").order_by("id"))
    sales = [allocation.sale for allocation in allocations]
    refund_entries = list(
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REFUND,
            payment_id__in=[sale.payment_id for sale in sales],
            created_at__lte=payout.created_at,
        )
        .select_related("refund")
        .order_by("occurred_at", "pk")
    )
    moved = _lines_by_entry([sale.pk for sale in sales] + [entry.pk for entry in refund_entries])
    lines = []
    for allocation in allocations:
        sale = allocation.sale
        order = sale.payment.order
        refunds = tuple(
            StatementRefund(
                refund_no=entry.refund.refund_no if entry.refund else entry.reference,
                refunded_at=entry.occurred_at,
                amount_fen=-moved[entry.pk]["clearing"],
                from_creator_fen=moved[entry.pk]["creator"],
            )
            for entry in refund_entries
            if entry.payment_id == sale.payment_id
        )
        lines.append(
            StatementLine(
                order_no=order.order_no,
                product=order.course.title,
                paid_at=sale.occurred_at,
                gross_fen=moved[sale.pk]["clearing"],
                fee_fen=-moved[sale.pk]["revenue"],
                share_fen=-moved[sale.pk]["creator"],
                refunds=refunds,
                paid_fen=allocation.amount_fen,
            )
        )
    profile = getattr(payout.creator, "creator_profile", None)
    return PayoutStatement(
        payout=payout,
        creator_name=(profile.display_name if profile else "") or payout.creator.get_username(),
        lines=tuple(lines),
    )
