"""The Finance and Support groups the data migration creates hold exactly the documented permissions
(README "Staff roles")."""

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db

VIEW_MONEY = {
    "payments.view_order",
    "payments.view_payment",
    "payments.view_refund",
    "payments.view_gatewaynotification",
    "payments.view_gatewaycall",
    "payments.view_outboxmessage",
    "payments.view_paymentanomaly",
    "courses.view_course",
    "courses.view_enrollment",
    "accounts.view_user",
}
FINANCE = VIEW_MONEY | {
    "payments.view_ledgeraccount",
    "payments.view_ledgerentry",
    "payments.view_ledgerline",
    "payments.view_payout",
    "payments.view_payoutallocation",
    "payments.view_reconciliationrun",
    "payments.view_reconciliationitem",
    "payments.view_sweepfailure",
    "accounts.view_creatorprofile",
    "payments.issue_refund",
    "payments.decide_refund",
    "payments.decide_payout",
    "payments.sync_payment",
    "payments.reprocess_gatewaynotification",
    "payments.run_reconciliation",
    "payments.view_alert",
    "payments.resolve_alert",
    "payments.silence_alert",
    "payments.view_alertsilence",
    "payments.view_payoutschedule",
}
SUPPORT = VIEW_MONEY | {"payments.sync_payment"}


def permissions_of(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.mark.parametrize(("name", "expected"), [("Finance", FINANCE), ("Support", SUPPORT)])
def test_migration_creates_the_group_with_its_documented_permissions(name, expected):
    assert permissions_of(name) == expected


def test_support_cannot_decide_money():
    assert not permissions_of("Support") & {
        "payments.issue_refund",
        "payments.decide_refund",
        "payments.decide_payout",
        "payments.run_reconciliation",
        "payments.reprocess_gatewaynotification",
    }


def test_neither_group_may_read_paid_lessons_or_change_anything_by_form():
    for name in ("Finance", "Support"):
        codenames = {label.split(".")[1] for label in permissions_of(name)}
        assert "view_lesson" not in codenames
        assert not {c for c in codenames if c.startswith(("add_", "change_", "delete_"))}
