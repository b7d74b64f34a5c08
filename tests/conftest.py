import os

import pytest
from django.core.cache import cache
from django.db import connection

from knowpay.celery import app as celery_app
from payments.gateways.breakers import breakers_reset
from tests.factories import CourseFactory, CreatorFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    has_broker = bool(os.environ.get("CELERY_BROKER_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL (row locks, triggers): set DATABASE_URL=postgres://...")
            )
        if "broker" in item.keywords and not (has_broker and on_postgres):
            item.add_marker(
                pytest.mark.skip(reason="needs a Redis broker and PostgreSQL (set CELERY_BROKER_URL and DATABASE_URL)")
            )


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIMULATOR_ASYNC_NOTIFY = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_circuit_breakers():
    # Circuits live as long as the process: one test's gateway outage must not open another's.
    breakers_reset()
    yield
    breakers_reset()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and throttles count in the cache; every test starts with none used.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    # Tests run tasks in-process; the `broker` tests start a real worker instead.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def creator(db):
    return CreatorFactory()


@pytest.fixture
def course(creator):
    return CourseFactory(creator=creator, price_fen=1290)
