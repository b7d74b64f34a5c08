"""The demo's sales history: through the real core, consistent, and safe to run again."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.models import LedgerEntry, Order
from payments.selectors.earnings import earnings_daily, earnings_summary
from payments.selectors.ledger import ledger_violations

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo")
    call_command("seed_demo_sales")


def test_demo_sales_keep_the_ledger_consistent(seeded):
    assert Order.objects.filter(order_no__startswith="KPDEMO", status=Order.Status.PAID).count() == 12
    assert ledger_violations() == []


def test_older_demo_sales_are_withdrawable(seeded):
    wang = Order.objects.get(order_no="KPDEMO0001").course.creator

    summary = earnings_summary(creator=wang)

    assert summary.available_fen > 0
    assert summary.pending_fen > 0


def test_running_again_adds_nothing(seeded):
    entries = LedgerEntry.objects.count()

    call_command("seed_demo_sales")

    assert LedgerEntry.objects.count() == entries
    assert Order.objects.filter(order_no__startswith="KPDEMO").count() == 12


def test_refuses_outside_sandbox_mode(settings):
    settings.PAYMENTS_SANDBOX = False

    with pytest.raises(CommandError, match="sandbox"):
        call_command("seed_demo_sales")


def test_demo_history_is_spread_over_the_days_the_learners_paid(seeded):
    wang = Order.objects.get(order_no="KPDEMO0001").course.creator
    today = timezone.localdate()

    days = earnings_daily(creator=wang, start=today - dt.timedelta(days=30), end=today)

    selling_days = [day.day for day in days if day.sales_fen]
    assert len(selling_days) >= 5
    assert today not in selling_days
    paid = Order.objects.get(order_no="KPDEMO0001").paid_at
    assert timezone.localdate(paid) in selling_days
