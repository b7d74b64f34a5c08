"""The inbox: people are told on the site (and by e-mail, as they choose) what happened to their money.

Notes are written in the transaction of their event, once per event, and only their owner sees them.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from payments.context_processors import inbox as inbox_context
from payments.models import InboxItem, NotificationPreference, OutboxMessage, Payout
from payments.services.inbox import UnknownInboxKind, inbox_notify
from payments.services.payouts import payout_approve, payout_mark_paid_by_bank, payout_reject, payout_request
from payments.services.refunds import refund_reject, refund_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import refund, sell

pytestmark = pytest.mark.django_db

INBOX = "/inbox/"


def notes(user):
    return list(InboxItem.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def emails_to(user):
    return [message.subject for message in mail.outbox if message.to == [user.email]]


def test_a_paid_order_is_noted_for_the_learner_and_the_sale_for_its_creator(
    course, creator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payment = sell(course)
    learner = payment.order.learner

    assert notes(learner) == ["order_paid"]
    assert notes(creator) == ["sale_made"]
    note = InboxItem.objects.get(user=creator)
    assert payment.order.order_no in note.body
    assert "¥11.61" in note.body  # the creator's share of ¥12.90 after the 10% fee
    assert len(emails_to(learner)) == 1
    assert len(emails_to(creator)) == 1


def test_a_creator_who_wants_sales_in_the_inbox_only_gets_no_email(course, creator, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=creator, kind="sale_made", email=False)

    with django_capture_on_commit_callbacks(execute=True):
        sell(course)

    assert notes(creator) == ["sale_made"]
    assert emails_to(creator) == []


def test_a_note_rolls_back_with_its_event(learner):
    def event_that_fails():
        with transaction.atomic():
            inbox_notify(user=learner, kind="order_paid", key="order_paid:X", title="Paid")
            raise RuntimeError("the event failed")

    with pytest.raises(RuntimeError):
        event_that_fails()

    assert not InboxItem.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_an_event_handled_twice_is_noted_once(learner):
    first = inbox_notify(user=learner, kind="order_paid", key="order_paid:X", title="Paid")
    second = inbox_notify(user=learner, kind="order_paid", key="order_paid:X", title="Paid")

    assert first is not None
    assert second is None
    assert InboxItem.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_a_note_of_an_unknown_kind_is_a_bug_and_writes_nothing(learner):
    with pytest.raises(UnknownInboxKind):
        inbox_notify(user=learner, kind="no_such_kind", key="k", title="t")

    assert not InboxItem.objects.exists()


def test_a_refund_is_noted_for_the_learner_and_the_creator(course, creator, staff):
    payment = sell(course)

    refund(payment, staff=staff, amount_fen=500)

    assert notes(payment.order.learner) == ["order_paid", "refund_decided"]
    assert notes(creator) == ["sale_made", "sale_refunded"]
    assert "¥5.00" in InboxItem.objects.get(user=creator, kind="sale_refunded").body


def test_a_declined_refund_request_is_noted_for_the_learner(course, staff):
    payment = sell(course)
    learner = payment.order.learner
    requested = refund_request(order=payment.order, learner=learner)

    refund_reject(refund=requested, staff=staff, note="Watched every lesson")

    declined = InboxItem.objects.get(user=learner, kind="refund_decided")
    assert "declined" in declined.title
    assert "Watched every lesson" in declined.body


@pytest.fixture
def available(creator, settings):
    """¥180.00 available to the creator from two settled sales."""
    settings.PAYOUT_MIN_FEN = 100
    course = CourseFactory(creator=creator, price_fen=10000)
    sell(course, days_ago=9)
    sell(course, days_ago=8)
    earnings_settle_due()


def test_a_payout_approved_and_sent_is_noted_for_its_creator(
    available, creator, staff, transfer_gateway, django_capture_on_commit_callbacks
):
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=10000)

    with django_capture_on_commit_callbacks(execute=True):
        payout_approve(payout=payout, staff=staff)

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.PAID
    assert notes(creator)[-2:] == ["payout_approved", "payout_sent"]


def test_a_payout_paid_by_bank_is_noted_as_sent(available, creator, staff):
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=10000)

    payout_mark_paid_by_bank(payout=payout, staff=staff, reference="BANK-1")

    assert notes(creator)[-1] == "payout_sent"


def test_a_failed_transfer_is_noted_for_its_creator(
    available, creator, staff, transfer_gateway, django_capture_on_commit_callbacks
):
    transfer_gateway.answers.append("rejected")
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=10000)

    with django_capture_on_commit_callbacks(execute=True):
        payout_approve(payout=payout, staff=staff)

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.FAILED
    assert notes(creator)[-2:] == ["payout_approved", "payout_failed"]
    assert "available again" in InboxItem.objects.get(user=creator, kind="payout_failed").body


def test_a_declined_payout_is_noted_for_its_creator(available, creator, staff):
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=10000)

    payout_reject(payout=payout, staff=staff, note="Identity check pending")

    failed = InboxItem.objects.get(user=creator, kind="payout_failed")
    assert "Identity check pending" in failed.body


# --- Pages ---------------------------------------------------------------------------------------


def test_the_inbox_lists_only_ones_own_notes(client, learner):
    other = UserFactory()
    inbox_notify(user=learner, kind="order_paid", key="mine", title="My order is paid")
    inbox_notify(user=other, kind="order_paid", key="theirs", title="Their order is paid")
    client.force_login(learner)

    page = client.get(INBOX).content.decode()

    assert "My order is paid" in page
    assert "Their order is paid" not in page


def test_nobody_can_mark_another_persons_note_read(client, learner):
    other = UserFactory()
    theirs = inbox_notify(user=other, kind="order_paid", key="theirs", title="Their order is paid")
    client.force_login(learner)

    response = client.post(f"/inbox/{theirs.pk}/read/")

    assert response.status_code == 404
    assert InboxItem.objects.get(pk=theirs.pk).read_at is None


def test_marking_a_note_read_takes_it_off_the_unread_count(client, learner):
    note = inbox_notify(user=learner, kind="order_paid", key="mine", title="My order is paid", url="/orders/")
    client.force_login(learner)
    assert 'data-unread="1"' in client.get("/").content.decode()

    response = client.post(f"/inbox/{note.pk}/read/", {"open": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/orders/"
    assert InboxItem.objects.get(pk=note.pk).read_at is not None
    assert 'data-unread="' not in client.get("/").content.decode()


def test_mark_read_is_a_post(client, learner):
    note = inbox_notify(user=learner, kind="order_paid", key="mine", title="Paid")
    client.force_login(learner)

    assert client.get(f"/inbox/{note.pk}/read/").status_code == 405
    assert InboxItem.objects.get(pk=note.pk).read_at is None


def test_mark_all_read(client, learner):
    for n in range(3):
        inbox_notify(user=learner, kind="order_paid", key=f"k{n}", title="Paid")
    client.force_login(learner)

    client.post("/inbox/read/")

    assert not InboxItem.objects.filter(read_at__isnull=True).exists()


def test_the_inbox_needs_a_login(client):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_unread_count_is_one_query_however_often_a_request_shows_it(learner):
    inbox_notify(user=learner, kind="order_paid", key="k", title="Paid")
    request = RequestFactory().get("/")
    request.user = learner

    with CaptureQueriesContext(connection) as queries:
        counts = [str(inbox_context(request)["inbox_unread"]) for _ in range(3)]

    assert counts == ["1", "1", "1"]
    assert len(queries) == 1


def test_the_unread_count_costs_nothing_for_visitors(django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    with django_assert_num_queries(0):
        assert not inbox_context(request)["inbox_unread"]


# --- Preferences ---------------------------------------------------------------------------------


def test_the_settings_page_turns_email_off_for_one_kind(client, creator):
    client.force_login(creator)

    response = client.post("/inbox/settings/", {"email_order_paid": "on", "email_refund_decided": "on"})

    assert response.status_code == 302
    chosen = dict(NotificationPreference.objects.filter(user=creator).values_list("kind", "email"))
    assert chosen["sale_made"] is False
    assert chosen["order_paid"] is True


def test_a_learner_is_not_offered_creator_or_staff_kinds(client, learner):
    client.force_login(learner)

    page = client.get("/inbox/settings/").content.decode()
    client.post("/inbox/settings/", {"email_sale_made": "on", "email_alert": "on"})

    assert "email_order_paid" in page
    assert "email_sale_made" not in page
    assert "email_alert" not in page
    assert not NotificationPreference.objects.filter(kind__in=["sale_made", "alert"]).exists()
