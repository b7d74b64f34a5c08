from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from knowpay.health import readiness_check_register
        from knowpay.mail import mail_sender_register
        from knowpay.metrics import scrape_collector_register
        from payments import checks  # noqa: F401  (registers the system checks)
        from payments.metrics import PaymentsCollector, readiness_checks
        from payments.services.outbox import outbox_enqueue

        scrape_collector_register(PaymentsCollector())
        readiness_check_register(readiness_checks)
        # Apps below payments (accounts) send their e-mail through our outbox.
        mail_sender_register(outbox_enqueue)
