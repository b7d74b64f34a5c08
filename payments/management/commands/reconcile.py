"""Reconcile gateways' daily bills with our records and the ledger (what the daily task runs).

Without --channel every offered channel is reconciled, one after another even when one fails; each
channel's outcome is printed, and the command exits non-zero if any failed or found differences.
"""

import contextlib
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from knowpay.money import format_cny
from payments.models import ReconciliationRun
from payments.services.reconciliation import reconciliation_run, reconciliation_run_all


class Command(BaseCommand):
    help = "Compare gateways' daily bills with our records and the ledger, repair what we missed, report the rest."

    def add_arguments(self, parser):
        parser.add_argument("--channel", help="One channel (default: every offered channel).")
        parser.add_argument("--date", help="The bill's day, YYYY-MM-DD (default: yesterday, Beijing time).")

    def handle(self, *args, channel=None, date=None, **options):
        try:
            day = dt.date.fromisoformat(date) if date else timezone.localdate() - dt.timedelta(days=1)
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from None
        if channel:
            with contextlib.suppress(Exception):  # the failure is recorded on the run, printed below
                reconciliation_run(channel=channel, day=day)
            runs = [ReconciliationRun.objects.get(channel=channel, day=day)]
        else:
            runs = reconciliation_run_all(day=day)
        for run in runs:
            self._report(run)
        failed = [run.channel for run in runs if run.status == ReconciliationRun.Status.FAILED]
        if failed:
            raise CommandError(f"reconciliation failed for {', '.join(failed)}")
        if any(run.status != ReconciliationRun.Status.BALANCED for run in runs):
            raise CommandError("discrepancies found")

    def _report(self, run: ReconciliationRun) -> None:
        if run.status == ReconciliationRun.Status.FAILED:
            self.stdout.write(f"{run.channel} {run.day}: failed: {run.detail}")
            return
        self.stdout.write(
            f"{run.channel} {run.day}: {run.status}; bill {format_cny(run.bill_payments_fen)} in, "
            f"{format_cny(run.bill_refunds_fen)} out, {format_cny(run.bill_fees_fen)} fees; "
            f"ours {format_cny(run.our_payments_fen)} in, {format_cny(run.our_refunds_fen)} out; "
            f"ledger {format_cny(run.ledger_payments_fen)} in, {format_cny(run.ledger_refunds_fen)} out, "
            f"{format_cny(run.ledger_fees_fen)} fees"
        )
        for difference in run.differences():
            self.stdout.write(f"  {difference}")
        for item in run.items.all():
            self.stdout.write(f"  {item.kind}: {item.entry_kind} {item.out_refund_no or item.out_trade_no} {item.note}")
