"""The refund queue end to end in a real admin session: a learner asks for a refund on their order
page, staff (the superuser, or a member of the Finance group the migrations create) decide it in
the admin, and the learner, the ledger and the creator's dashboard all see the outcome."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse

from courses.models import Enrollment
from payments.models import LedgerEntry, Order, OutboxMessage, Refund
from tests.factories import UserFactory
from tests.payments.browser import Browser

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def staff_groups():
    """The groups as the data migration makes them: a test before this one may have flushed them."""
    loader = MigrationLoader(connection)
    (key,) = [key for key in loader.disk_migrations if key[1].endswith("_finance_and_support_groups")]
    loader.disk_migrations[key].operations[0].code(loader.project_state(key).apps, None)


def staff_member(role: str):
    if role == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Finance"))
    return user


@pytest.fixture
def learner_browser(gateway_site, client, learner):
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    return browser


@pytest.fixture
def paid_order(learner_browser, course, learner):
    checkout = learner_browser.post(f"/courses/{course.slug}/buy/")
    cashier = learner_browser.submit(checkout, "/pay/", method="sandbox:page")
    learner_browser.submit(cashier, "/pay/")
    order = Order.objects.get(learner=learner)
    assert order.status == Order.Status.PAID
    return order


@pytest.fixture
def requested_refund(learner_browser, paid_order):
    page = learner_browser.get(f"/orders/{paid_order.order_no}/")
    learner_browser.submit(page, "/refund/", reason="The course is not what I expected")
    return Refund.objects.get(order=paid_order, status=Refund.Status.REQUESTED)


def staff_browser(site_url, role) -> Browser:
    browser = Browser(site_url)
    browser.login_as(Client(), staff_member(role))
    return browser


def creator_pending_fen(client, creator) -> int:
    client.force_login(creator)
    return client.get(reverse("payments:earnings")).context["summary"].pending_fen


@pytest.mark.parametrize("role", ["superuser", "finance"])
def test_staff_approve_a_requested_refund_from_the_queue(
    gateway_site, client, role, requested_refund, paid_order, course, learner
):
    pending_before = creator_pending_fen(client, course.creator)
    admin = staff_browser(gateway_site.url, role)
    queue = admin.get("/admin/payments/refund/?queue=review")
    assert requested_refund.refund_no in queue.text
    assert '<option value="approve">' in queue.text

    admin.post("/admin/payments/refund/", {"action": "approve", "_selected_action": requested_refund.pk, "index": 0})

    requested_refund.refresh_from_db()
    paid_order.refresh_from_db()
    assert requested_refund.status == Refund.Status.SUCCEEDED
    assert (paid_order.status, paid_order.refunded_fen) == (Order.Status.REFUNDED, paid_order.amount_fen)
    assert Enrollment.objects.get(learner=learner, course=course).revoked_at is not None
    assert LedgerEntry.objects.filter(reference=f"refund:{requested_refund.refund_no}").exists()
    assert pending_before > 0
    assert creator_pending_fen(client, course.creator) == 0


@pytest.mark.parametrize("role", ["superuser", "finance"])
def test_staff_reject_a_requested_refund_from_the_order_page_with_a_note(
    gateway_site, client, role, requested_refund, paid_order, course
):
    pending_before = creator_pending_fen(client, course.creator)
    admin = staff_browser(gateway_site.url, role)
    order_page = admin.get(f"/admin/payments/order/{paid_order.pk}/refund/")
    assert "is awaiting review" in order_page.text

    decide_page = admin.get(f"/admin/payments/refund/{requested_refund.pk}/decide/")
    admin.post(
        f"/admin/payments/refund/{requested_refund.pk}/decide/",
        {"decision": "reject", "note": "Most of the course was watched."},
    )

    requested_refund.refresh_from_db()
    assert "The course is not what I expected" in decide_page.text
    assert requested_refund.status == Refund.Status.REJECTED
    assert requested_refund.decision_note == "Most of the course was watched."
    assert Order.objects.get(pk=paid_order.pk).status == Order.Status.PAID
    assert OutboxMessage.objects.filter(dedupe_key=f"refund_rejected:{requested_refund.refund_no}").exists()
    assert not LedgerEntry.objects.filter(reference=f"refund:{requested_refund.refund_no}").exists()
    assert creator_pending_fen(client, course.creator) == pending_before


def test_after_a_rejection_staff_can_issue_a_refund_from_the_order_page(
    gateway_site, client, requested_refund, paid_order
):
    admin = staff_browser(gateway_site.url, "finance")
    admin.post(f"/admin/payments/refund/{requested_refund.pk}/decide/", {"decision": "reject", "note": ""})

    page = admin.get(f"/admin/payments/order/{paid_order.pk}/refund/")
    admin.post(f"/admin/payments/order/{paid_order.pk}/refund/", {"amount": "5.00", "reason": "Goodwill"})

    assert 'value="Issue refund"' in page.text
    staff_refund = Refund.objects.get(order=paid_order, kind=Refund.Kind.STAFF)
    assert (staff_refund.status, staff_refund.amount_fen) == (Refund.Status.SUCCEEDED, 500)
