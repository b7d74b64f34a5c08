"""Admin: the ledger is read-only, balances per account, the payout queue's actions call the services and
record who and when."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from payments.models import LedgerAccount, LedgerEntry, Payout
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import UserFactory
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def payout(course_at, creator):
    sell(course_at(20000), days_ago=8)
    earnings_settle_due()
    return payout_request(creator=creator, requested_by=creator, amount_fen=15000)


def run_action(client, action, payout):
    return client.post(
        reverse("admin:payments_payout_changelist"), {"action": action, "_selected_action": [payout.pk]}, follow=True
    )


def test_staff_who_may_only_view_payouts_cannot_decide_them(client, payout):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_payout"))
    client.force_login(viewer)

    run_action(client, "reject", payout)
    response = client.post(reverse("admin:payments_payout_bank", args=[payout.pk]), {"reference": "B-1"})

    assert response.status_code == 403
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED


@pytest.mark.parametrize("name", ["add", "delete"])
def test_ledger_entries_cannot_be_added_or_deleted_in_the_admin(admin_client, payout, name):
    entry = LedgerEntry.objects.first()
    url = (
        reverse("admin:payments_ledgerentry_add")
        if name == "add"
        else reverse("admin:payments_ledgerentry_delete", args=[entry.pk])
    )

    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_approving_an_already_decided_payout_reports_it_by_name(admin_client, payout):
    run_action(admin_client, "reject", payout)

    response = run_action(admin_client, "approve", payout)

    assert f"{payout.payout_no}: This payout is already rejected." in response.content.decode()


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:payments_ledgerentry_changelist",
        "admin:payments_ledgerline_changelist",
        "admin:payments_ledgeraccount_changelist",
        "admin:payments_payout_changelist",
    ],
)
def test_ledger_and_payout_lists_open(admin_client, payout, url_name):
    assert admin_client.get(reverse(url_name)).status_code == 200


def test_an_entry_shows_its_lines(admin_client, payout):
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.SALE)

    response = admin_client.get(reverse("admin:payments_ledgerentry_change", args=[entry.pk]))

    assert response.status_code == 200
    assert "¥200.00" in response.content.decode()  # the gross, debited to gateway clearing


def test_a_payout_shows_the_sales_it_pays(admin_client, payout):
    response = admin_client.get(reverse("admin:payments_payout_change", args=[payout.pk]))

    assert response.status_code == 200
    assert LedgerEntry.objects.get(kind=LedgerEntry.Kind.SALE).reference in response.content.decode()


def test_the_account_list_shows_balances_recomputed_from_lines(admin_client, payout, creator):
    response = admin_client.get(reverse("admin:payments_ledgeraccount_changelist"))

    rows = {account.pk: account for account in response.context["cl"].result_list}
    available = LedgerAccount.objects.get(creator=creator, kind=LedgerAccount.Kind.CREATOR_AVAILABLE)
    assert rows[available.pk].sign * rows[available.pk].lines_total_fen == 18000 - 15000


def test_approving_in_the_admin_pays_the_payout_and_logs_who_did_it(
    admin_client, admin_user, payout, transfer_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "approve", payout)

    payout.refresh_from_db()
    assert (payout.status, payout.decided_by) == (Payout.Status.PAID, admin_user)
    log = LogEntry.objects.get(object_id=str(payout.pk))
    assert (log.user, log.change_message) == (admin_user, "Approved")


def test_rejecting_in_the_admin_releases_the_payout_and_logs_it(admin_client, admin_user, payout):
    run_action(admin_client, "reject", payout)

    payout.refresh_from_db()
    assert (payout.status, payout.decided_by) == (Payout.Status.REJECTED, admin_user)
    assert LogEntry.objects.get(object_id=str(payout.pk)).change_message == "Rejected"


def test_a_bank_payment_is_recorded_with_its_reference_and_logged(admin_client, admin_user, payout):
    url = reverse("admin:payments_payout_bank", args=[payout.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"reference": "ICBC-0001", "note": "paid on Monday"})

    assert response.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.bank_reference, payout.decided_by) == (Payout.Status.PAID, "ICBC-0001", admin_user)
    assert LogEntry.objects.get(object_id=str(payout.pk)).change_message == "Paid by bank transfer ICBC-0001"
