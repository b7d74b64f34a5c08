"""The development server, which in the demo also runs the periodic tasks (no broker, no beat)."""

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as StaticfilesRunserver

from knowpay.scheduler import InProcessScheduler


class Command(StaticfilesRunserver):
    help = (
        "Starts the development server. In sandbox mode without a broker it also runs the periodic "
        "tasks of CELERY_BEAT_SCHEDULE in a thread, which celery beat and a worker do otherwise."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-periodic",
            action="store_false",
            dest="use_periodic",
            help="Do not run the periodic tasks in this process.",
        )

    def inner_run(self, *args, **options):
        # Runs in the process that serves (under the autoreloader, its child): one scheduler, which
        # a code reload restarts with the server.
        if options.get("use_periodic", True) and settings.PAYMENTS_SANDBOX and settings.CELERY_TASK_ALWAYS_EAGER:
            InProcessScheduler(settings.CELERY_BEAT_SCHEDULE).start()
        super().inner_run(*args, **options)
