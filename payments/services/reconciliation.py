"""Reconciliation: a gateway's daily bill against our records and the ledger, repairing what we missed.

The bill is not signed, so it never changes state by itself: an entry we have not applied yet is
confirmed by querying the gateway (signed), through the same apply path as a notification. What
cannot be repaired is recorded as an item for staff, one class per kind of difference:

- missing here: the bill moved money under a number we never issued;
- missing on bill: we recorded a success the bill does not list;
- amount: the bill and we disagree on an amount;
- status: the bill says done, ours is not, even after asking the gateway;
- fee: the bill's gateway fee is not what the contracted rate (settings.GATEWAY_FEE_BPS) gives, or
  not what was booked for it before.

Every fee on the bill is booked to the ledger (the platform's cost, never a creator's) under a
unique reference, so running the same day again books nothing twice. Then the three-way check:
the bill's totals, our payments and refunds of the day, and the day's movement of the channel's
gateway clearing account in the ledger must agree (ReconciliationRun.differences).

A run that cannot finish, whatever the reason, is left `failed` with the reason, never `running`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from knowpay.metrics import RECONCILIATION_RUNS
from payments.gateways import gateway_get
from payments.gateways.base import GatewayError, Statement, StatementEntry, StatementEntryKind
from payments.models import (
    Alert,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    Payment,
    ReconciliationItem,
    ReconciliationRun,
    Refund,
)
from payments.money import gateway_fee_expected, gateway_fee_returned_expected
from payments.services import ledger
from payments.services.alerts import alert_raise, alert_resolve
from payments.services.events import EventMismatch
from payments.services.refunds import refund_sync
from payments.services.sync import payment_sync

logger = logging.getLogger(__name__)
Kind = ReconciliationItem.Kind
Entry = LedgerEntry.Kind


@dataclass
class _Findings:
    items: list[ReconciliationItem] = field(default_factory=list)

    def add(self, kind: str, entry_kind: str, out_trade_no: str, **fields) -> None:
        self.items.append(ReconciliationItem(kind=kind, entry_kind=entry_kind, out_trade_no=out_trade_no, **fields))


def reconciliation_run(*, channel: str, day: dt.date) -> ReconciliationRun:
    """Fetch `channel`'s bill for `day`, compare it with our records and the ledger, repair, book the
    gateway's fees, and record the differences.

    Raises: GatewayError if the bill could not be fetched; anything else that stopped the run. In
    every case the run is recorded as failed, with the reason.
    """
    run, _ = ReconciliationRun.objects.update_or_create(
        channel=channel,
        day=day,
        defaults={"status": ReconciliationRun.Status.RUNNING, "started_at": timezone.now(), "finished_at": None},
    )
    try:
        _reconcile(run, gateway_get(channel).fetch_statement(day))
    except BaseException as exc:
        code = f"{exc.code}: " if isinstance(exc, GatewayError) else f"{type(exc).__name__}: "
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=ReconciliationRun.Status.FAILED, finished_at=timezone.now(), detail=f"{code}{exc}"[:2000]
        )
        RECONCILIATION_RUNS.labels(channel=channel, status=ReconciliationRun.Status.FAILED).inc()
        logger.warning("reconciliation failed", extra={"channel": channel, "day": str(day), "error": repr(exc)[:300]})
        alert_raise(
            kind=Alert.Kind.RECONCILIATION_FAILED,
            incident_key=f"reconciliation-failed:{channel}:{day}",
            subject=f"Reconciliation of {channel} for {day} could not run",
            body=f"{code}{exc}"[:2000],
        )
        raise
    alert_resolve(incident_key=f"reconciliation-failed:{channel}:{day}")
    run.refresh_from_db()
    RECONCILIATION_RUNS.labels(channel=channel, status=run.status).inc()
    _alert_on_discrepancies(run)
    return run


def _alert_on_discrepancies(run: ReconciliationRun) -> None:
    """One incident per channel and day, open while its runs find discrepancies."""
    key = f"reconciliation:{run.channel}:{run.day}"
    if run.status != ReconciliationRun.Status.DISCREPANCIES:
        alert_resolve(incident_key=key, note="A later run of the same bill balanced.")
        return
    counts: dict[str, int] = {}
    for item in run.items.exclude(kind=Kind.REPAIRED):
        counts[item.get_kind_display()] = counts.get(item.get_kind_display(), 0) + 1
    lines = [f"{label}: {count}" for label, count in sorted(counts.items())] + run.totals_differences()
    alert_raise(
        kind=Alert.Kind.RECONCILIATION_DISCREPANCIES,
        incident_key=key,
        subject=f"Reconciliation of {run.channel} for {run.day} found discrepancies",
        body="\n".join(lines),
    )


def _reconcile(run: ReconciliationRun, statement: Statement) -> None:
    channel, day = run.channel, run.day
    findings = _Findings()
    payments = [e for e in statement.entries if e.kind == StatementEntryKind.PAYMENT]
    refunds = [e for e in statement.entries if e.kind == StatementEntryKind.REFUND]
    for entry in statement.entries:
        _check_entry(channel, entry, findings)
    ours_paid, ours_refunded = _ours_missing_on_bill(channel, day, payments, refunds, findings)

    with transaction.atomic():
        run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)  # one booking of fees at a time
        for entry in statement.entries:
            _book_fee(channel, entry, findings)
        moved = _clearing_moved(channel, day)
        run.items.all().delete()
        ReconciliationItem.objects.bulk_create([_with_run(item, run) for item in findings.items])
        run.finished_at = timezone.now()
        run.bill_entries = len(statement.entries)
        run.bill_payments_fen = sum(e.amount_fen for e in payments)
        run.bill_refunds_fen = sum(e.amount_fen for e in refunds)
        run.bill_fees_fen = sum(e.fee_fen for e in payments) - sum(e.fee_fen for e in refunds)
        run.our_payments_fen = ours_paid
        run.our_refunds_fen = ours_refunded
        run.ledger_payments_fen, run.ledger_refunds_fen, run.ledger_fees_fen = moved
        run.detail = ""
        unresolved = any(item.kind != Kind.REPAIRED for item in findings.items) or bool(run.totals_differences())
        run.status = ReconciliationRun.Status.DISCREPANCIES if unresolved else ReconciliationRun.Status.BALANCED
        run.save()
    if unresolved:
        logger.warning("reconciliation found discrepancies", extra={"channel": channel, "day": str(day)})


def _with_run(item: ReconciliationItem, run: ReconciliationRun) -> ReconciliationItem:
    item.run = run
    return item


def _ours_for(channel: str, entry: StatementEntry) -> Payment | Refund | None:
    if entry.kind == StatementEntryKind.PAYMENT:
        return Payment.objects.filter(channel=channel, out_trade_no=entry.out_trade_no).first()
    return (
        Refund.objects.filter(refund_no=entry.out_refund_no, payment__channel=channel).select_related("payment").first()
    )


def _check_entry(channel: str, entry: StatementEntry, findings: _Findings) -> None:
    """Find our payment or refund for one bill entry; confirm by a signed query what we have not applied."""
    ids = {"out_refund_no": entry.out_refund_no} if entry.kind == StatementEntryKind.REFUND else {}

    def add(kind: str, **fields) -> None:
        findings.add(kind, entry.kind, entry.out_trade_no, bill_amount_fen=entry.amount_fen, **ids, **fields)

    ours = _ours_for(channel, entry)
    if ours is None:
        add(Kind.MISSING_HERE, note=f"The gateway moved money under a {entry.kind} number we never issued.")
        return
    if ours.amount_fen != entry.amount_fen:
        add(Kind.AMOUNT_MISMATCH, our_amount_fen=ours.amount_fen)
        return
    # Payments and refunds share the status "succeeded".
    if ours.status == Payment.Status.SUCCEEDED:
        return
    try:
        if entry.kind == StatementEntryKind.PAYMENT:
            payment_sync(payment=ours)
        else:
            refund_sync(refund_id=ours.pk)
    except (GatewayError, EventMismatch) as exc:
        logger.warning("reconciliation could not confirm an entry", extra={"out_trade_no": entry.out_trade_no})
        add(Kind.STATUS_MISMATCH, our_amount_fen=ours.amount_fen, note=f"Ours is {ours.status}; query failed: {exc}")
        return
    ours.refresh_from_db()
    if ours.status == Payment.Status.SUCCEEDED:
        add(Kind.REPAIRED, our_amount_fen=ours.amount_fen, note="Done at the gateway; applied from its query.")
    else:
        add(Kind.STATUS_MISMATCH, our_amount_fen=ours.amount_fen, note=f"On the bill as done; ours is {ours.status}.")


def _expected_fee(channel: str, entry: StatementEntry, ours: Payment | Refund | None) -> int | None:
    """The fee the contracted rate gives for this entry, or None when there is nothing to check it by."""
    rate_bps = settings.GATEWAY_FEE_BPS.get(channel)
    if rate_bps is None or ours is None or ours.amount_fen != entry.amount_fen:
        return None
    if entry.kind == StatementEntryKind.PAYMENT:
        return gateway_fee_expected(amount_fen=entry.amount_fen, rate_bps=rate_bps)
    earlier = Refund.objects.filter(payment_id=ours.payment_id, status=Refund.Status.SUCCEEDED).exclude(pk=ours.pk)
    before = sum(
        fen
        for succeeded_at, pk, fen in earlier.values_list("succeeded_at", "pk", "amount_fen")
        if (succeeded_at, pk) < (ours.succeeded_at or timezone.now(), ours.pk)
    )
    return gateway_fee_returned_expected(
        payment_fen=ours.payment.amount_fen, rate_bps=rate_bps, refunded_before_fen=before, refund_fen=ours.amount_fen
    )


def _book_fee(channel: str, entry: StatementEntry, findings: _Findings) -> None:
    """Book the fee of one bill entry once; report a fee off the contracted rate or off what was booked."""
    ours = _ours_for(channel, entry)
    is_payment = entry.kind == StatementEntryKind.PAYMENT
    ids = {} if is_payment else {"out_refund_no": entry.out_refund_no}
    expected = _expected_fee(channel, entry, ours)
    if expected is not None and expected != entry.fee_fen:
        findings.add(
            Kind.FEE_MISMATCH,
            entry.kind,
            entry.out_trade_no,
            bill_fee_fen=entry.fee_fen,
            expected_fee_fen=expected,
            note=f"The contracted rate gives {expected} fen; booked as billed.",
            **ids,
        )
    if entry.fee_fen == 0:
        return
    kind = Entry.GATEWAY_FEE if is_payment else Entry.GATEWAY_FEE_RETURN
    number = entry.out_trade_no if is_payment else entry.out_refund_no
    reference = ledger.ledger_gateway_fee_reference(channel=channel, kind=kind, number=number)
    booked = LedgerLine.objects.filter(entry__reference=reference, amount_fen__gt=0).aggregate(
        fen=Coalesce(Sum("amount_fen"), 0)
    )["fen"]
    if booked == 0:
        ledger.ledger_gateway_fee_post(
            channel=channel,
            kind=kind,
            number=number,
            fee_fen=entry.fee_fen,
            occurred_at=entry.occurred_at,
            payment=ours if is_payment else (ours.payment if ours else None),
            refund=None if is_payment else ours,
        )
    elif booked != entry.fee_fen:
        findings.add(
            Kind.FEE_MISMATCH,
            entry.kind,
            entry.out_trade_no,
            bill_fee_fen=entry.fee_fen,
            expected_fee_fen=booked,
            note=f"{booked} fen was booked for this fee from an earlier bill; the bill now says {entry.fee_fen} fen.",
            **ids,
        )


def _clearing_moved(channel: str, day: dt.date) -> tuple[int, int, int]:
    """How the channel's clearing account moved by entries of `day`: payments in, refunds out, net fees out.

    Payout transfers are left out: the trade bills do not list them.
    """
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    lines = LedgerLine.objects.filter(
        account__kind=LedgerAccount.Kind.GATEWAY_CLEARING,
        account__channel=channel,
        entry__occurred_at__gte=start,
        entry__occurred_at__lt=start + dt.timedelta(days=1),
    )
    totals = lines.aggregate(
        paid=Coalesce(Sum("amount_fen", filter=Q(entry__kind__in=[Entry.SALE, Entry.DUPLICATE_PAYMENT])), 0),
        refunded=Coalesce(-Sum("amount_fen", filter=Q(entry__kind=Entry.REFUND)), 0),
        fees=Coalesce(-Sum("amount_fen", filter=Q(entry__kind__in=LedgerEntry.GATEWAY_FEE_KINDS)), 0),
    )
    return totals["paid"], totals["refunded"], totals["fees"]


def _ours_missing_on_bill(
    channel: str, day: dt.date, payments: list[StatementEntry], refunds: list[StatementEntry], findings: _Findings
) -> tuple[int, int]:
    """Our successes of that day that the bill does not list; returns our totals for the day."""
    on_bill_trades = {e.out_trade_no for e in payments}
    on_bill_refunds = {e.out_refund_no for e in refunds}
    ours = Payment.objects.filter(channel=channel, status=Payment.Status.SUCCEEDED, succeeded_at__date=day)
    ours_paid = 0
    for out_trade_no, amount in ours.values_list("out_trade_no", "amount_fen"):
        ours_paid += amount
        if out_trade_no not in on_bill_trades:
            findings.add(
                Kind.MISSING_ON_BILL,
                StatementEntryKind.PAYMENT,
                out_trade_no,
                our_amount_fen=amount,
                note="We recorded this payment; the gateway's bill does not list it.",
            )
    our_refunds = Refund.objects.filter(
        payment__channel=channel, status=Refund.Status.SUCCEEDED, succeeded_at__date=day
    ).select_related("payment")
    ours_refunded = 0
    for refund in our_refunds:
        ours_refunded += refund.amount_fen
        if refund.refund_no not in on_bill_refunds:
            findings.add(
                Kind.MISSING_ON_BILL,
                StatementEntryKind.REFUND,
                refund.payment.out_trade_no,
                out_refund_no=refund.refund_no,
                our_amount_fen=refund.amount_fen,
                note="We recorded this refund; the gateway's bill does not list it.",
            )
    return ours_paid, ours_refunded


def reconciliation_run_all(*, day: dt.date | None = None) -> list[ReconciliationRun]:
    """Reconcile every enabled channel for `day` (default: yesterday, Beijing time).

    A channel that fails is recorded failed and the next one still runs; returns every channel's run.
    """
    day = day or timezone.localdate() - dt.timedelta(days=1)
    runs = []
    for channel in settings.PAYMENTS_CHANNELS:
        try:
            reconciliation_run(channel=channel, day=day)
        except Exception:
            logger.exception("reconciliation of a channel failed", extra={"channel": channel, "day": str(day)})
        runs.append(ReconciliationRun.objects.get(channel=channel, day=day))
    return runs
