"""Every admin list and detail page renders for staff, with real money records in it."""

import datetime as dt
import re

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from payments.models import ReconciliationRun
from payments.services.orders import order_create
from payments.services.payouts import payout_request
from payments.services.refunds import refund_issue
from payments.services.risk import RiskRefused, blocked_subject_add
from payments.services.settlement import earnings_settle_due
from tests.factories import UserFactory
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(payment, post_notify, django_capture_on_commit_callbacks, settings):
    """A paid order with its notification, sale entry, outbox message, a partial refund, a settled
    sale paid out, and a reconciliation run with a finding."""
    settings.PAYOUT_MIN_FEN = 100
    with django_capture_on_commit_callbacks(execute=False):
        post_notify(sandbox_notification_body(payment))
        refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=290, reason="partial")
        earnings_settle_due(now=timezone.now() + dt.timedelta(days=settings.SETTLEMENT_HOLD_DAYS + 1))
        creator = payment.order.course.creator
        payout_request(creator=creator, requested_by=creator, amount_fen=500)
    run = ReconciliationRun.objects.create(channel="sandbox", day=timezone.localdate(), started_at=timezone.now())
    run.items.create(kind="missing_on_bill", entry_kind="payment", out_trade_no=payment.out_trade_no)
    # A blocklist entry and the decision it caused.
    blocked = UserFactory()
    blocked_subject_add(kind="user", value=blocked.username, reason="test", staff=None)
    with pytest.raises(RiskRefused):
        order_create(learner=blocked, course=payment.order.course)
    return payment


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_changelist_renders(staff_client, history, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    response = staff_client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_detail_page_renders(staff_client, history, model):
    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        pytest.skip(f"no {model._meta.label} row in this history")

    response = staff_client.get(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    )

    assert response.status_code == 200


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_list_filters_and_list_parameters_with_unknown_values_are_ignored(staff_client, history, model):
    url = admin_url(model, "changelist")
    changelist = staff_client.get(url).context["cl"]
    parameters = {name for spec in changelist.filter_specs for name in spec.expected_parameters()}
    if changelist.date_hierarchy:
        parameters |= {f"{changelist.date_hierarchy}__{part}" for part in ("year", "month", "day")}
    parameters |= {"o", "p", "q", "all"}

    for name in sorted(parameters):
        for junk in ("no-such-value", "9999", "-1", "\uff11\uff12"):
            response = staff_client.get(url, {name: junk})
            # Django answers lookups it cannot apply with the whole list (?e=1); never an error page.
            assert response.status_code in (200, 302), (name, junk, response.status_code)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_page_shows_amounts_in_yuan(staff_client, history, model):
    pages = [staff_client.get(admin_url(model, "changelist")).content.decode()]
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        pages.append(staff_client.get(admin_url(model, "change", obj.pk)).content.decode())

    for page in pages:
        # A field label such as "Amount fen" or a number followed by "fen" would be an amount in fen.
        assert not re.search(r"\bfen\b", page, flags=re.IGNORECASE), re.findall(r".{60}\bfen\b.{20}", page)


def test_the_order_page_shows_its_amounts_in_yuan(staff_client, history):
    page = staff_client.get(admin_url(history.order.__class__, "change", history.order.pk)).content.decode()

    assert "¥12.90" in page  # the order, and its payment inline
    assert "¥2.90" in page  # the partial refund, inline and in the refunded total
