from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from knowpay.mail import mail_sender_register
        from payments import checks  # noqa: F401  (registers the system checks)
        from payments.services.outbox import outbox_enqueue

        # Apps below payments (accounts) send their e-mail through our outbox.
        mail_sender_register(outbox_enqueue)
