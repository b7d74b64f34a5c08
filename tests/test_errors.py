"""Errors reach Sentry (when configured) without ever slowing a request, and never carry our secrets
or people's data; ADMINS comes from the environment."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from knowpay import operating
from knowpay.sentry import sentry_init
from tests.operating import black_hole, closed_port

ROOT = Path(__file__).resolve().parent.parent
BLACK_HOLE_PORT = 8181
# Far from the code that raises: Sentry sends a few lines of source around each frame.
LIVE_LOOKING_KEY = "sk_live_a-real-looking-secret-value-123456"
GATEWAY_SIGNATURE = "a-gateway-signature-value"


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


@pytest.fixture
def sentry_off_after():
    yield
    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.init(dsn=None)


@pytest.fixture
def failing_view(monkeypatch):
    def boom(request):
        raise RuntimeError("the view failed")

    monkeypatch.setitem(operating._ENDPOINTS, "/healthz", boom)


def _time_failing_requests(client, count: int) -> float:
    client.raise_request_exception = False
    started = time.perf_counter()
    for _ in range(count):
        assert client.get("/healthz").status_code == 500
    return time.perf_counter() - started


@pytest.mark.parametrize("sentry", ["black_hole", "closed_port"])
def test_an_unreachable_sentry_never_slows_a_request(client, db, failing_view, sentry_off_after, sentry):
    if sentry == "black_hole":
        with black_hole(BLACK_HOLE_PORT) as accepted:
            sentry_init(dsn=f"http://public@127.0.0.1:{BLACK_HOLE_PORT}/1", environment="test")
            elapsed = _time_failing_requests(client, 5)
            sentry_sdk.flush(timeout=2)
            assert accepted, "the events were sent to Sentry (in the background)"
    else:
        sentry_init(dsn=f"http://public@127.0.0.1:{closed_port()}/1", environment="test")
        elapsed = _time_failing_requests(client, 5)

    # Each request waits on nothing: a blocking send would hang on the black hole for its timeout.
    assert elapsed < 5


def test_events_carry_no_secret_and_no_personal_data(client, db, failing_view, settings, sentry_off_after):
    settings.STRIPE_SECRET_KEY = LIVE_LOOKING_KEY
    sentry_init(dsn="http://public@127.0.0.1:9/1", environment="test", transport=CapturingTransport)
    transport = sentry_sdk.get_client().transport

    try:
        raise RuntimeError(f"the gateway refused key {settings.STRIPE_SECRET_KEY}")
    except RuntimeError:
        sentry_sdk.set_extra("sign", GATEWAY_SIGNATURE)
        sentry_sdk.capture_exception()
    client.raise_request_exception = False
    client.get("/healthz", HTTP_AUTHORIZATION="Bearer user-session-token", HTTP_COOKIE="sessionid=abc123secret")
    sentry_sdk.flush(timeout=2)

    events = [item.payload.json for envelope in transport.envelopes for item in envelope.items]
    sent = json.dumps(events)
    assert "the gateway refused key [Filtered]" in sent
    assert settings.STRIPE_SECRET_KEY not in sent
    assert GATEWAY_SIGNATURE not in sent
    request_events = [event for event in events if "request" in event]
    assert any("the view failed" in json.dumps(event.get("exception", {})) for event in request_events)
    for event in request_events:
        request = json.dumps(event["request"])
        assert "user-session-token" not in request
        assert "abc123secret" not in request
        assert "REMOTE_ADDR" not in request
        assert "ip_address" not in json.dumps(event.get("user", {}))


def test_admins_come_from_the_environment():
    code = "import django; django.setup(); from django.conf import settings; print(settings.ADMINS)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "knowpay.settings"}
    env["ADMINS"] = "Ops Team <ops@example.com>,Li Wei <li@example.com>"

    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[('Ops Team', 'ops@example.com'), ('Li Wei', 'li@example.com')]"
