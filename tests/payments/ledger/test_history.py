"""Who changed a course price, a refund or a payout, from what to what: kept and shown to staff."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from payments.models import Payout, Refund
from payments.services.payouts import payout_reject, payout_request
from payments.services.refunds import refund_approve, refund_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db


def _changes(obj) -> dict:
    latest, previous = obj.history.order_by("-history_id")[:2]
    return {change.field: (change.old, change.new) for change in latest.diff_against(previous).changes}


def test_a_price_change_through_the_api_is_kept_with_who_made_it(creator):
    course = CourseFactory(creator=creator, price_fen=1290)
    api = APIClient()
    api.force_authenticate(creator)

    api.patch(f"/api/v1/studio/courses/{course.slug}/", {"price_fen": 1990}, format="json")

    assert _changes(course)["price_fen"] == (1290, 1990)
    assert course.history.latest().history_user == creator


def test_refund_decisions_are_kept(learner, course):
    paid = sell(course, learner=learner)
    refund = refund_request(order=paid.order, learner=learner, amount_fen=100)
    staff = UserFactory(is_staff=True)

    refund_approve(refund=refund, staff=staff, note="ok")

    assert _changes(Refund.objects.get(pk=refund.pk))["status"] == ("requested", "processing")


def test_payout_decisions_are_kept_and_the_admin_history_page_shows_them(client, creator):
    sell(CourseFactory(creator=creator, price_fen=20000), days_ago=8)
    earnings_settle_due()
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=10000)
    superuser = UserFactory(is_staff=True, is_superuser=True)

    payout_reject(payout=payout, staff=superuser, note="wrong account")

    assert _changes(Payout.objects.get(pk=payout.pk))["status"] == ("requested", "rejected")
    client.force_login(superuser)
    page = client.get(reverse("admin:payments_payout_history", args=[payout.pk]))
    assert page.status_code == 200
    assert "rejected" in page.text  # the status change: requested → rejected
