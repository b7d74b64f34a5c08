"""/metrics: Prometheus text for a token holder or an allowed network, nothing for anyone else;
requests counted by route name, with their database queries."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.operating import sample

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def protected(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.8.0.0/16"]


def test_without_a_token_or_network_the_endpoint_does_not_exist(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []

    assert client.get("/metrics").status_code == 404


def test_the_bearer_token_opens_it(client, db, protected):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"knowpay_http_requests_total" in response.content
    assert "no-store" in response["Cache-Control"]


def test_a_wrong_or_missing_token_from_outside_is_forbidden(client, db, protected):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_an_allowed_network_opens_it_and_a_forwarded_header_does_not(client, db, protected):
    assert client.get("/metrics", REMOTE_ADDR="10.8.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.8.3.4").status_code == 403


def _settings_in_a_fresh_process(**env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "METRICS_TOKEN", "LOG_FORMAT")}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(repr(settings.METRICS_TOKEN)); print(settings.METRICS_ALLOWED_NETWORKS); print(settings.LOG_FORMAT)"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "knowpay.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def test_production_defaults_close_metrics_and_log_json():
    token, networks, log_format = _settings_in_a_fresh_process(
        DEBUG="false",
        SECRET_KEY="a-production-secret-0123456789",
        FIELD_ENCRYPTION_KEYS="dGVzdC1vbmx5LXByb2R1Y3Rpb24ta2V5LTAxMjM0NTY=",
    )

    assert (token, networks, log_format) == ("''", "[]", "json")


def test_requests_are_counted_by_route_name_with_their_queries(client, course):
    labels = {"view": "courses:course_detail", "method": "GET", "status": "200"}
    before = sample("knowpay_http_requests_total", **labels)
    queries_before = sample("knowpay_http_request_db_queries_sum", view="courses:course_detail")
    timed_before = sample("knowpay_http_request_duration_seconds_count", view="courses:course_detail", method="GET")

    response = client.get(reverse("courses:course_detail", kwargs={"slug": course.slug}))

    assert response.status_code == 200
    assert sample("knowpay_http_requests_total", **labels) == before + 1
    assert sample("knowpay_http_request_db_queries_sum", view="courses:course_detail") > queries_before
    assert sample("knowpay_http_request_duration_seconds_count", view="courses:course_detail", method="GET") == (
        timed_before + 1
    )


def test_unknown_paths_and_methods_never_become_labels(client, db):
    before = sample("knowpay_http_requests_total", view="<unmatched>", method="other", status="404")

    client.generic("BREW", "/no-such-page-12345/")

    assert sample("knowpay_http_requests_total", view="<unmatched>", method="other", status="404") == before + 1
