"""Creator payouts: requested by the creator (reserved at once), decided by staff, then paid.

A request reserves the amount (available → in transit) under the lock of the creator's accounts,
so concurrent requests can never reserve more than is available. Staff then approve it (a transfer
through the gateway of settings.PAYOUT_TRANSFER_CHANNEL to the creator's Alipay account), mark it
paid by a bank transfer they made, or reject it. A rejected or failed payout is released.

The transfer call happens outside any transaction: the payout is committed as "sending" first. The
gateway treats a repeated transfer with the same out_biz_no (our payout number) as the same
transfer, so sending again after a lost answer cannot pay twice; a payout left sending is sent
again by a task until the gateway answers.

A creator may cancel a payout staff have not decided yet (released like a rejection), and may have
payouts made automatically, weekly or monthly above a threshold: the scheduler asks for them through
the same reservation, and staff decide them like any other. One per creator and period, by a
database constraint.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CreatorProfile, User
from knowpay.api import ServiceError
from knowpay.enqueue import enqueue_after_commit
from knowpay.money import format_cny
from payments.gateways import UnknownChannel, gateway_get
from payments.gateways.base import Gateway, GatewayCircuitOpen, GatewayError, GatewayRejected, TransferRequest
from payments.models import Payout, PayoutAllocation, PayoutSchedule
from payments.money import fifo_allocate
from payments.selectors.earnings import creator_available_fen, sale_unpaid_settled_list
from payments.services import ledger, risk
from payments.services.notices import notice_payout
from payments.services.sweeps import sweep_backing_off, sweep_each

logger = logging.getLogger(__name__)


class PayoutError(ServiceError):
    pass


def payout_request(*, creator: User, requested_by: User, amount_fen: int) -> Payout:
    """A creator withdraws part or all of what is available; the amount is reserved at once.

    Raises:
        PayoutError: not their own earnings, not a creator, a bad amount, below the minimum, or
            more than is available now.
        RiskRefused: the payout account changed recently, or the creator is blocked (risk rules).
    """
    if requested_by.pk != creator.pk:
        raise PayoutError("You can only withdraw your own earnings.", code="not_owner")
    return _payout_reserve(creator=creator, amount_fen=amount_fen)


def _payout_reserve(*, creator: User, amount_fen: int, period: str = "") -> Payout:
    """The one way a payout comes to be, asked for or scheduled: checked, reserved, allocated."""
    if not CreatorProfile.objects.filter(user=creator).exists():
        raise PayoutError("Only creators have earnings to withdraw.", code="not_creator")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise PayoutError("The payout amount must be a positive number of fen.", code="bad_amount")
    if amount_fen < settings.PAYOUT_MIN_FEN:
        raise PayoutError(f"The minimum payout is {format_cny(settings.PAYOUT_MIN_FEN)}.", code="below_minimum")
    risk.risk_payout_check(creator=creator, action="payout_request")
    # A look without locks first, so an amount beyond the balance writes nothing (the row below goes
    # in before the lock); the check under the lock is the one that decides.
    if amount_fen > (available := creator_available_fen(creator_id=creator.pk)):
        raise PayoutError(f"You can withdraw at most {format_cny(max(available, 0))} now.", code="exceeds_available")
    with transaction.atomic():
        # The payout row goes in before the accounts are locked: inserting it waits for anyone
        # holding the creator's user row, which must never happen while we hold their accounts.
        payout = _payout_create(creator=creator, amount_fen=amount_fen, period=period)
        accounts = ledger.ledger_creator_accounts_lock(creator_id=creator.pk)
        available = accounts.available.balance_fen
        if amount_fen > available:
            raise PayoutError(
                f"You can withdraw at most {format_cny(max(available, 0))} now.", code="exceeds_available"
            )
        taken = fifo_allocate(amount_fen=amount_fen, sources=sale_unpaid_settled_list(creator_id=creator.pk))
        PayoutAllocation.objects.bulk_create(
            [PayoutAllocation(payout=payout, sale_id=sale_id, amount_fen=fen) for sale_id, fen in taken]
        )
        ledger.ledger_payout_reserve_post(payout=payout)
    return payout


def _payout_create(*, creator: User, amount_fen: int, period: str) -> Payout:
    origin = Payout.Origin.SCHEDULED if period else Payout.Origin.REQUESTED
    for _ in range(3):
        payout_no = f"PO{timezone.localtime():%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"
        try:
            with transaction.atomic():
                return Payout.objects.create(
                    payout_no=payout_no, creator=creator, amount_fen=amount_fen, origin=origin, period=period
                )
        except IntegrityError:
            if period and Payout.objects.filter(creator=creator, period=period).exists():
                raise PayoutError(f"The payout of {period} exists already.", code="period_paid") from None
            continue
    raise PayoutError("Could not create the payout; please try again.", code="conflict")


def _lock_requested(payout: Payout) -> Payout:
    payout = Payout.objects.select_for_update(no_key=True).get(pk=payout.pk)
    if payout.status != Payout.Status.REQUESTED:
        raise PayoutError(f"This payout is already {payout.get_status_display().lower()}.", code="decided")
    return payout


def _decide(payout: Payout, *, staff: User, note: str) -> None:
    payout.decided_by = staff
    payout.decided_at = timezone.now()
    payout.decision_note = note[:300]


def payout_approve(*, payout: Payout, staff: User, note: str = "") -> Payout:
    """Staff approve a requested payout: it is transferred to the creator's Alipay account.

    Raises: PayoutError if it is already decided, the creator has no payout account, or transfers
    are not available; RiskRefused if the payout account changed recently (a transfer would go to it).
    """
    channel = settings.PAYOUT_TRANSFER_CHANNEL
    risk.risk_payout_check(creator=payout.creator, action="payout_approve", payout=payout)
    with transaction.atomic():
        payout = _lock_requested(payout)
        profile = CreatorProfile.objects.filter(user_id=payout.creator_id).first()
        if profile is None or not profile.payout_alipay_account or not profile.payout_alipay_name:
            raise PayoutError(
                "The creator has no Alipay account and name for payouts; pay by bank transfer instead.",
                code="no_payout_account",
            )
        _transfer_gateway(channel)
        payout.status = Payout.Status.SENDING
        payout.method = Payout.Method.GATEWAY_TRANSFER
        payout.channel = channel
        payout.payee_account = profile.payout_alipay_account
        payout.payee_name = profile.payout_alipay_name
        _decide(payout, staff=staff, note=note)
        payout.save()
        notice_payout(payout=payout)
        _send_after_commit(payout)
    return payout


def _transfer_gateway(channel: str) -> Gateway:
    try:
        gateway = gateway_get(channel)
    except UnknownChannel:
        gateway = None
    if gateway is None or not gateway.supports_transfer:
        raise PayoutError(
            f"Transfers are not available: the {channel!r} channel is not enabled or cannot transfer.",
            code="transfer_unavailable",
        )
    return gateway


def payout_mark_paid_by_bank(*, payout: Payout, staff: User, reference: str, note: str = "") -> Payout:
    """Staff paid a requested payout themselves by bank transfer; `reference` identifies that transfer.

    Raises: PayoutError without a reference, or if the payout is already decided.
    """
    reference = reference.strip()
    if not reference:
        raise PayoutError("Enter the reference of the bank transfer.", code="no_reference")
    with transaction.atomic():
        payout = _lock_requested(payout)
        payout.status = Payout.Status.PAID
        payout.method = Payout.Method.BANK_TRANSFER
        payout.bank_reference = reference[:100]
        payout.paid_at = timezone.now()
        _decide(payout, staff=staff, note=note)
        payout.save()
        ledger.ledger_payout_paid_post(payout=payout)
        notice_payout(payout=payout)
    return payout


def payout_cancel(*, payout: Payout, creator: User) -> Payout:
    """The creator takes back a payout staff have not decided yet; the amount is available again.

    Under the payout's row lock, as staff decisions are: a cancel racing an approval either wins
    (the approval then finds it cancelled) or finds it decided.
    Raises: PayoutError if it is not theirs or staff decided it already.
    """
    if payout.creator_id != creator.pk:
        raise PayoutError("You can only cancel your own payouts.", code="not_owner")
    with transaction.atomic():
        payout = _lock_requested(payout)
        payout.status = Payout.Status.CANCELLED
        _decide(payout, staff=creator, note="Cancelled by the creator.")
        payout.save()
        ledger.ledger_payout_release_post(payout=payout)
    return payout


def payout_reject(*, payout: Payout, staff: User, note: str) -> Payout:
    """Staff reject a requested payout; the amount is available again. Raises PayoutError if decided."""
    with transaction.atomic():
        payout = _lock_requested(payout)
        payout.status = Payout.Status.REJECTED
        _decide(payout, staff=staff, note=note)
        payout.save()
        ledger.ledger_payout_release_post(payout=payout)
        notice_payout(payout=payout)
    return payout


def _send_after_commit(payout: Payout) -> None:
    from payments.tasks import payout_send_task  # tasks import services; the reverse only here

    enqueue_after_commit(payout_send_task, payout.pk)


def payout_send(*, payout_id: int) -> Payout:
    """Transfer a sending payout through its gateway and apply the answer.

    A verifiable refusal fails the payout and releases its amount; an unconfirmed transfer stays
    sending. Raises: GatewayError when the gateway could not be reached (the caller retries), or
    PayoutError when its channel can no longer transfer (it stays sending until that is fixed).
    """
    payout = Payout.objects.get(pk=payout_id)
    if payout.status != Payout.Status.SENDING:
        return payout
    request = TransferRequest(
        out_biz_no=payout.payout_no,
        amount_fen=payout.amount_fen,
        payee_account=payout.payee_account,
        payee_name=payout.payee_name,
        remark=f"KnowPay earnings {payout.payout_no}",
    )
    try:
        result = _transfer_gateway(payout.channel).transfer(request)
    except GatewayRejected as exc:
        logger.warning("payout refused by gateway", extra={"payout_no": payout.payout_no, "code": exc.code})
        return _payout_fail(payout_id=payout.pk, reason=f"{exc.code}: {exc}")
    except GatewayError:
        logger.warning("payout not confirmed; will retry", extra={"payout_no": payout.payout_no}, exc_info=True)
        raise
    if not result.succeeded:
        logger.info("payout accepted but not done yet", extra={"payout_no": payout.payout_no})
        return payout
    return _payout_transfer_succeed(payout_id=payout.pk, transfer_no=result.transfer_no)


@transaction.atomic
def _payout_transfer_succeed(*, payout_id: int, transfer_no: str) -> Payout:
    payout = Payout.objects.select_for_update(no_key=True).get(pk=payout_id)
    if payout.status != Payout.Status.SENDING:
        return payout
    payout.status = Payout.Status.PAID
    payout.transfer_no = transfer_no[:64]
    payout.paid_at = timezone.now()
    payout.save(update_fields=["status", "transfer_no", "paid_at", "updated_at"])
    ledger.ledger_payout_paid_post(payout=payout)
    notice_payout(payout=payout)
    return payout


@transaction.atomic
def _payout_fail(*, payout_id: int, reason: str) -> Payout:
    payout = Payout.objects.select_for_update(no_key=True).get(pk=payout_id)
    if payout.status != Payout.Status.SENDING:
        return payout
    payout.status = Payout.Status.FAILED
    payout.failure_reason = reason[:300]
    payout.save(update_fields=["status", "failure_reason", "updated_at"])
    ledger.ledger_payout_release_post(payout=payout)
    notice_payout(payout=payout)
    return payout


def payouts_send_stuck(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Send again the payouts still sending (a lost answer, a gateway outage), oldest first.

    Returns how many finished.
    """
    stuck = (
        Payout.objects.filter(status=Payout.Status.SENDING, updated_at__lte=timezone.now() - older_than)
        .exclude(pk__in=sweep_backing_off(sweep="payouts_send"))
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)
    )
    paused: set[str] = set()  # channels whose circuit is open: not asked again in this sweep
    finished = sweep_each(
        sweep="payouts_send",
        model=Payout,
        ids=list(stuck[:200]),
        work=lambda pk: _payout_send_stuck(pk, paused=paused),
    )
    return sum(finished)


