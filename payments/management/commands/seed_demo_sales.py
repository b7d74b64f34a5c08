"""A past sales history for the local demo, so creators have earnings on hold and to withdraw.

Each sale goes through the payment core exactly as a payment the sandbox gateway confirmed (the
same apply path as a notification or a query), with the sandbox simulator's own books written to
match, so reconciliation balances. Sales are dated over the past weeks: those older than the
settlement hold become available. Idempotent: sales are keyed by their fixed order numbers.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from courses.models import Course
from payments.gateways.base import PaymentEvent, TradeStatus
from payments.models import Order, Payment, SimulatedTrade
from payments.services.events import payment_event_apply
from payments.services.settlement import earnings_settle_due

BUYERS = ["demo_buyer_1", "demo_buyer_2", "demo_buyer_3", "demo_buyer_4"]
# (days ago, course slug, buyer index): each buyer buys a course at most once.
SALES = [
    (24, "python-data-analysis", 0),
    (21, "excel-for-the-office", 0),
    (19, "python-data-analysis", 1),
    (16, "product-management-in-practice", 1),
    (14, "excel-for-the-office", 2),
    (12, "python-data-analysis", 2),
    (11, "business-english-writing", 0),
    (9, "product-management-in-practice", 2),
    (8, "python-data-analysis", 3),
    (5, "excel-for-the-office", 3),
    (3, "business-english-writing", 3),
    (1, "product-management-in-practice", 3),
]


class Command(BaseCommand):
    help = "Add a past sales history of the demo courses (run after seed_demo; safe to run again)."

    def handle(self, *args, **options) -> None:
        if not settings.PAYMENTS_SANDBOX:
            raise CommandError("Demo sales are sandbox payments; this command runs only in sandbox mode.")
        # Invented past purchases must not e-mail anybody.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            created = sum(self._sale(number, *sale) for number, sale in enumerate(SALES, start=1))
            settled = earnings_settle_due()
        self.stdout.write(
            f"{created} demo sale(s) created, {settled} settled." if created else "Demo sales already there."
        )

    def _sale(self, number: int, days_ago: int, slug: str, buyer_index: int) -> bool:
        order_no = f"KPDEMO{number:04d}"
        if Order.objects.filter(order_no=order_no).exists():
            return False
        course = Course.objects.filter(slug=slug, status=Course.Status.PUBLISHED).first()
        if course is None:
            raise CommandError(f"Course {slug!r} is missing: run seed_demo first.")
        paid_at = timezone.now() - dt.timedelta(days=days_ago, hours=buyer_index)
        with transaction.atomic():
            order = Order.objects.create(
                order_no=order_no,
                learner=self._buyer(BUYERS[buyer_index]),
                course=course,
                amount_fen=course.price_fen,
                expires_at=paid_at + dt.timedelta(minutes=settings.ORDER_TIMEOUT_MINUTES),
            )
            Order.objects.filter(pk=order.pk).update(created_at=paid_at - dt.timedelta(minutes=2))
            payment = Payment.objects.create(
                order=order,
                channel="sandbox",
                method="page",
                out_trade_no=f"{order_no}P01",
                amount_fen=order.amount_fen,
            )
            trade = SimulatedTrade.objects.create(
                gateway="sandbox",
                merchant_id=settings.SANDBOX_MERCHANT_ID,
                out_trade_no=payment.out_trade_no,
                trade_no=f"SBXDEMO{number:04d}",
                amount_fen=payment.amount_fen,
                subject=course.title[:120],
                status=SimulatedTrade.Status.PAID,
                buyer_id=f"sandbox-buyer-{buyer_index + 1}",
                paid_at=paid_at,
            )
        payment_event_apply(
            channel="sandbox",
            event=PaymentEvent(
                out_trade_no=payment.out_trade_no,
                status=TradeStatus.PAID,
                amount_fen=payment.amount_fen,
                gateway_trade_no=trade.trade_no,
                paid_at=paid_at,
                payer_ref=trade.buyer_id,
            ),
        )
        return True

    @staticmethod
    def _buyer(username: str) -> User:
        buyer, _ = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@demo.knowpay.local", "password": make_password(None)},
        )
        return buyer
