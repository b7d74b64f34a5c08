"""The double-entry ledger: what is posted where, for every movement of money.

Accounts (payments.models.LedgerAccount):
  gateway clearing, per channel     asset      money a gateway holds for us
  bank                              asset      our bank account, from which staff pay creators by hand
  platform revenue                  revenue    platform fees
  refunds payable                   liability  duplicate payments owed back to their payers
  creator pending / available / in transit, per creator   liability   what we owe each creator

Postings (G gross, F fee, N = G - F, R a refund with fee share f, P a payout; see payments.money):
  sale                  Dr clearing G              Cr revenue F, Cr creator pending N
  duplicate payment     Dr clearing G              Cr refunds payable G
  refund of a sale      Dr revenue f, Dr creator pending R - f (sale still held) or available (settled)
                                                   Cr clearing R
  refund of a duplicate Dr refunds payable R       Cr clearing R
  settlement            Dr creator pending         Cr creator available (what is left of the sale)
  payout requested      Dr creator available P     Cr creator in transit P
  payout paid           Dr creator in transit P    Cr clearing of the transfer channel P, or Cr bank P
  payout released       the reversal of "payout requested" (rejected, or the transfer failed)
  gateway fee F' (bill) Dr gateway fees F'         Cr clearing F'        (the platform's cost, never a creator's)
  gateway fee returned  Dr clearing f'             Cr gateway fees f'    (a refund's fee, where the bill gives it back)

Every entry sums to zero and carries a unique reference naming its business event, so nothing is
posted twice. Callers hold the locks of the business rows (order, payment, refund, payout); a
posting then locks the creator accounts it touches, in primary-key order, and changes their cached
balances. Shared accounts are only appended to. Lock order everywhere: order, payment, refund,
payout, creator accounts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from knowpay.money import format_cny
from payments.models import LedgerAccount, LedgerEntry, LedgerLine, Order, Payment, Payout, Refund
from payments.money import refund_split, sale_split

logger = logging.getLogger(__name__)

Kind = LedgerAccount.Kind
Entry = LedgerEntry.Kind


class LedgerError(Exception):
    """A posting that would break the ledger's rules. A bug to fix, never a user's mistake."""


@dataclass(frozen=True)
class CreatorAccounts:
    pending: LedgerAccount
    available: LedgerAccount
    in_transit: LedgerAccount


def _shared_account(kind: str, channel: str = "") -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(kind=kind, creator=None, channel=channel)
    return account


def _creator_accounts(creator_id: int) -> CreatorAccounts:
    found = {account.kind: account for account in LedgerAccount.objects.filter(creator_id=creator_id)}
    if len(found) < len(LedgerAccount.CREATOR_KINDS):
        # All three are created together and always in this order, so that two first postings
        # for a new creator cannot each create one and then wait for the other's.
        for kind in LedgerAccount.CREATOR_KINDS:
            if kind not in found:
                found[kind], _ = LedgerAccount.objects.get_or_create(
                    kind=kind, creator_id=creator_id, defaults={"balance_fen": 0}
                )
    return CreatorAccounts(
        pending=found[Kind.CREATOR_PENDING],
        available=found[Kind.CREATOR_AVAILABLE],
        in_transit=found[Kind.CREATOR_IN_TRANSIT],
    )


def ledger_creator_accounts_lock(*, creator_id: int) -> CreatorAccounts:
    """Lock a creator's accounts (primary-key order) for a rule that reads their balances."""
    _creator_accounts(creator_id)
    locked = {
        account.kind: account
        for account in LedgerAccount.objects.select_for_update(no_key=True).filter(creator_id=creator_id).order_by("pk")
    }
    return CreatorAccounts(
        pending=locked[Kind.CREATOR_PENDING],
        available=locked[Kind.CREATOR_AVAILABLE],
        in_transit=locked[Kind.CREATOR_IN_TRANSIT],
    )


