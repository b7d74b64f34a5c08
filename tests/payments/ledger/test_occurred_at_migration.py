"""The migration that gives ledger entries their business time fills it for entries already posted."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("payments", "0005_gateway_call_log")]
AFTER = [("payments", "0006_ledger_occurred_at")]


@pytest.fixture
def old_apps():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    call_command("migrate", verbosity=0)


@transaction.atomic  # PostgreSQL checks at commit that an entry balances
def posted(apps, *, kind, reference, account, **links):
    entry = apps.get_model("payments", "LedgerEntry").objects.create(
        kind=kind, reference=reference, description=reference, **links
    )
    revenue, _ = apps.get_model("payments", "LedgerAccount").objects.get_or_create(kind="platform_revenue", channel="")
    line = apps.get_model("payments", "LedgerLine")
    line.objects.create(entry=entry, account=account, amount_fen=100)
    line.objects.create(entry=entry, account=revenue, amount_fen=-100)
    return entry.pk


@pytest.mark.django_db(transaction=True)
def test_existing_entries_get_the_time_of_their_business_event(old_apps, course, learner):
    apps = old_apps
    paid_at = timezone.now() - dt.timedelta(days=12)
    refunded_at = timezone.now() - dt.timedelta(days=3)
    order = apps.get_model("payments", "Order").objects.create(
        order_no="KP20260101000000000001", learner_id=learner.pk, course_id=course.pk, amount_fen=1290,
        expires_at=paid_at, status="partially_refunded", paid_at=paid_at, refunded_fen=100,
    )  # fmt: skip
    payment = apps.get_model("payments", "Payment").objects.create(
        order=order, channel="sandbox", method="page", out_trade_no="KP20260101000000000001P01", amount_fen=1290,
        status="succeeded", succeeded_at=paid_at, refunded_fen=100,
    )  # fmt: skip
    refund = apps.get_model("payments", "Refund").objects.create(
        refund_no="KP20260101000000000001R01", order=order, payment=payment, amount_fen=100, kind="staff",
        status="succeeded", succeeded_at=refunded_at,
    )  # fmt: skip
    clearing = apps.get_model("payments", "LedgerAccount").objects.create(kind="gateway_clearing", channel="sandbox")
    sale = posted(
        apps, kind="sale", reference="sale:1", account=clearing, payment=payment, settles_at=paid_at, creator_id=None
    )
    back = posted(apps, kind="refund", reference="refund:1", account=clearing, payment=payment, refund=refund)
    settlement = posted(apps, kind="settlement", reference="settle:1", account=clearing, payment=payment)

    MigrationExecutor(connection).migrate(AFTER)

    entries = MigrationExecutor(connection).loader.project_state(AFTER).apps.get_model("payments", "LedgerEntry")
    times = dict(entries.objects.values_list("pk", "occurred_at"))
    created = dict(entries.objects.values_list("pk", "created_at"))
    assert times[sale] == paid_at
    assert times[back] == refunded_at
    assert times[settlement] == created[settlement]
