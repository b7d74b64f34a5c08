"""`manage.py settle_earnings`: make available every sale whose settlement hold has ended (idempotent)."""

from django.core.management.base import BaseCommand

from payments.services.settlement import earnings_settle_due


class Command(BaseCommand):
    help = "Move creators' earnings whose hold (SETTLEMENT_HOLD_DAYS) has ended from pending to available."

    def handle(self, *args, **options):
        settled = earnings_settle_due()
        self.stdout.write(self.style.SUCCESS(f"Settled {settled} sale(s)."))