def _post(
    *,
    kind: str,
    reference: str,
    description: str,
    legs: list[tuple[LedgerAccount, int]],
    creator_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    payout_id: int | None = None,
    reverses: LedgerEntry | None = None,
    settles_at: dt.datetime | None = None,
    occurred_at: dt.datetime,
) -> LedgerEntry:
    legs = [(account, amount) for account, amount in legs if amount != 0]
    if len(legs) < 2 or sum(amount for _, amount in legs) != 0:
        raise LedgerError(f"{reference}: an entry needs two or more lines summing to zero, got {legs}")
    cached = sorted({account.pk for account, _ in legs if account.is_cached})
    if cached:
        list(LedgerAccount.objects.select_for_update(no_key=True).filter(pk__in=cached).order_by("pk").values("pk"))
    entry = LedgerEntry.objects.create(
        kind=kind,
        reference=reference,
        description=description[:300],
        creator_id=creator_id,
        payment_id=payment_id,
        refund_id=refund_id,
        payout_id=payout_id,
        reverses=reverses,
        settles_at=settles_at,
        occurred_at=occurred_at,
    )
    LedgerLine.objects.bulk_create([LedgerLine(entry=entry, account=a, amount_fen=amount) for a, amount in legs])
    for account, amount in legs:
        if account.is_cached:
            LedgerAccount.objects.filter(pk=account.pk).update(balance_fen=F("balance_fen") + account.sign * amount)
    return entry


def _reverse(entry: LedgerEntry, *, kind: str, reference: str, description: str) -> LedgerEntry:
    lines = list(entry.lines.select_related("account"))
    return _post(
        kind=kind,
        reference=reference,
        description=description,
        legs=[(line.account, -line.amount_fen) for line in lines],
        creator_id=entry.creator_id,
        payment_id=entry.payment_id,
        payout_id=entry.payout_id,
        reverses=entry,
        occurred_at=timezone.now(),
    )


def _fee_bps(creator: User) -> int:
    profile = getattr(creator, "creator_profile", None)
    if profile is None or profile.platform_fee_bps is None:
        return settings.PLATFORM_FEE_BPS
    return profile.platform_fee_bps


def _percent(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}%"


# --- Hooks of the payment core: called inside its transaction, with its rows locked -----------------
# Postings take no savepoint of their own (savepoint=False): they raise only on bugs, and then the
# caller's whole transaction must roll back anyway.


@transaction.atomic(savepoint=False)
def ledger_sale_post(*, payment: Payment) -> LedgerEntry:
    """A primary payment succeeded: gross to gateway clearing, fee to the platform, the rest to the creator."""
    order = payment.order
    course = order.course
    fee_bps = _fee_bps(course.creator)
    split = sale_split(gross_fen=payment.amount_fen, fee_bps=fee_bps)
    return _post(
        kind=Entry.SALE,
        reference=f"sale:{payment.out_trade_no}",
        description=f"Sale of “{course.title[:150]}” (order {order.order_no}); platform fee {_percent(fee_bps)}",
        legs=[
            (_shared_account(Kind.GATEWAY_CLEARING, payment.channel), split.gross_fen),
            (_shared_account(Kind.PLATFORM_REVENUE), -split.fee_fen),
            (_creator_accounts(course.creator_id).pending, -split.net_fen),
        ],
        creator_id=course.creator_id,
        payment_id=payment.pk,
        settles_at=payment.succeeded_at + dt.timedelta(days=settings.SETTLEMENT_HOLD_DAYS),
        occurred_at=payment.succeeded_at,
    )


@transaction.atomic(savepoint=False)
def ledger_duplicate_payment_post(*, payment: Payment) -> LedgerEntry:
    """A duplicate payment arrived: the money is owed back to the payer."""
    return _post(
        kind=Entry.DUPLICATE_PAYMENT,
        reference=f"duplicate:{payment.out_trade_no}",
        description=f"Duplicate payment {payment.out_trade_no}, owed back to the payer",
        legs=[
            (_shared_account(Kind.GATEWAY_CLEARING, payment.channel), payment.amount_fen),
            (_shared_account(Kind.REFUNDS_PAYABLE), -payment.amount_fen),
        ],
        payment_id=payment.pk,
        occurred_at=payment.succeeded_at,
    )


@dataclass(frozen=True)
class _Sale:
    gross_fen: int
    fee_fen: int
    creator_id: int
    entry: LedgerEntry | None


