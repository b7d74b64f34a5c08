"""The earnings API: the same ledger reads as the dashboard, payout requests with the same rules, and
nothing of another creator's."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from payments.models import LedgerAccount, Payout
from payments.services.payouts import payout_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, UserFactory
from tests.payments.ledger.helpers import balance, refund, sell

pytestmark = pytest.mark.django_db

AVAILABLE = LedgerAccount.Kind.CREATOR_AVAILABLE


@pytest.fixture
def api(creator):
    client = APIClient()
    client.force_authenticate(creator)
    return client


@pytest.fixture
def earned(creator, staff):
    """Two settled sales of 50 yuan (45 yuan each to the creator), one refunded by 10 yuan; one held sale."""
    course = CourseFactory(creator=creator, price_fen=5000)
    settled = [sell(course, days_ago=8), sell(course, days_ago=9)]
    held = sell(course, days_ago=1)
    earnings_settle_due()
    refund(settled[0], staff=staff, amount_fen=1000)
    return [*settled, held]


def test_anonymous_callers_get_nothing():
    assert APIClient().get("/api/v1/earnings/").status_code == 401


def test_users_who_are_not_creators_get_nothing():
    client = APIClient()
    client.force_authenticate(UserFactory())

    response = client.get("/api/v1/earnings/")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only creators have earnings."


def test_another_creators_payout_is_404(api, other_creator, settings):
    settings.PAYOUT_MIN_FEN = 100
    sell(CourseFactory(creator=other_creator, price_fen=5000), days_ago=8)
    earnings_settle_due()
    theirs = payout_request(creator=other_creator, requested_by=other_creator, amount_fen=4500)

    assert api.get(f"/api/v1/earnings/payouts/{theirs.payout_no}/").status_code == 404
    assert api.get("/api/v1/earnings/payouts/").json()["results"] == []
    assert api.get("/api/v1/earnings/sales/").json()["results"] == []


@pytest.mark.parametrize(
    ("amount", "code"),
    [(9999, "below_minimum"), (10000, "exceeds_available")],
)
def test_a_refused_payout_request_is_a_clear_400(api, earned, creator, amount, code):
    response = api.post("/api/v1/earnings/payouts/", {"amount_fen": amount}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Payout.objects.exists()
    assert balance(creator, AVAILABLE) == 8100


def test_a_payout_request_that_is_not_a_number_is_refused(api, earned):
    response = api.post("/api/v1/earnings/payouts/", {"amount_fen": "lots"}, format="json")

    assert response.status_code == 400
    assert not Payout.objects.exists()


def test_a_payout_request_for_another_creator_only_ever_withdraws_the_callers_own(
    api, earned, creator, other_creator, settings
):
    settings.PAYOUT_MIN_FEN = 100

    response = api.post("/api/v1/earnings/payouts/", {"amount_fen": 500, "creator": other_creator.pk}, format="json")

    assert response.status_code == 201
    assert Payout.objects.get().creator == creator


def test_the_summary_reads_the_ledger(api, earned, creator):
    data = api.get("/api/v1/earnings/").json()

    assert data["available_fen"] == balance(creator, AVAILABLE) == 8100
    assert (data["pending_fen"], data["in_payout_fen"], data["paid_out_fen"]) == (4500, 0, 0)
    assert (data["sales_count"], data["gross_fen"], data["fees_fen"], data["net_fen"]) == (3, 15000, 1500, 13500)
    assert (data["refunded_fen"], data["refunded_fees_fen"], data["refunded_net_fen"]) == (1000, 100, 900)
    assert data["kept_fen"] == 12600
    assert [part["amount_fen"] for part in data["pending_parts"]] == [4500]
    assert data["payout_min_fen"] == 10000


def test_the_sales_list_shows_each_sales_split_refunds_and_hold(api, earned):
    results = api.get("/api/v1/earnings/sales/").json()["results"]

    by_order = {sale["order_no"]: sale for sale in results}
    refunded = by_order[earned[0].order.order_no]
    assert (refunded["gross_fen"], refunded["fee_fen"], refunded["net_fen"]) == (5000, 500, 4500)
    assert (refunded["refunded_fen"], refunded["refunded_net_fen"]) == (1000, 900)
    assert refunded["settled_at"] is not None
    assert by_order[earned[2].order.order_no]["settled_at"] is None


def test_a_payout_request_reserves_the_amount_and_names_the_sales_it_pays(api, earned, creator, settings):
    settings.PAYOUT_MIN_FEN = 100

    response = api.post("/api/v1/earnings/payouts/", {"amount_fen": 5000}, format="json")

    assert response.status_code == 201
    payout = response.json()
    assert (payout["amount_fen"], payout["status"]) == (5000, "requested")
    assert [(sale["order_no"], sale["amount_fen"]) for sale in payout["sales"]] == [
        (earned[1].order.order_no, 4500),  # settled first (it was paid first)
        (earned[0].order.order_no, 500),
    ]
    assert balance(creator, AVAILABLE) == 3100
    assert api.get(f"/api/v1/earnings/payouts/{payout['payout_no']}/").json() == payout


def test_the_schema_of_the_earnings_endpoints_validates_without_warnings():
    out, err = io.StringIO(), io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)

    assert "/api/v1/earnings/payouts/{payout_no}/" in out.getvalue()
    assert err.getvalue() == ""
