"""Ledger entries get `occurred_at`, the business time of their event, apart from when they were posted.

Existing entries are filled from their business rows: a sale or duplicate payment when the payment
succeeded, a refund when it succeeded, a paid payout when it was paid; anything else (settlements,
payout reservations and releases happen when they are posted) when it was posted.

Ledger rows are append-only, on PostgreSQL by a trigger too; filling a new column is the one
update allowed, so the trigger is switched off for it within this migration's transaction.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

APPEND_ONLY_TRIGGER = "payments_ledgerentry_append_only"


def backfill_occurred_at(apps, schema_editor):
    LedgerEntry = apps.get_model("payments", "LedgerEntry")
    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    Payout = apps.get_model("payments", "Payout")
    on_postgresql = schema_editor.connection.vendor == "postgresql"
    if on_postgresql:
        schema_editor.execute(f"ALTER TABLE payments_ledgerentry DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")

    def succeeded(model, field):
        return Subquery(model.objects.filter(pk=OuterRef(field)).values("succeeded_at")[:1])

    entries = LedgerEntry.objects.filter(occurred_at__isnull=True)
    entries.filter(kind__in=["sale", "duplicate_payment"]).update(
        occurred_at=Coalesce(succeeded(Payment, "payment_id"), "created_at")
    )
    entries.filter(kind="refund").update(occurred_at=Coalesce(succeeded(Refund, "refund_id"), "created_at"))
    paid_at = Subquery(Payout.objects.filter(pk=OuterRef("payout_id")).values("paid_at")[:1])
    entries.filter(kind="payout_paid").update(occurred_at=Coalesce(paid_at, "created_at"))
    entries.filter(occurred_at__isnull=True).update(occurred_at=models.F("created_at"))

    if on_postgresql:
        schema_editor.execute(f"ALTER TABLE payments_ledgerentry ENABLE TRIGGER {APPEND_ONLY_TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_gateway_call_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="occurred_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(backfill_occurred_at, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="ledgerentry",
            name="occurred_at",
            field=models.DateTimeField(),
        ),
        migrations.RemoveIndex(
            model_name="ledgerentry",
            name="ledger_entry_creator_idx",
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["creator", "kind", "occurred_at"], name="ledger_entry_creator_time_idx"),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["kind", "occurred_at"], name="ledger_entry_kind_time_idx"),
        ),
    ]
