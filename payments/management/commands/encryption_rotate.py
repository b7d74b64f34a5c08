"""Re-encrypt every encrypted value (payout identities, payer references, the blocklist, their
history) with the newest of FIELD_ENCRYPTION_KEYS, and re-key the blocklist's lookup digests.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then drop the old keys. Safe to run again: each value is decrypted with
whichever key encrypted it and encrypted with the newest.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from knowpay.crypto import (
    EncryptedBinaryField,
    EncryptedCharField,
    field_digest,
    rotate_bytes,
    rotate_str,
    rows_convert,
)
from payments.models import BlockedSubject


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields (payout identities, payer references, notifications) with the newest key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            table, pk = model._meta.db_table, model._meta.pk.column
            for kind, rotate in ((EncryptedCharField, rotate_str), (EncryptedBinaryField, rotate_bytes)):
                columns = [f.column for f in model._meta.concrete_fields if isinstance(f, kind)]
                if not columns:
                    continue
                with transaction.atomic():
                    changed = rows_convert(connection, table=table, columns=columns, convert=rotate, pk=pk)
                total += changed
                self.stdout.write(f"{model._meta.label}: {changed} rows re-encrypted")
        # Blocklist lookups go by a keyed digest: store it under the newest key too.
        for entry in BlockedSubject.objects.all():
            BlockedSubject.objects.filter(pk=entry.pk).update(value_digest=field_digest(entry.value))
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted with the newest key."))