def _payout_send_stuck(payout_id: int, *, paused: set[str]) -> bool:
    channel = Payout.objects.values_list("channel", flat=True).get(pk=payout_id)
    if channel in paused:
        return False  # it waits for the next sweep
    try:
        payout = payout_send(payout_id=payout_id)
    except GatewayCircuitOpen:
        paused.add(channel)
        logger.info("payout sweep paused: the transfer channel's circuit is open", extra={"channel": channel})
        return False
    except (GatewayError, PayoutError):
        logger.warning("payout still unconfirmed", extra={"payout": payout_id}, exc_info=True)
        return False
    return payout.status != Payout.Status.SENDING


# --- Payouts on a schedule ---------------------------------------------------------------------


def payout_period(*, frequency: str, day: dt.date) -> tuple[str, dt.date]:
    """The period `day` falls in, as (its key, its first day): ISO weeks from Monday, calendar months.

    >>> payout_period(frequency="weekly", day=dt.date(2026, 12, 2))
    ('2026-W49', datetime.date(2026, 11, 30))
    >>> payout_period(frequency="monthly", day=dt.date(2026, 12, 2))
    ('2026-12', datetime.date(2026, 12, 1))
    """
    if frequency == PayoutSchedule.Frequency.WEEKLY:
        year, week, weekday = day.isocalendar()
        return f"{year}-W{week:02d}", day - dt.timedelta(days=weekday - 1)
    if frequency == PayoutSchedule.Frequency.MONTHLY:
        return f"{day:%Y-%m}", day.replace(day=1)
    raise ValueError(f"no periods for {frequency!r}")


