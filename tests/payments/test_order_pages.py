"""The learner's order pages: their own orders only, and bad requests change nothing."""

import pytest

from payments.models import Order, Payment
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def others_order():
    return OrderFactory(learner=UserFactory())


@pytest.mark.parametrize("suffix", ["", "return/", "status/", "pay/P01/qr/"])
def test_another_learners_order_pages_are_404(logged_in, others_order, suffix):
    url = f"/orders/{others_order.order_no}/{suffix}".replace("pay/P01", f"pay/{others_order.order_no}P01")

    assert logged_in.get(url).status_code == 404


@pytest.mark.parametrize("action", ["cancel", "check", "pay", "refund"])
def test_actions_on_another_learners_order_are_404_and_change_nothing(logged_in, others_order, action):
    response = logged_in.post(f"/orders/{others_order.order_no}/{action}/", {"method": "sandbox:page"})

    assert response.status_code == 404
    assert Order.objects.get(pk=others_order.pk).status == Order.Status.PENDING
    assert not Payment.objects.exists()


def test_unknown_order_is_404(logged_in):
    assert logged_in.get("/orders/KP00000000000000000000/").status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, others_order):
    response = client.get(f"/orders/{others_order.order_no}/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_my_orders_lists_only_mine(logged_in, learner, others_order):
    mine = OrderFactory(learner=learner)

    page = logged_in.get("/orders/").content.decode()

    assert mine.order_no in page
    assert others_order.order_no not in page


def test_buying_through_the_page_redirects_to_checkout(logged_in, course, learner):
    response = logged_in.post(f"/courses/{course.slug}/buy/")

    order = Order.objects.get(learner=learner)
    assert response.url == f"/orders/{order.order_no}/"


def test_cancel_through_the_page_closes_the_order(logged_in, learner):
    order = OrderFactory(learner=learner)

    logged_in.post(f"/orders/{order.order_no}/cancel/")

    assert Order.objects.get(pk=order.pk).status == Order.Status.CLOSED
