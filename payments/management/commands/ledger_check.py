"""`manage.py ledger_check`: verify every invariant of the ledger; exit non-zero naming each violation."""

from django.core.management.base import BaseCommand, CommandError

from payments.models import LedgerEntry, LedgerLine
from payments.selectors.ledger import ledger_violations


class Command(BaseCommand):
    help = (
        "Verify the ledger: entries balance, cached balances equal their lines, every paid payment has its "
        "sale, at most one sale per learner and course is not refunded in full, every succeeded refund and "
        "duplicate payment its posting, every payout the entries of its state, every gateway fee on a "
        "reconciled bill its booking."
    )

    def handle(self, *args, **options):
        violations = ledger_violations()
        for violation in violations:
            self.stderr.write(violation)
        if violations:
            raise CommandError(f"{len(violations)} ledger violation(s).")
        entries, lines = LedgerEntry.objects.count(), LedgerLine.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Ledger OK: {entries} entries, {lines} lines."))
