"""Every admin list and detail page renders for staff, with real money records in it."""

import pytest
from django.contrib import admin
from django.urls import reverse

from payments.services.refunds import refund_issue
from tests.factories import UserFactory
from tests.payments.conftest import sandbox_notification_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(payment, post_notify, django_capture_on_commit_callbacks):
    """A paid order with its notification, sale entry, outbox message and a partial refund."""
    with django_capture_on_commit_callbacks(execute=False):
        post_notify(sandbox_notification_body(payment))
        refund_issue(order=payment.order, staff=UserFactory(is_staff=True), amount_fen=290, reason="partial")
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
