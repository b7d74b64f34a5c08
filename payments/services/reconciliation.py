"""Reconciliation: a gateway's daily bill against our records, repairing what we missed.

The bill is not signed, so it never changes state by itself: an entry we have not applied yet is
confirmed by querying the gateway (signed), through the same apply path as a notification. What
cannot be repaired is recorded as an item for staff.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from payments.gateways import gateway_get, gateway_list
from payments.gateways.base import GatewayError, StatementEntry, StatementEntryKind
from payments.models import Payment, ReconciliationItem, ReconciliationRun, Refund
from payments.services.events import EventMismatch
from payments.services.refunds import refund_sync
from payments.services.sync import payment_sync

logger = logging.getLogger(__name__)
Kind = ReconciliationItem.Kind


@dataclass
class _Findings:
    items: list[ReconciliationItem] = field(default_factory=list)

    def add(self, kind: str, entry_kind: str, out_trade_no: str, **fields) -> None:
        self.items.append(ReconciliationItem(kind=kind, entry_kind=entry_kind, out_trade_no=out_trade_no, **fields))


def reconciliation_run(*, channel: str, day: dt.date) -> ReconciliationRun:
    """Fetch `channel`'s bill for `day`, compare it with our records, repair, and record the differences.

    Raises: GatewayError if the bill could not be fetched (the run is recorded as failed).
    """
    run, _ = ReconciliationRun.objects.update_or_create(
        channel=channel,
        day=day,
        defaults={"status": ReconciliationRun.Status.RUNNING, "started_at": timezone.now(), "finished_at": None},
    )
    try:
        statement = gateway_get(channel).fetch_statement(day)
    except GatewayError as exc:
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=ReconciliationRun.Status.FAILED, finished_at=timezone.now(), detail=f"{exc.code}: {exc}"[:2000]
        )
        raise

    findings = _Findings()
    payments = [e for e in statement.entries if e.kind == StatementEntryKind.PAYMENT]
    refunds = [e for e in statement.entries if e.kind == StatementEntryKind.REFUND]
    for entry in statement.entries:
        _check_entry(channel, entry, findings)
    ours_paid, ours_refunded = _ours_missing_on_bill(channel, day, payments, refunds, findings)

    with transaction.atomic():
        run.items.all().delete()
        ReconciliationItem.objects.bulk_create([_with_run(item, run) for item in findings.items])
        unresolved = any(item.kind != Kind.REPAIRED for item in findings.items)
        run.status = ReconciliationRun.Status.DISCREPANCIES if unresolved else ReconciliationRun.Status.BALANCED
        run.finished_at = timezone.now()
        run.bill_entries = len(statement.entries)
        run.bill_payments_fen = sum(e.amount_fen for e in payments)
        run.bill_refunds_fen = sum(e.amount_fen for e in refunds)
        run.our_payments_fen = ours_paid
        run.our_refunds_fen = ours_refunded
        run.detail = ""
        run.save()
    if unresolved:
        logger.warning("reconciliation found discrepancies", extra={"channel": channel, "day": str(day)})
    return run


def _with_run(item: ReconciliationItem, run: ReconciliationRun) -> ReconciliationItem:
    item.run = run
    return item


def _check_entry(channel: str, entry: StatementEntry, findings: _Findings) -> None:
    """Find our payment or refund for one bill entry; confirm by a signed query what we have not applied."""
    ids = {"out_refund_no": entry.out_refund_no} if entry.kind == StatementEntryKind.REFUND else {}

    def add(kind: str, **fields) -> None:
        findings.add(kind, entry.kind, entry.out_trade_no, bill_amount_fen=entry.amount_fen, **ids, **fields)

    if entry.kind == StatementEntryKind.PAYMENT:
        ours = Payment.objects.filter(channel=channel, out_trade_no=entry.out_trade_no).first()
    else:
        ours = Refund.objects.filter(refund_no=entry.out_refund_no, payment__channel=channel).first()
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
        add(Kind.MISSING_HERE, our_amount_fen=ours.amount_fen, note=f"Query failed: {exc}"[:300])
        return
    ours.refresh_from_db()
    if ours.status == Payment.Status.SUCCEEDED:
        add(Kind.REPAIRED, our_amount_fen=ours.amount_fen, note="Done at the gateway; applied from its query.")
    else:
        add(Kind.MISSING_HERE, our_amount_fen=ours.amount_fen, note=f"On the bill, but ours is {ours.status}.")


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
    """Reconcile every enabled channel for `day` (default: yesterday, Beijing time)."""
    day = day or timezone.localdate() - dt.timedelta(days=1)
    runs = []
    for gateway in gateway_list():
        try:
            runs.append(reconciliation_run(channel=gateway.channel, day=day))
        except GatewayError:
            logger.warning("bill not available", extra={"channel": gateway.channel, "day": str(day)}, exc_info=True)
    return runs
