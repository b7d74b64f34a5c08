import knowpay.crypto
from django.db import migrations


def encrypt_bodies(apps, schema_editor):
    table = apps.get_model("payments", "GatewayNotification")._meta.db_table
    knowpay.crypto.rows_convert(
        schema_editor.connection, table=table, columns=["body"], convert=knowpay.crypto.encrypt_bytes
    )


def decrypt_bodies(apps, schema_editor):
    table = apps.get_model("payments", "GatewayNotification")._meta.db_table
    knowpay.crypto.rows_convert(
        schema_editor.connection, table=table, columns=["body"], convert=knowpay.crypto.decrypt_bytes
    )


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0015_order_refund_client_ip'),
    ]

    operations = [
        migrations.AlterField(
            model_name='gatewaynotification',
            name='body',
            field=knowpay.crypto.EncryptedBinaryField(),
        ),
        # Raw notifications name the payer: encrypted like the payer reference itself.
        migrations.RunPython(encrypt_bodies, decrypt_bodies),
    ]
