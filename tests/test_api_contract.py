"""The API's contract for non-browser clients: one error envelope, strict amounts, docs served locally."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from payments.models import Payout, Refund
from tests.factories import CourseFactory
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db

FULLWIDTH_10000 = "\uff11\uff10\uff10\uff10\uff10"  # "10000" in full-width digits, as a Chinese IME types it


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_validation_error_names_each_bad_field_in_the_envelope(creator):
    response = _api(creator).post("/api/v1/studio/courses/", {"price_fen": -1}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"title", "price_fen"}
    assert error["message"]


@pytest.mark.parametrize(
    "amount", [FULLWIDTH_10000, "1_0000", " 10000", "10000.0", "1e4", "\u0663\u0660\u0660", True, 1e4, "9" * 30]
)
def test_amounts_accept_only_ascii_digits(creator, amount):
    CourseFactory(creator=creator)

    response = _api(creator).post("/api/v1/earnings/payouts/", {"amount_fen": amount}, format="json")

    assert response.status_code == 400
    assert "amount_fen" in response.json()["error"]["fields"]
    assert not Payout.objects.exists()


def test_a_refund_amount_in_full_width_digits_is_refused(learner, course):
    paid = sell(course, learner=learner)

    response = _api(learner).post(
        f"/api/v1/orders/{paid.order.order_no}/refunds/", {"amount_fen": "\uff11\uff12\uff19\uff10"}
    )

    assert response.status_code == 400
    assert not Refund.objects.exists()


def test_an_amount_as_a_string_of_ascii_digits_is_accepted(learner, course):
    paid = sell(course, learner=learner)

    response = _api(learner).post(f"/api/v1/orders/{paid.order.order_no}/refunds/", {"amount_fen": "100"})

    assert response.status_code == 201
    assert Refund.objects.get().amount_fen == 100


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing/", 404, "not_found"),
        ("get", "/api/v1/orders/KP-NOT-MINE/", 404, "not_found"),
        ("delete", "/api/v1/orders/", 405, "method_not_allowed"),
    ],
)
def test_every_error_has_the_envelope(learner, method, path, status, code):
    response = getattr(_api(learner), method)(path)

    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": response.json()["error"]["message"], "fields": {}}}


def test_malformed_json_is_a_400_in_the_envelope(learner):
    response = _api(learner).post("/api/v1/orders/", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_server_error_under_the_api_is_the_envelope_too(learner, monkeypatch):
    from payments.api import orders

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(orders.selectors, "order_list_for_learner", crash)
    client = Client(raise_request_exception=False)
    client.force_login(learner)

    response = client.get("/api/v1/orders/")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_the_schema_documents_the_envelope_the_idempotency_key_and_bearer_auth():
    schema = Client().get("/api/schema/?format=json").json()

    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    payout_post = schema["paths"]["/api/v1/earnings/payouts/"]["post"]
    assert {"400", "401", "403", "409", "422", "429"} <= set(payout_post["responses"])
    assert payout_post["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert any(p["name"] == "Idempotency-Key" for p in payout_post["parameters"])
    assert "jwtAuth" in schema["components"]["securitySchemes"]
    assert "/api/v1/auth/token/" in schema["paths"]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_their_scripts_from_this_site_not_a_cdn(url):
    page = Client().get(url)

    assert page.status_code == 200
    assert "/static/drf_spectacular_sidecar/" in page.text
    assert "cdn." not in page.text
    assert "jsdelivr" not in page.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/courses/?q=%00", 400),
        ("/api/v1/courses/%00/", 404),
        ("/api/v1/orders/KP%00/", 404),
        ("/api/v1/earnings/payouts/%00/", 404),
        ("/api/v1/studio/courses/%00/lessons/", 404),
    ],
)
def test_a_nul_byte_in_a_path_or_search_is_a_client_error_not_a_crash(creator, path, status):
    # PostgreSQL cannot hold NUL in text: such values must never reach a query.
    response = _api(creator).get(path)

    assert response.status_code == status
    assert response.json()["error"]["code"] in ("invalid", "not_found")
