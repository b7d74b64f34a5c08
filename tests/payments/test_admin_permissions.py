"""Every admin action and form, posted through the real admin as the superuser, as staff holding
exactly the permissions it documents (README "Staff roles"), and as staff who may only view.

The first two change what the action says; the viewer changes nothing. Actions that talk to a
gateway do so over HTTP to the sandbox simulator of a live server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreatorProfile, User
from courses.models import Course
from payments.gateways import gateway_get
from payments.gateways.base import PaymentRequest
from payments.models import GatewayNotification, Order, Payment, Payout, ReconciliationRun, Refund
from payments.services.checkout import notify_url
from payments.services.payouts import payout_approve, payout_request
from payments.services.refunds import refund_issue, refund_request
from payments.services.settlement import earnings_settle_due
from payments.simulators import common
from tests.admin_helpers import form_data, post_action, staff_with, view_only_staff
from tests.factories import CourseFactory, CreatorFactory, LessonFactory, PaymentFactory, UserFactory
from tests.payments.browser import Browser
from tests.payments.conftest import sandbox_notification_body
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db(transaction=True)


# --- Gateway-backed rows, made through the sandbox simulator over HTTP ------------------------


def paid_through_sandbox(site_url: str, course: Course, *, notify: bool = True) -> Payment:
    """A learner's order paid at the sandbox simulator; its notification delivered unless `notify` is off."""
    payment = PaymentFactory(order__course=course)
    start = gateway_get("sandbox").start_payment(
        PaymentRequest(
            out_trade_no=payment.out_trade_no,
            amount_fen=payment.amount_fen,
            subject=course.title,
            method="page",
            notify_url=notify_url("sandbox"),
            return_url=f"{site_url}/orders/{payment.order.order_no}/return/",
            expires_at=payment.order.expires_at,
            client_ip="127.0.0.1",
        )
    )
    browser = Browser(site_url)
    real_delivery = common.deliver_over_http
    if not notify:
        common.deliver_over_http = lambda *args: (None, "unreachable")
    try:
        browser.submit(browser.get(start.url), "/pay/")
    finally:
        common.deliver_over_http = real_delivery
    payment.refresh_from_db()
    return payment


@dataclass(frozen=True)
class Case:
    permissions: tuple[str, ...]
    setup: Callable[[Any], Any]
    act: Callable[[Client, Any], Any]
    done: Callable[[Any], bool]


def _course_with_lesson(status: str) -> Course:
    course = CourseFactory(status=status, published_at=timezone.now() if status == Course.Status.PUBLISHED else None)
    LessonFactory(course=course, position=1)
    return course


def _fresh(obj):
    return type(obj)._default_manager.filter(pk=obj.pk).first()


def _requested_refund(site):
    payment = paid_through_sandbox(site.url, CourseFactory(price_fen=1290))
    return refund_request(order=payment.order, learner=payment.order.learner, reason="Not what I expected")


def _processing_refund_never_sent(ctx):
    payment = paid_through_sandbox(ctx.site.url, CourseFactory(price_fen=1290))
    with ctx.gateway_unreachable():
        return refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=500, reason="partial")


def _requested_payout(site):
    creator = CreatorFactory()
    sell(CourseFactory(creator=creator, price_fen=20000), days_ago=8)
    earnings_settle_due()
    return payout_request(creator=creator, requested_by=creator, amount_fen=15000)


def _approved_payout_never_sent(ctx):
    payout = _requested_payout(ctx.site)
    with ctx.gateway_unreachable():
        return payout_approve(payout=payout, staff=UserFactory(is_staff=True))


def _stored_notification_not_processed(site):
    payment = PaymentFactory(order__course=CourseFactory(price_fen=1290))
    return GatewayNotification.objects.create(
        channel="sandbox", kind="payment", body=sandbox_notification_body(payment), body_sha256="0" * 64
    )


def _course_change(client, course):
    page = client.get(reverse("admin:courses_course_change", args=[course.pk]))
    if page.status_code != 200:
        return page
    return client.post(page.request["PATH_INFO"], {**form_data(page), "price_fen": "19.90"})


def _course_add(client, creator):
    data = {
        "creator": creator.pk,
        "title": "Added by staff",
        "slug": "added-by-staff",
        "price_fen": "8.80",
        "lessons-TOTAL_FORMS": 0,
        "lessons-INITIAL_FORMS": 0,
    }
    return client.post(reverse("admin:courses_course_add"), data)


def _user_change(client, user):
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    if page.status_code != 200:
        return page
    return client.post(page.request["PATH_INFO"], {**form_data(page), "first_name": "Renamed"})


def _user_add(client, _):
    data = {
        "username": "added_by_staff",
        "email": "added@example.com",
        "usable_password": "true",
        "password1": "a-good-long-pass-123",
        "password2": "a-good-long-pass-123",
    }
    return client.post(reverse("admin:accounts_user_add"), data)