def payout_period_next_start(*, frequency: str, start: dt.date) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    if frequency == PayoutSchedule.Frequency.WEEKLY:
        return start + dt.timedelta(days=7)
    return (start + dt.timedelta(days=32)).replace(day=1)


def payout_schedule_set(*, creator: User, frequency: str, threshold_fen: int) -> PayoutSchedule:
    """The creator chooses automatic payouts (weekly, monthly) above a threshold, or only by hand (off).

    Choosing a new frequency starts with the next period that begins from today on.
    Raises: PayoutError for a non-creator, an unknown frequency or a threshold below PAYOUT_MIN_FEN.
    """
    if not CreatorProfile.objects.filter(user=creator).exists():
        raise PayoutError("Only creators have earnings to withdraw.", code="not_creator")
    if frequency not in PayoutSchedule.Frequency.values:
        raise PayoutError("Choose weekly, monthly or only when you ask.", code="bad_frequency")
    if not isinstance(threshold_fen, int) or isinstance(threshold_fen, bool) or threshold_fen < settings.PAYOUT_MIN_FEN:
        raise PayoutError(
            f"The threshold must be at least {format_cny(settings.PAYOUT_MIN_FEN)}, the minimum payout.",
            code="below_minimum",
        )
    today = timezone.localdate()
    with transaction.atomic():
        schedule, created = PayoutSchedule.objects.select_for_update().get_or_create(
            creator=creator, defaults={"frequency": frequency, "threshold_fen": threshold_fen, "active_since": today}
        )
        if not created:
            if schedule.frequency != frequency:
                schedule.active_since = today
            schedule.frequency = frequency
            schedule.threshold_fen = threshold_fen
            schedule.save()
    return schedule


