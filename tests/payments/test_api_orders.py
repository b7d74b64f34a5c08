"""The orders API: the browser's flow over JSON, with the same rules and errors."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from courses.models import Course
from payments.models import Order, Payment, Refund
from tests.factories import CourseFactory, OrderFactory, PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(learner):
    client = APIClient()
    client.force_authenticate(learner)
    return client


@pytest.fixture
def paid_order(learner, course):
    order = OrderFactory(learner=learner, course=course, status=Order.Status.PAID, paid_at=timezone.now())
    PaymentFactory(order=order, status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())
    return order


def test_anonymous_cannot_list_orders():
    assert APIClient().get("/api/v1/orders/").status_code == 401


def test_buying_a_draft_course_is_404(api):
    course = CourseFactory(status=Course.Status.DRAFT)

    response = api.post("/api/v1/orders/", {"course": course.slug}, format="json")

    assert response.status_code == 404
    assert not Order.objects.exists()


def test_buying_a_free_course_is_a_clear_400(api):
    response = api.post("/api/v1/orders/", {"course": CourseFactory(price_fen=0).slug}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "not_purchasable", "message": "This course cannot be bought.", "fields": {}}
    }


def test_buying_returns_the_pending_order_and_reuses_it(api, course):
    first = api.post("/api/v1/orders/", {"course": course.slug}, format="json")
    again = api.post("/api/v1/orders/", {"course": course.slug}, format="json")

    assert first.status_code == 201
    assert first.json()["amount_fen"] == 1290
    assert first.json()["amount_display"] == "¥12.90"
    assert again.json()["order_no"] == first.json()["order_no"]
    assert Order.objects.count() == 1


def test_another_learners_order_is_404(api):
    other = OrderFactory(learner=UserFactory())

    assert api.get(f"/api/v1/orders/{other.order_no}/").status_code == 404
    assert api.post(f"/api/v1/orders/{other.order_no}/cancel/").status_code == 404
    assert Order.objects.get(pk=other.pk).status == Order.Status.PENDING


def test_list_shows_only_my_orders(api, learner):
    mine = OrderFactory(learner=learner)
    OrderFactory(learner=UserFactory())

    results = api.get("/api/v1/orders/").json()["results"]

    assert [o["order_no"] for o in results] == [mine.order_no]


def test_pay_with_unknown_channel_is_400_and_starts_nothing(api, course):
    order_no = api.post("/api/v1/orders/", {"course": course.slug}, format="json").json()["order_no"]

    response = api.post(f"/api/v1/orders/{order_no}/pay/", {"channel": "applepay", "method": "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_channel"
    assert not Payment.objects.exists()


def test_pay_returns_what_the_browser_needs(api, course):
    order_no = api.post("/api/v1/orders/", {"course": course.slug}, format="json").json()["order_no"]

    response = api.post(f"/api/v1/orders/{order_no}/pay/", {"channel": "sandbox", "method": "page"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "redirect"
    assert body["out_trade_no"] == f"{order_no}P01"
    assert "/sandbox/sandbox/cashier/" in body["url"]


def test_channels_lists_what_checkout_offers(api):
    channels = api.get("/api/v1/channels/").json()

    assert {
        "channel": "sandbox",
        "name": "Sandbox Pay",
        "methods": [{"code": "page", "label": "Sandbox Pay · test cashier, no real money"}],
    } in channels


def test_refund_request_above_what_was_paid_is_refused(api, paid_order):
    response = api.post(f"/api/v1/orders/{paid_order.order_no}/refunds/", {"amount_fen": 99999}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_exceeds"
    assert not Refund.objects.exists()


def test_refund_request_is_recorded_for_review(api, paid_order):
    response = api.post(f"/api/v1/orders/{paid_order.order_no}/refunds/", {"reason": "not for me"}, format="json")

    assert response.status_code == 201
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_fen, refund.kind) == (Refund.Status.REQUESTED, 1290, Refund.Kind.LEARNER)


def test_second_refund_request_while_one_is_in_flight_is_refused(api, paid_order):
    api.post(f"/api/v1/orders/{paid_order.order_no}/refunds/", {"amount_fen": 100}, format="json")

    response = api.post(f"/api/v1/orders/{paid_order.order_no}/refunds/", {"amount_fen": 100}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "in_flight"
    assert Refund.objects.count() == 1


def test_schema_is_served(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/orders/{order_no}/pay/" in response.content
