"""Reconcile gateways' daily bills with our records (what the daily task runs)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from knowpay.money import format_cny
from payments.gateways.base import GatewayError
from payments.services.reconciliation import reconciliation_run, reconciliation_run_all


class Command(BaseCommand):
    help = "Compare a gateway's daily bill with our records, repair what we missed, and report the rest."

    def add_arguments(self, parser):
        parser.add_argument("--channel", help="One channel (default: every offered channel).")
        parser.add_argument("--date", help="The bill's day, YYYY-MM-DD (default: yesterday, Beijing time).")

    def handle(self, *args, channel=None, date=None, **options):
        try:
            day = dt.date.fromisoformat(date) if date else timezone.localdate() - dt.timedelta(days=1)
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from None
        if channel:
            try:
                runs = [reconciliation_run(channel=channel, day=day)]
            except GatewayError as exc:
                raise CommandError(f"{channel}: the bill for {day} could not be fetched: {exc}") from exc
        else:
            runs = reconciliation_run_all(day=day)
        for run in runs:
            self.stdout.write(
                f"{run.channel} {run.day}: {run.status}; bill {format_cny(run.bill_payments_fen)} in, "
                f"{format_cny(run.bill_refunds_fen)} out; ours {format_cny(run.our_payments_fen)} in, "
                f"{format_cny(run.our_refunds_fen)} out"
            )
            for item in run.items.all():
                self.stdout.write(
                    f"  {item.kind}: {item.entry_kind} {item.out_refund_no or item.out_trade_no} {item.note}"
                )
        if any(run.status != "balanced" for run in runs):
            raise CommandError("discrepancies found")
