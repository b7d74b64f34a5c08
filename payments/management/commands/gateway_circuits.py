"""`manage.py gateway_circuits [--reset [CHANNEL]]`: each offered channel's circuits; close them by hand."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.gateways.boundary import OPERATIONS
from payments.gateways.breakers import breaker_for, breaker_states


class Command(BaseCommand):
    help = (
        "Show the circuit of every gateway operation (closed, open, half-open); with --reset, close "
        "them (shared circuits for every process when GATEWAY_BREAKER_REDIS_URL is set)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", nargs="?", const="", default=None, metavar="CHANNEL")

    def handle(self, *args, reset=None, **options):
        channels = list(settings.PAYMENTS_CHANNELS)
        if reset:
            if reset not in settings.PAYMENT_GATEWAYS:
                raise CommandError(f"Unknown channel {reset!r}.")
            channels = [reset]
        if reset is not None:
            for channel in channels:
                for operation in OPERATIONS:
                    breaker_for(channel, operation).close()
        for channel, states in breaker_states(channels, OPERATIONS).items():
            open_ones = [f"{op}: {state}" for op, state in states.items() if state != "closed"]
            self.stdout.write(f"{channel}: {', '.join(open_ones) if open_ones else 'all closed'}")