def _sale_of(payment: Payment) -> _Sale:
    sums = {
        "gross": Coalesce(Sum("lines__amount_fen", filter=Q(lines__account__kind=Kind.GATEWAY_CLEARING)), 0),
        "fee": Coalesce(-Sum("lines__amount_fen", filter=Q(lines__account__kind=Kind.PLATFORM_REVENUE)), 0),
    }
    entry = LedgerEntry.objects.filter(kind=Entry.SALE, payment=payment).annotate(**sums).first()
    if entry is not None:
        return _Sale(gross_fen=entry.gross, fee_fen=entry.fee, creator_id=entry.creator_id, entry=entry)
    # Only a payment made paid around the payment core lacks its sale (ledger_check reports it).
    # The gateway has returned the money all the same: record it, split as the sale would have been.
    logger.error("refund of a payment without a sale entry", extra={"out_trade_no": payment.out_trade_no})
    creator = Order.objects.select_related("course__creator__creator_profile").get(pk=payment.order_id).course.creator
    split = sale_split(gross_fen=payment.amount_fen, fee_bps=_fee_bps(creator))
    return _Sale(gross_fen=split.gross_fen, fee_fen=split.fee_fen, creator_id=creator.pk, entry=None)


def _refunded_before_fen(payment: Payment) -> int:
    earlier = LedgerLine.objects.filter(
        entry__kind=Entry.REFUND, entry__payment=payment, account__kind=Kind.GATEWAY_CLEARING
    ).aggregate(total=Coalesce(Sum("amount_fen"), 0))
    return -earlier["total"]


@transaction.atomic(savepoint=False)
def ledger_refund_post(*, refund: Refund) -> LedgerEntry:
    """A refund succeeded at the gateway: reverse the sale (or the duplicate) proportionally.

    The creator's share comes out of their held earnings while the sale is held, else out of
    what is available, which may go negative; later earnings make up for it.
    """
    payment = Payment.objects.get(pk=refund.payment_id)
    clearing = _shared_account(Kind.GATEWAY_CLEARING, payment.channel)
    reference = f"refund:{refund.refund_no}"
    if payment.is_duplicate:
        return _post(
            kind=Entry.REFUND,
            reference=reference,
            description=f"Refund {refund.refund_no} of duplicate payment {payment.out_trade_no}",
            legs=[(_shared_account(Kind.REFUNDS_PAYABLE), refund.amount_fen), (clearing, -refund.amount_fen)],
            payment_id=payment.pk,
            refund_id=refund.pk,
            occurred_at=refund.succeeded_at,
        )
    sale = _sale_of(payment)
    try:
        split = refund_split(
            gross_fen=sale.gross_fen,
            fee_fen=sale.fee_fen,
            refunded_before_fen=_refunded_before_fen(payment),
            refund_fen=refund.amount_fen,
        )
    except ValueError as exc:
        raise LedgerError(f"{reference}: {exc}") from exc
    accounts = ledger_creator_accounts_lock(creator_id=sale.creator_id)
    held = sale.entry is not None and not _is_settled(payment.pk)
    return _post(
        kind=Entry.REFUND,
        reference=reference,
        description=(
            f"Refund {refund.refund_no} of {payment.out_trade_no}: fee {format_cny(split.fee_fen)} back from the "
            f"platform, {format_cny(split.creator_fen)} from the creator's {'held' if held else 'available'} earnings"
        ),
        legs=[
            (_shared_account(Kind.PLATFORM_REVENUE), split.fee_fen),
            (accounts.pending if held else accounts.available, split.creator_fen),
            (clearing, -refund.amount_fen),
        ],
        creator_id=sale.creator_id,
        payment_id=payment.pk,
        refund_id=refund.pk,
        occurred_at=refund.succeeded_at,
    )


# --- Settlement --------------------------------------------------------------------------------------


def _is_settled(payment_id: int) -> bool:
    return LedgerEntry.objects.filter(kind=Entry.SETTLEMENT, payment_id=payment_id).exists()


