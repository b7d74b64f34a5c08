"""The two staff roles, as groups: Finance decides money, Support looks things up for learners.

README "Staff roles" documents the same lists; tests/test_staff_groups.py holds them to it.
"""

from django.db import migrations

VIEW_MONEY = [
    "payments.view_order",
    "payments.view_payment",
    "payments.view_refund",
    "payments.view_gatewaynotification",
    "payments.view_gatewaycall",
    "payments.view_outboxmessage",
    "courses.view_course",
    "courses.view_enrollment",
    "accounts.view_user",
]
GROUPS = {
    "Finance": [
        *VIEW_MONEY,
        "payments.view_ledgeraccount",
        "payments.view_ledgerentry",
        "payments.view_ledgerline",
        "payments.view_payout",
        "payments.view_payoutallocation",
        "payments.view_reconciliationrun",
        "payments.view_reconciliationitem",
        "accounts.view_creatorprofile",
        "payments.issue_refund",
        "payments.decide_refund",
        "payments.decide_payout",
        "payments.sync_payment",
        "payments.reprocess_gatewaynotification",
        "payments.run_reconciliation",
    ],
    "Support": [*VIEW_MONEY, "payments.sync_payment"],
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for label in permissions:
            app_label, codename = label.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0001_initial"),
        ("courses", "0001_initial"),
        ("payments", "0011_staff_action_permissions"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