def _password_change(client, user):
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    return client.post(url, {"password1": "another-long-pass-456", "password2": "another-long-pass-456"})


def _profile_change(client, profile):
    page = client.get(reverse("admin:accounts_creatorprofile_change", args=[profile.pk]))
    if page.status_code != 200:
        return page
    return client.post(page.request["PATH_INFO"], {**form_data(page), "display_name": "Renamed studio"})


def _order_refund(client, order):
    url = reverse("admin:payments_order_refund", args=[order.pk])
    return client.post(url, {"amount": "3.00", "reason": "goodwill"})


def _refund_decide(decision):
    def act(client, refund):
        url = reverse("admin:payments_refund_decide", args=[refund.pk])
        return client.post(url, {"decision": decision, "note": "checked with the learner"})

    return act


def _payout_bank(client, payout):
    return client.post(reverse("admin:payments_payout_bank", args=[payout.pk]), {"reference": "BANK-2026-1"})


S = Course.Status
CASES: dict[str, Case] = {
    # courses/admin.py
    "course publish": Case(
        ("courses.view_course", "courses.change_course"),
        lambda ctx: _course_with_lesson(S.DRAFT),
        lambda client, c: post_action(client, Course, "publish", c),
        lambda c: _fresh(c).status == S.PUBLISHED,
    ),
    "course unpublish": Case(
        ("courses.view_course", "courses.change_course"),
        lambda ctx: _course_with_lesson(S.PUBLISHED),
        lambda client, c: post_action(client, Course, "unpublish", c),
        lambda c: _fresh(c).status == S.DRAFT,
    ),
    "course archive": Case(
        ("courses.view_course", "courses.change_course"),
        lambda ctx: _course_with_lesson(S.PUBLISHED),
        lambda client, c: post_action(client, Course, "archive", c),
        lambda c: _fresh(c).status == S.ARCHIVED,
    ),
    "course delete": Case(
        ("courses.view_course", "courses.delete_course"),
        lambda ctx: _course_with_lesson(S.DRAFT),
        lambda client, c: post_action(client, Course, "delete_selected", c, post="yes"),
        lambda c: _fresh(c) is None,
    ),
    "course edit (price in yuan)": Case(
        ("courses.view_course", "courses.change_course", "courses.view_lesson", "courses.change_lesson"),
        lambda ctx: _course_with_lesson(S.PUBLISHED),
        _course_change,
        lambda c: _fresh(c).price_fen == 1990,
    ),
    "course add": Case(
        ("courses.view_course", "courses.add_course"),
        lambda ctx: CreatorFactory(),
        _course_add,
        lambda creator: Course.objects.filter(slug="added-by-staff", creator=creator, price_fen=880).exists(),
    ),
    # accounts/admin.py
    "user edit": Case(
        ("accounts.view_user", "accounts.change_user"),
        lambda ctx: UserFactory(first_name="Before"),
        _user_change,
        lambda u: _fresh(u).first_name == "Renamed",
    ),
    "user add": Case(
        ("accounts.add_user", "accounts.change_user"),
        lambda ctx: None,
        _user_add,
        lambda _: User.objects.filter(username="added_by_staff").exists(),
    ),
    "user password": Case(
        ("accounts.change_user",),
        lambda ctx: UserFactory(),
        _password_change,
        lambda u: _fresh(u).check_password("another-long-pass-456"),
    ),
    "user delete": Case(
        ("accounts.view_user", "accounts.delete_user"),
        lambda ctx: UserFactory(),
        lambda client, u: post_action(client, User, "delete_selected", u, post="yes"),
        lambda u: _fresh(u) is None,
    ),
    "creator profile edit": Case(
        ("accounts.view_creatorprofile", "accounts.change_creatorprofile"),
        lambda ctx: CreatorFactory().creator_profile,
        _profile_change,
        lambda p: _fresh(p).display_name == "Renamed studio",
    ),
    # payments/admin/core.py
    "order refund form": Case(
        ("payments.view_order", "payments.issue_refund"),
        lambda ctx: paid_through_sandbox(ctx.site.url, CourseFactory(price_fen=1290)).order,
        _order_refund,
        lambda o: _fresh(o).refunded_fen == 300,
    ),
    "payment ask the gateway": Case(
        ("payments.view_payment", "payments.sync_payment"),
        lambda ctx: paid_through_sandbox(ctx.site.url, CourseFactory(price_fen=1290), notify=False),
        lambda client, p: post_action(client, Payment, "query_gateway", p),
        lambda p: _fresh(p).status == Payment.Status.SUCCEEDED,
    ),
    "refund approve": Case(
        ("payments.view_refund", "payments.decide_refund"),
        lambda ctx: _requested_refund(ctx.site),
        lambda client, r: post_action(client, Refund, "approve", r),
        lambda r: _fresh(r).status == Refund.Status.SUCCEEDED,
    ),
    "refund reject": Case(
        ("payments.view_refund", "payments.decide_refund"),
        lambda ctx: _requested_refund(ctx.site),
        lambda client, r: post_action(client, Refund, "reject", r),
        lambda r: _fresh(r).status == Refund.Status.REJECTED,
    ),
    "refund approve page": Case(
        ("payments.view_refund", "payments.decide_refund"),
        lambda ctx: _requested_refund(ctx.site),
        _refund_decide("approve"),
        lambda r: _fresh(r).status == Refund.Status.SUCCEEDED,
    ),
    "refund reject page": Case(
        ("payments.view_refund", "payments.decide_refund"),
        lambda ctx: _requested_refund(ctx.site),
        _refund_decide("reject"),
        lambda r: _fresh(r).status == Refund.Status.REJECTED,
    ),
    "refund send again": Case(
        ("payments.view_refund", "payments.decide_refund"),
        _processing_refund_never_sent,
        lambda client, r: post_action(client, Refund, "send_again", r),
        lambda r: _fresh(r).status == Refund.Status.SUCCEEDED,
    ),
    "notification process again": Case(
        ("payments.view_gatewaynotification", "payments.reprocess_gatewaynotification"),
        lambda ctx: _stored_notification_not_processed(ctx.site),
        lambda client, n: post_action(client, GatewayNotification, "reprocess", n),
        lambda n: _fresh(n).outcome == GatewayNotification.Outcome.PROCESSED,
    ),
    "reconciliation run again": Case(
        ("payments.view_reconciliationrun", "payments.run_reconciliation"),
        lambda ctx: ReconciliationRun.objects.create(
            channel="sandbox", day=timezone.localdate() - dt.timedelta(days=1), started_at=timezone.now()
        ),
        lambda client, r: post_action(client, ReconciliationRun, "run_again", r),
        lambda r: _fresh(r).status == ReconciliationRun.Status.BALANCED,
    ),
    # payments/admin/ledger.py
    "payout approve": Case(
        ("payments.view_payout", "payments.decide_payout"),
        lambda ctx: _requested_payout(ctx.site),
        lambda client, p: post_action(client, Payout, "approve", p),
        lambda p: _fresh(p).status == Payout.Status.PAID,
    ),
    "payout reject": Case(
        ("payments.view_payout", "payments.decide_payout"),
        lambda ctx: _requested_payout(ctx.site),
        lambda client, p: post_action(client, Payout, "reject", p),
        lambda p: _fresh(p).status == Payout.Status.REJECTED,
    ),
    "payout send again": Case(
        ("payments.view_payout", "payments.decide_payout"),
        _approved_payout_never_sent,
        lambda client, p: post_action(client, Payout, "send_again", p),
        lambda p: _fresh(p).status == Payout.Status.PAID,
    ),
    "payout paid by bank": Case(
        ("payments.view_payout", "payments.decide_payout"),
        lambda ctx: _requested_payout(ctx.site),
        _payout_bank,
        lambda p: _fresh(p).status == Payout.Status.PAID,
    ),
}


