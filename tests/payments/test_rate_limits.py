"""Rate limits on checkout starts, "I have paid", payout requests and the API; a limited request
gets 429 with Retry-After (a page explaining it, or the API's error envelope)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from payments.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


def _limit(settings, name: str, rate: str) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, name: rate}


def _throttle(settings, scope: str, rate: str) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope: rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_checkout_starts_are_limited_with_a_page_and_retry_after(client, learner, course, settings):
    _limit(settings, "checkout", "2/m")
    client.force_login(learner)

    replies = [client.post(f"/courses/{course.slug}/buy/") for _ in range(3)]

    assert [reply.status_code for reply in replies] == [302, 302, 429]
    assert "Too many requests" in replies[-1].text
    assert int(replies[-1]["Retry-After"]) > 0


def test_i_have_paid_is_limited(client, learner, course, settings):
    _limit(settings, "order_check", "1/m")
    order = OrderFactory(learner=learner, course=course)
    client.force_login(learner)

    replies = [client.post(f"/orders/{order.order_no}/check/") for _ in range(2)]

    assert [reply.status_code for reply in replies] == [302, 429]


def test_the_api_money_scope_is_throttled_with_the_envelope_and_retry_after(learner, course, settings):
    _throttle(settings, "money", "2/min")
    api = APIClient()
    api.force_authenticate(learner)

    replies = [api.post("/api/v1/orders/", {"course": course.slug}, format="json") for _ in range(3)]

    assert [reply.status_code for reply in replies] == [201, 201, 429]
    assert replies[-1].json()["error"]["code"] == "throttled"
    assert int(replies[-1]["Retry-After"]) > 0
    assert Order.objects.count() == 1  # the second reused the pending order
    assert api.get("/api/v1/orders/").status_code == 200  # reading costs nothing from the money budget


def test_anonymous_api_callers_have_their_own_budget(settings):
    _throttle(settings, "anon", "2/min")

    replies = [APIClient().get("/api/v1/courses/") for _ in range(3)]

    assert [reply.status_code for reply in replies] == [200, 200, 429]


def test_cache_url_puts_the_limits_in_redis_shared_by_every_process():
    environment = {**os.environ, "CACHE_URL": "redis://127.0.0.1:6379/9"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])",
        ],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "knowpay.settings"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/9"]
