"""Idempotency-Key on every money POST of the API: the same key and body replay the first answer,
the same key with another body is 422, and concurrent duplicates make one payout."""

import uuid

import pytest
from rest_framework.test import APIClient

from payments.models import Order, Payout, Refund
from payments.services.settlement import earnings_settle_due
from tests.concurrency import run_at_once
from tests.factories import CourseFactory
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db

PAYOUTS = "/api/v1/earnings/payouts/"


@pytest.fixture
def available(creator):
    """180 yuan available to the creator."""
    course = CourseFactory(creator=creator, price_fen=10000)
    sell(course, days_ago=9)
    sell(course, days_ago=8)
    earnings_settle_due()


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_two_payout_requests_with_one_key_make_one_payout_and_the_same_answer(available, creator):
    api, key = _api(creator), str(uuid.uuid4())

    first = api.post(PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = api.post(PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(available, creator):
    api, key = _api(creator), str(uuid.uuid4())
    api.post(PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    response = api.post(PAYOUTS, {"amount_fen": 12000}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Payout.objects.values_list("amount_fen", flat=True)) == [10000]


def test_without_a_key_every_request_acts(available, creator):
    api = _api(creator)

    api.post(PAYOUTS, {"amount_fen": 10000}, format="json")
    api.post(PAYOUTS, {"amount_fen": 5000}, format="json")

    assert Payout.objects.count() == 1  # the second was refused: below the minimum
    api.post(PAYOUTS, {"amount_fen": 10000}, format="json")
    assert Payout.objects.count() == 1  # and this one exceeds what is left


def test_a_refused_request_leaves_the_key_free_for_a_corrected_retry_of_the_same_body(available, creator, settings):
    api, key = _api(creator), str(uuid.uuid4())
    settings.PAYOUT_MIN_FEN = 20000
    refused = api.post(PAYOUTS, {"amount_fen": 15000}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    settings.PAYOUT_MIN_FEN = 10000

    retried = api.post(PAYOUTS, {"amount_fen": 15000}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert (refused.status_code, retried.status_code) == (400, 201)
    assert Payout.objects.count() == 1


def test_keys_belong_to_their_user(available, creator, learner, course):
    key = str(uuid.uuid4())
    _api(creator).post(PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    response = _api(learner).post("/api/v1/orders/", {"course": course.slug}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 201
    assert Order.objects.filter(learner=learner).count() == 1


def test_order_create_pay_and_refund_replay_under_their_key(learner, gateway_site, creator):
    api = _api(learner)
    course = CourseFactory(creator=creator, price_fen=1290)
    order_key, pay_key = str(uuid.uuid4()), str(uuid.uuid4())
    order = api.post("/api/v1/orders/", {"course": course.slug}, format="json", HTTP_IDEMPOTENCY_KEY=order_key)
    assert api.post(
        "/api/v1/orders/", {"course": course.slug}, format="json", HTTP_IDEMPOTENCY_KEY=order_key
    ).json() == (order.json())
    pay_url = f"/api/v1/orders/{order.json()['order_no']}/pay/"
    started = api.post(pay_url, {"channel": "sandbox", "method": "page"}, format="json", HTTP_IDEMPOTENCY_KEY=pay_key)
    again = api.post(pay_url, {"channel": "sandbox", "method": "page"}, format="json", HTTP_IDEMPOTENCY_KEY=pay_key)

    assert started.status_code == again.status_code == 200
    assert again.json() == started.json()
    assert Order.objects.get().payments.count() == 1


def test_a_refund_request_replays_under_its_key(learner, course):
    paid = sell(course, learner=learner)
    api, key = _api(learner), str(uuid.uuid4())
    url = f"/api/v1/orders/{paid.order.order_no}/refunds/"

    first = api.post(url, {"amount_fen": 100}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = api.post(url, {"amount_fen": 100}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert Refund.objects.count() == 1


def test_an_unusable_key_is_a_400(available, creator):
    response = _api(creator).post(PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Payout.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payout_requests_with_one_key_make_one_payout(available, creator):
    key = str(uuid.uuid4())

    replies = run_at_once(
        8, lambda i: _api(creator).post(PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    )

    assert Payout.objects.count() == 1
    statuses = sorted(reply.status_code for reply in replies)
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    payout_no = Payout.objects.get().payout_no
    assert all(reply.json()["payout_no"] == payout_no for reply in replies if reply.status_code == 201)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payout_requests_with_different_keys_stay_within_what_is_available(available, creator):
    replies = run_at_once(
        6,
        lambda i: _api(creator).post(
            PAYOUTS, {"amount_fen": 10000}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        ),
    )

    assert sorted(reply.status_code for reply in replies) == [201, 400, 400, 400, 400, 400]
    assert Payout.objects.count() == 1
