"""Re-encrypt every encrypted value with the newest of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then drop the old keys. Safe to run again: each value is decrypted with
whichever key encrypted it and encrypted with the newest.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from knowpay.crypto import EncryptedCharField, rotate_str, rows_convert


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields (payout identities, payer references, blocklist) with the newest key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
            if not columns:
                continue
            with transaction.atomic():
                changed = rows_convert(
                    connection,
                    table=model._meta.db_table,
                    columns=columns,
                    convert=rotate_str,
                    pk=model._meta.pk.column,
                )
            total += changed
            self.stdout.write(f"{model._meta.label}: {changed} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted with the newest key."))