@transaction.atomic(savepoint=False)
def ledger_settlement_post(*, sale: LedgerEntry, payment: Payment, amount_fen: int) -> LedgerEntry:
    """The hold of a sale ended: what is left of its creator share becomes available."""
    accounts = _creator_accounts(sale.creator_id)
    return _post(
        kind=Entry.SETTLEMENT,
        reference=f"settle:{payment.out_trade_no}",
        description=f"Hold ended for the sale {payment.out_trade_no}",
        legs=[(accounts.pending, amount_fen), (accounts.available, -amount_fen)],
        creator_id=sale.creator_id,
        payment_id=payment.pk,
        occurred_at=timezone.now(),
    )


# --- Payouts -----------------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def ledger_payout_reserve_post(*, payout: Payout) -> LedgerEntry:
    """A creator asked for a payout: the amount leaves what is available until it is paid or released."""
    accounts = _creator_accounts(payout.creator_id)
    return _post(
        kind=Entry.PAYOUT_RESERVE,
        reference=f"payout:{payout.payout_no}",
        description=f"Payout {payout.payout_no} requested",
        legs=[(accounts.available, payout.amount_fen), (accounts.in_transit, -payout.amount_fen)],
        creator_id=payout.creator_id,
        payout_id=payout.pk,
        occurred_at=timezone.now(),
    )


@transaction.atomic(savepoint=False)
def ledger_payout_paid_post(*, payout: Payout) -> LedgerEntry:
    """The money reached the creator: out of our clearing account at the gateway, or our bank."""
    if payout.method == Payout.Method.GATEWAY_TRANSFER:
        source, how = _shared_account(Kind.GATEWAY_CLEARING, payout.channel), f"by {payout.channel} transfer"
    else:
        source, how = _shared_account(Kind.BANK), f"by bank transfer {payout.bank_reference}"
    return _post(
        kind=Entry.PAYOUT_PAID,
        reference=f"payout-paid:{payout.payout_no}",
        description=f"Payout {payout.payout_no} paid {how}",
        legs=[(_creator_accounts(payout.creator_id).in_transit, payout.amount_fen), (source, -payout.amount_fen)],
        creator_id=payout.creator_id,
        payout_id=payout.pk,
        occurred_at=payout.paid_at or timezone.now(),
    )


@transaction.atomic(savepoint=False)
def ledger_payout_release_post(*, payout: Payout) -> LedgerEntry:
    """A payout was rejected or its transfer failed: the reservation is reversed."""
    reserve = LedgerEntry.objects.get(kind=Entry.PAYOUT_RESERVE, payout=payout)
    return _reverse(
        reserve,
        kind=Entry.PAYOUT_RELEASE,
        reference=f"payout-release:{payout.payout_no}",
        description=f"Payout {payout.payout_no} {payout.get_status_display().lower()}: the amount is available again",
    )


# --- Gateway fees ------------------------------------------------------------------------------------


def ledger_gateway_fee_reference(*, channel: str, kind: str, number: str) -> str:
    """The unique reference of the fee of one bill entry: a payment's out_trade_no, a refund's number."""
    prefix = "gateway-fee" if kind == Entry.GATEWAY_FEE else "gateway-fee-return"
    return f"{prefix}:{channel}:{number}"


@transaction.atomic(savepoint=False)
def ledger_gateway_fee_post(
    *,
    channel: str,
    kind: str,
    number: str,
    fee_fen: int,
    occurred_at: dt.datetime,
    payment: Payment | None = None,
    refund: Refund | None = None,
) -> LedgerEntry:
    """A gateway fee from a reconciled bill: charged on a payment, or given back with a refund.

    The platform's cost, never a creator's: between the channel's clearing and gateway fees accounts.
    """
    clearing, fees = _shared_account(Kind.GATEWAY_CLEARING, channel), _shared_account(Kind.GATEWAY_FEES, channel)
    charged = kind == Entry.GATEWAY_FEE
    return _post(
        kind=kind,
        reference=ledger_gateway_fee_reference(channel=channel, kind=kind, number=number),
        description=(
            f"{channel} fee on payment {number}" if charged else f"{channel} fee given back with refund {number}"
        ),
        legs=[(fees, fee_fen), (clearing, -fee_fen)] if charged else [(clearing, fee_fen), (fees, -fee_fen)],
        payment_id=payment.pk if payment else None,
        refund_id=refund.pk if refund else None,
        occurred_at=occurred_at,
    )
