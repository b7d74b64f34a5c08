"""/healthz and /readyz: what a load balancer and an operator ask, answered without login or cache,
and each readiness check failing when its dependency is stopped."""

import os

import pytest
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from payments.gateways.breakers import breaker_for
from tests.operating import closed_port


def readiness(client):
    response = client.get("/readyz")
    return response, response.json()


def test_healthz_answers_without_login_session_or_a_known_host(client):
    # A probe calls the pod by its address: not in ALLOWED_HOSTS, plain HTTP, no cookies.
    response = client.get("/healthz", HTTP_HOST="10.0.0.7")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


def test_healthz_needs_no_database(client):
    # No `db` fixture: any query would raise here.
    assert client.get("/healthz").status_code == 200


def test_readyz_reports_every_check_with_its_status_and_time(client, db):
    response, report = readiness(client)

    assert response.status_code == 200
    assert report["status"] == "ok"
    assert {"database", "migrations", "cache", "gateway:sandbox"} <= set(report["checks"])
    for check in report["checks"].values():
        assert check["status"] == "ok"
        assert isinstance(check["time_ms"], float | int)
    assert "no-store" in response["Cache-Control"]


def test_readyz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor == "sqlite":
        monkeypatch.setitem(settings_dict, "NAME", "/nonexistent-directory/knowpay.sqlite3")
    else:
        monkeypatch.setitem(settings_dict, "PORT", str(closed_port()))

    response, report = readiness(client)

    assert response.status_code == 503
    assert report["status"] == "fail"
    assert report["checks"]["database"]["status"] == "fail"


def test_readyz_is_503_when_a_migration_is_not_applied(client, db):
    latest = MigrationRecorder.Migration.objects.filter(app="payments").order_by("-name").first()
    latest.delete()

    response, report = readiness(client)

    assert response.status_code == 503
    assert report["checks"]["migrations"]["status"] == "fail"
    assert f"payments.{latest.name}" in report["checks"]["migrations"]["detail"]
    assert report["checks"]["database"]["status"] == "ok"


def test_readyz_is_503_when_the_cache_is_unreachable(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    response, report = readiness(client)

    assert response.status_code == 503
    assert report["checks"]["cache"]["status"] == "fail"


def test_a_dead_broker_degrades_readiness_without_taking_the_web_out_of_rotation(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response, report = readiness(client)

    assert response.status_code == 200
    assert report["status"] == "degraded"
    assert report["checks"]["broker"] == {**report["checks"]["broker"], "status": "fail", "critical": False}


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="needs a Redis broker: set CELERY_BROKER_URL")
def test_a_live_broker_is_ready(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]

    _, report = readiness(client)

    assert report["checks"]["broker"]["status"] == "ok"


def test_without_a_broker_readiness_does_not_ask_for_one(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    _, report = readiness(client)

    assert "broker" not in report["checks"]


def test_a_dead_breaker_store_degrades_readiness(client, db, settings):
    settings.GATEWAY_BREAKER_REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response, report = readiness(client)

    assert response.status_code == 200
    assert report["status"] == "degraded"
    assert report["checks"]["breaker_store"]["status"] == "fail"


def test_an_open_circuit_shows_in_readiness_by_channel_and_operation(client, db):
    breaker_for("sandbox", "query_payment").open()

    response, report = readiness(client)

    assert response.status_code == 200
    assert report["status"] == "degraded"
    assert report["checks"]["gateway:sandbox"]["status"] == "fail"
    assert "query_payment open" in report["checks"]["gateway:sandbox"]["detail"]
    assert report["checks"]["gateway:alipay"]["status"] == "ok"


def test_readiness_answers_only_get(client, db):
    assert client.post("/readyz").status_code == 405