def payout_create_scheduled(*, creator: User, period: str, amount_fen: int) -> Payout:
    """The automatic payout of one period: reserved and allocated as any payout, then awaiting staff.

    Raises: PayoutError if this period has its payout already (the database refuses a second one),
    or the amount is no longer available.
    """
    return _payout_reserve(creator=creator, amount_fen=amount_fen, period=period)


def payouts_create_due(*, now: dt.datetime | None = None) -> int:
    """Create the automatic payouts due now (hourly): for each weekly or monthly schedule whose current
    period began after it was chosen and has no payout yet, all that is available once it reaches the
    creator's threshold. Each creator on their own (a schedule that fails is recorded and retried
    later, payments.services.sweeps); returns how many payouts were created.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    schedules = (
        PayoutSchedule.objects.exclude(frequency=PayoutSchedule.Frequency.OFF)
        .exclude(pk__in=sweep_backing_off(sweep="payouts_create", now=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    created = sweep_each(
        sweep="payouts_create",
        model=PayoutSchedule,
        ids=list(schedules),
        work=lambda pk: _payout_create_due(schedule_id=pk, today=today),
        now=now,
    )
    return sum(created)


def _payout_create_due(*, schedule_id: int, today: dt.date) -> bool:
    schedule = PayoutSchedule.objects.select_related("creator").get(pk=schedule_id)
    period, start = payout_period(frequency=schedule.frequency, day=today)
    if start < schedule.active_since or Payout.objects.filter(creator=schedule.creator, period=period).exists():
        return False
    available = creator_available_fen(creator_id=schedule.creator_id)
    if available < max(schedule.threshold_fen, settings.PAYOUT_MIN_FEN):
        return False
    try:
        payout_create_scheduled(creator=schedule.creator, period=period, amount_fen=available)
    except PayoutError as exc:
        # Another run made it, or a payout asked for meanwhile took part of it: the next run looks again.
        logger.info("scheduled payout not created", extra={"creator": schedule.creator_id, "code": exc.code})
        return False
    return True
