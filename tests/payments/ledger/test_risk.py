"""Risk rules (风险控制): a new payout account holds payouts, velocity sends orders and refunds to
review, the blocklist refuses; every decision is recorded with its reason and shown to staff."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreatorProfile
from payments.models import BlockedSubject, Order, Payout, Refund, RiskDecision
from payments.services.checkout import CheckoutError, payment_start
from payments.services.orders import order_create
from payments.services.payouts import payout_approve, payout_request
from payments.services.refunds import refund_request
from payments.services.risk import RiskRefused, blocked_subject_add, order_review_release
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.conftest import sandbox_notification_body
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def available(course_at, creator):
    """180 yuan available to the creator."""
    course = course_at(10000)
    sell(course, days_ago=9)
    sell(course, days_ago=8)
    earnings_settle_due()


def _changed(creator, hours_ago: float) -> None:
    CreatorProfile.objects.filter(user=creator).update(payout_changed_at=timezone.now() - dt.timedelta(hours=hours_ago))


def test_a_payout_request_within_a_day_of_an_account_change_is_refused_and_recorded(available, creator):
    _changed(creator, hours_ago=2)

    with pytest.raises(RiskRefused) as refused:
        payout_request(creator=creator, requested_by=creator, amount_fen=15000)

    assert "payouts are possible again from" in refused.value.message
    assert not Payout.objects.exists()
    decision = RiskDecision.objects.get()
    assert (decision.rule, decision.decision, decision.action) == ("payout_account_changed", "refuse", "payout_request")
    assert decision.subject == f"user:{creator.pk}"


def test_a_payout_request_a_day_after_the_change_goes_through(available, creator):
    _changed(creator, hours_ago=25)

    payout = payout_request(creator=creator, requested_by=creator, amount_fen=15000)

    assert payout.status == Payout.Status.REQUESTED
    assert not RiskDecision.objects.exists()


def test_staff_cannot_approve_a_transfer_to_an_account_changed_since_the_request(available, creator, transfer_gateway):
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=15000)
    _changed(creator, hours_ago=1)

    with pytest.raises(RiskRefused):
        payout_approve(payout=payout, staff=UserFactory(is_staff=True))

    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED
    assert RiskDecision.objects.get().payout == payout


def test_the_payout_page_shows_the_hold_clearly(client, available, creator):
    _changed(creator, hours_ago=1)
    client.force_login(creator)

    response = client.post(reverse("payments:earnings_payout_request"), {"amount": "150.00"}, follow=True)

    assert "payouts are possible again from" in response.text
    assert not Payout.objects.exists()


def test_orders_beyond_the_learner_velocity_are_held_for_review_and_cannot_be_paid(learner, settings):
    settings.RISK_ORDERS_PER_LEARNER_PER_HOUR = 2
    orders = [order_create(learner=learner, course=CourseFactory()) for _ in range(3)]

    assert [order.held_for_review for order in orders] == [False, False, True]
    decision = RiskDecision.objects.get()
    assert (decision.rule, decision.decision, decision.order) == ("order_velocity", "review", orders[2])
    with pytest.raises(CheckoutError) as refused:
        payment_start(order=orders[2], channel="sandbox", method="page", client_ip="127.0.0.1")
    assert refused.value.code == "held_for_review"
    assert not orders[2].payments.exists()


def test_staff_release_a_held_order_and_it_can_be_paid(learner, settings, gateway_site):
    settings.RISK_ORDERS_PER_LEARNER_PER_HOUR = 0
    order = order_create(learner=learner, course=CourseFactory())
    assert order.held_for_review

    order_review_release(order=order, staff=UserFactory(is_staff=True))

    payment, _ = payment_start(order=order, channel="sandbox", method="page", client_ip="127.0.0.1")
    assert payment.order_id == order.pk


def test_orders_beyond_the_address_velocity_are_held(settings):
    settings.RISK_ORDERS_PER_IP_PER_HOUR = 1
    first = order_create(learner=UserFactory(), course=CourseFactory(), client_ip="203.0.113.7")
    second = order_create(learner=UserFactory(), course=CourseFactory(), client_ip="203.0.113.7")
    elsewhere = order_create(learner=UserFactory(), course=CourseFactory(), client_ip="198.51.100.1")

    assert (first.held_for_review, second.held_for_review, elsewhere.held_for_review) == (False, True, False)
    assert RiskDecision.objects.get().subject == "ip:203.0.113.7"


def test_refund_requests_beyond_the_velocity_are_flagged_for_review(course_at, settings):
    settings.RISK_REFUNDS_PER_LEARNER_PER_DAY = 1
    learner = UserFactory()
    payments = [sell(course_at(1000), learner=learner) for _ in range(2)]

    refunds = [refund_request(order=p.order, learner=learner) for p in payments]

    assert [refund.risk_flagged for refund in refunds] == [False, True]
    assert all(refund.status == Refund.Status.REQUESTED for refund in refunds)
    assert RiskDecision.objects.get().refund == refunds[1]


def test_a_blocked_account_cannot_order_ask_for_refunds_or_be_paid_out(available, creator, course_at):
    learner = UserFactory()
    paid = sell(course_at(1000), learner=learner)
    blocked_subject_add(kind="user", value=learner.username.upper(), reason="chargeback fraud", staff=None)
    blocked_subject_add(kind="user", value=creator.username, reason="stolen account", staff=None)

    with pytest.raises(RiskRefused):
        order_create(learner=learner, course=CourseFactory())
    with pytest.raises(RiskRefused):
        refund_request(order=paid.order, learner=learner)
    with pytest.raises(RiskRefused):
        payout_request(creator=creator, requested_by=creator, amount_fen=15000)

    assert Order.objects.filter(learner=learner).count() == 1
    assert not Refund.objects.exists()
    assert not Payout.objects.exists()
    assert RiskDecision.objects.filter(rule="blocklist", decision="refuse").count() == 3


def test_a_blocked_address_cannot_start_a_payment(learner, course):
    order = order_create(learner=learner, course=course, client_ip="203.0.113.9")
    blocked_subject_add(kind="ip", value="203.0.113.9", reason="card testing", staff=None)

    with pytest.raises(RiskRefused):
        payment_start(order=order, channel="sandbox", method="page", client_ip="203.0.113.9")

    assert not order.payments.exists()


def test_a_payment_by_a_blocked_payer_completes_but_holds_the_order_for_review(payment, post_notify):
    blocked_subject_add(kind="payer", value="2088000000000666", reason="stolen card", staff=None)

    assert post_notify(sandbox_notification_body(payment, buyer_id="2088000000000666")).content == b"SUCCESS"

    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.PAID  # the money moved; staff decide what to do
    assert order.held_for_review
    decision = RiskDecision.objects.get()
    assert (decision.rule, decision.decision, decision.order) == ("blocklist", "review", order)
    assert "2088000000000666" not in decision.subject


def test_staff_manage_the_blocklist_in_admin_and_see_decisions(client, learner, course):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:payments_blockedsubject_add"),
        {"kind": "payer", "value": " 2088000000000777 ", "reason": "fraud report"},
    )

    assert response.status_code == 302
    entry = BlockedSubject.objects.get()
    assert entry.value == "2088000000000777"
    listing = client.get(reverse("admin:payments_blockedsubject_changelist")).text
    assert "20************77" in listing
    assert "2088000000000777" not in listing
    client.post(
        reverse("admin:payments_blockedsubject_add"), {"kind": "user", "value": learner.username, "reason": "x"}
    )
    with pytest.raises(RiskRefused):
        order_create(learner=learner, course=course)
    decisions = client.get(reverse("admin:payments_riskdecision_changelist")).text
    assert "the account is blocked" in decisions


def test_staff_release_held_orders_from_the_admin(client, learner, settings):
    settings.RISK_ORDERS_PER_LEARNER_PER_HOUR = 0
    order = order_create(learner=learner, course=CourseFactory())
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    client.post(
        reverse("admin:payments_order_changelist"), {"action": "release_review", "_selected_action": [order.pk]}
    )

    assert not Order.objects.get(pk=order.pk).held_for_review


def test_the_learner_sees_that_a_held_order_is_being_reviewed(client, learner, settings):
    settings.RISK_ORDERS_PER_LEARNER_PER_HOUR = 0
    order = order_create(learner=learner, course=CourseFactory())
    client.force_login(learner)

    page = client.get(reverse("payments:order_detail", args=[order.order_no])).text

    assert "being reviewed by our team" in page
    assert "Choose how to pay" not in page
