from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from knowpay.health import readiness_check_register
        from knowpay.metrics import scrape_collector_register
        from payments import checks  # noqa: F401  (registers the system checks)
        from payments.metrics import PaymentsCollector, readiness_checks

        scrape_collector_register(PaymentsCollector())
        readiness_check_register(readiness_checks)
