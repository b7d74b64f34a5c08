"""Finance sees payment anomalies and the rows the periodic sweeps keep failing on; Support sees
payment anomalies (a learner asking whether they were charged twice). README "Staff roles"."""

from django.db import migrations

GRANTS = {
    "Finance": ["payments.view_paymentanomaly", "payments.view_sweepfailure"],
    "Support": ["payments.view_paymentanomaly"],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; these grants need them now.
    app_config = apps.get_app_config("payments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for label in permissions:
            app_label, codename = label.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in GRANTS.items():
        codenames = [label.split(".")[1] for label in permissions]
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*Permission.objects.filter(content_type__app_label="payments", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("payments", "0022_sweep_failures"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