@dataclass
class Context:
    site: Any
    settings: Any

    @contextlib.contextmanager
    def gateway_unreachable(self):
        """The sandbox gateway does not answer: what is sent now stays processing, to be sent again."""
        self.settings.SANDBOX_SERVER_URL = "http://127.0.0.1:9/sandbox/sandbox/"
        try:
            yield
        finally:
            self.settings.SANDBOX_SERVER_URL = ""


@pytest.fixture
def ctx(gateway_site, settings):
    settings.PAYOUT_MIN_FEN = 100
    return Context(site=gateway_site, settings=settings)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("role", ["superuser", "documented permissions"])
def test_staff_allowed_to_act_change_what_the_action_says(client, ctx, name, role):
    case = CASES[name]
    obj = case.setup(ctx)
    user = UserFactory(is_staff=True, is_superuser=True) if role == "superuser" else staff_with(*case.permissions)
    client.force_login(user)
    assert not case.done(obj)

    response = case.act(client, obj)

    assert response.status_code < 400
    assert case.done(obj), response.content.decode()[-3000:]


@pytest.mark.parametrize("name", list(CASES))
def test_staff_who_may_only_view_change_nothing(client, ctx, name):
    case = CASES[name]
    obj = case.setup(ctx)
    client.force_login(view_only_staff())
    assert not case.done(obj)

    case.act(client, obj)

    assert not case.done(obj)
    assert not CreatorProfile.objects.filter(display_name="Renamed studio").exists()
    assert not Order.objects.filter(refunded_fen=300).exists()
