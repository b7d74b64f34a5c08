"""Who may resolve and silence alerts, and the Finance group's share of the alerts and schedules.

Finance (0012) decides money and is told of alerts (ALERT_STAFF_GROUPS): it may also see the
alerts, resolve them, silence a kind for a while, and see creators' payout schedules.
"""

from django.db import migrations

FINANCE_GETS = [
    "payments.view_alert",
    "payments.resolve_alert",
    "payments.silence_alert",
    "payments.view_alertsilence",
    "payments.view_payoutschedule",
]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    finance = Group.objects.filter(name="Finance").first()
    if finance is None:
        return  # someone deleted the group; nothing to extend
    for label in FINANCE_GETS:
        app_label, codename = label.split(".")
        finance.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    finance = Group.objects.filter(name="Finance").first()
    if finance is None:
        return
    codenames = [label.split(".")[1] for label in FINANCE_GETS]
    finance.permissions.remove(*Permission.objects.filter(content_type__app_label="payments", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0017_inbox_alerts_and_scheduled_payouts"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="alert",
            options={
                "ordering": ["-last_seen_at", "-id"],
                "permissions": [
                    ("resolve_alert", "Can resolve alerts"),
                    ("silence_alert", "Can silence a kind of alert for a while, and end a silence"),
                ],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
