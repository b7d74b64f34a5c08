"""Circuit breakers per gateway operation: a dead gateway costs N timeouts, not one per call; a
trial call after the reset timeout closes the circuit; refusals never open it; state is shared
through Redis, and a dead Redis leaves each process its own."""

import datetime as dt
import os
import uuid

import pytest
import redis
from django.core.management import call_command
from django.urls import reverse

from payments.gateways import gateway_get
from payments.gateways.base import GatewayCircuitOpen, GatewayUnavailable, TradeNotFound
from payments.gateways.breakers import (
    GatewayBreaker,
    SharedOrLocalStorage,
    _RedisHealth,
    _ReportingRedis,
    breaker_for,
)
from payments.models import Alert, GatewayCall, Payment
from payments.services.sync import payments_sync_open
from tests.factories import OrderFactory, PaymentFactory
from tests.operating import closed_port, hang_up_server

pytestmark = pytest.mark.django_db

DEAD_GATEWAY_PORT = 8182
N = 3


@pytest.fixture
def dead_sandbox(settings):
    """The sandbox gateway behind a server that hangs up on every connection; counts them."""
    settings.GATEWAY_BREAKER_FAIL_MAX = N
    settings.GATEWAY_BREAKER_RESET_SECONDS = 60
    settings.SANDBOX_SERVER_URL = f"http://127.0.0.1:{DEAD_GATEWAY_PORT}/"
    with hang_up_server(DEAD_GATEWAY_PORT) as connections:
        yield connections


def query(out_trade_no="KP-breaker-1"):
    return gateway_get("sandbox").query_payment(out_trade_no)


def test_a_dead_gateway_opens_the_circuit_after_n_failures_and_later_calls_never_reach_it(dead_sandbox):
    for _ in range(N):
        with pytest.raises(GatewayUnavailable) as failed:
            query()
        assert not isinstance(failed.value, GatewayCircuitOpen)
    assert len(dead_sandbox) == N

    with pytest.raises(GatewayCircuitOpen) as refused:
        query()

    assert isinstance(refused.value, GatewayUnavailable)  # every caller already handles it
    assert len(dead_sandbox) == N  # no connection was made
    last = GatewayCall.objects.order_by("-id").first()
    assert (last.outcome, last.code, last.duration_ms) == ("circuit_open", "CIRCUIT_OPEN", 0)
    assert breaker_for("sandbox", "query_payment").current_state == "open"
    assert breaker_for("sandbox", "refund").current_state == "closed"  # per operation


def test_a_trial_call_after_the_reset_timeout_closes_the_circuit(dead_sandbox, settings, gateway_site, time_machine):
    for _ in range(N):
        with pytest.raises(GatewayUnavailable):
            query()
    settings.SANDBOX_SERVER_URL = ""  # the gateway is back (the local simulator of the live server)
    with pytest.raises(GatewayCircuitOpen):
        query()

    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    with pytest.raises(TradeNotFound):  # an answer: the trial call went through and succeeded
        query()

    assert breaker_for("sandbox", "query_payment").current_state == "closed"
    assert GatewayCall.objects.order_by("-id").first().outcome == "rejected"


def test_an_opening_circuit_alerts_staff_once_and_its_closing_resolves_the_alert(
    dead_sandbox, settings, gateway_site, time_machine
):
    for _ in range(N + 2):
        with pytest.raises(GatewayUnavailable):
            query()

    alert = Alert.objects.get()
    assert (alert.kind, alert.incident_key, alert.status) == (
        "circuit_open",
        "circuit_open:sandbox.query_payment",
        "open",
    )
    settings.SANDBOX_SERVER_URL = ""
    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    with pytest.raises(TradeNotFound):
        query()

    assert Alert.objects.get().status == "resolved"


def test_a_failed_trial_call_opens_the_circuit_for_another_period(dead_sandbox, time_machine):
    for _ in range(N):
        with pytest.raises(GatewayUnavailable):
            query()

    time_machine.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    with pytest.raises(GatewayUnavailable):
        query()
    with pytest.raises(GatewayCircuitOpen):
        query()

    assert len(dead_sandbox) == N + 1


def test_refusals_are_answers_and_never_open_the_circuit(settings, gateway_site):
    settings.GATEWAY_BREAKER_FAIL_MAX = N

    for _ in range(N + 2):
        with pytest.raises(TradeNotFound):
            query()

    assert breaker_for("sandbox", "query_payment").current_state == "closed"


def test_the_learner_is_told_who_is_not_answering_and_what_to_use_instead(dead_sandbox, settings):
    settings.PAYMENTS_CHANNELS = ["sandbox", "alipay", "wechat"]
    breaker_for("sandbox", "start_payment").open()
    breaker_for("sandbox", "refund").open()
    breaker_for("alipay", "start_payment").open()

    with pytest.raises(GatewayCircuitOpen) as refused:
        gateway_get("sandbox").refund(None)  # fail-fast comes before the module sees the request
    with pytest.raises(GatewayCircuitOpen) as refused_start:
        gateway_get("sandbox").start_payment(None)

    assert refused.value.user_message == "Sandbox Pay is not answering. Please try again in a minute."
    assert refused_start.value.user_message == "Sandbox Pay is not answering. Try WeChat Pay or try again in a minute."


def test_checkout_flags_a_channel_whose_circuit_is_open_and_preselects_another(client, learner, course, settings):
    settings.PAYMENTS_CHANNELS = ["sandbox", "alipay"]
    order = OrderFactory(learner=learner, course=course)
    breaker_for("sandbox", "start_payment").open()
    client.force_login(learner)

    page = client.get(reverse("payments:order_detail", kwargs={"order_no": order.order_no})).content.decode()

    assert 'value="sandbox:page" disabled' in page
    assert "Sandbox Pay is not answering right now" in page
    assert 'value="alipay:page" checked' in page


def test_paying_through_an_open_circuit_says_so_and_changes_nothing(client, learner, course, settings):
    settings.PAYMENTS_CHANNELS = ["sandbox", "alipay"]
    order = OrderFactory(learner=learner, course=course)
    breaker_for("sandbox", "start_payment").open()
    client.force_login(learner)

    response = client.post(
        reverse("payments:order_pay", kwargs={"order_no": order.order_no}), {"method": "sandbox:page"}, follow=True
    )

    assert "Sandbox Pay is not answering. Try Alipay or try again in a minute." in response.content.decode()
    assert not Payment.objects.filter(start_data__has_key="url").exists()


def test_the_periodic_sync_asks_a_channel_with_an_open_circuit_once_not_per_attempt(dead_sandbox, learner):
    breaker_for("sandbox", "query_payment").open()
    for _ in range(5):
        PaymentFactory(order=OrderFactory(learner=learner))
    Payment.objects.update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))

    payments_sync_open()

    assert GatewayCall.objects.filter(channel="sandbox", operation="query_payment").count() == 1
    assert len(dead_sandbox) == 0


def test_an_operator_resets_every_circuit(dead_sandbox):
    breaker_for("sandbox", "query_payment").open()

    call_command("gateway_circuits", "--reset")

    assert breaker_for("sandbox", "query_payment").current_state == "closed"


def _breaker(client, namespace: str) -> GatewayBreaker:
    """The breaker one process would build for sandbox.query_payment, on a store of its own."""
    return GatewayBreaker(
        channel="sandbox", operation="query_payment", storage=SharedOrLocalStorage(namespace=namespace, client=client)
    )


def _client(url: str) -> _ReportingRedis:
    client = _ReportingRedis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    client.health = _RedisHealth()
    return client


def _fail(breaker: GatewayBreaker) -> None:
    with pytest.raises(GatewayUnavailable), breaker.calling():
        raise GatewayUnavailable("no answer")


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="needs Redis: set CELERY_BROKER_URL")
def test_processes_share_the_circuit_through_redis(settings):
    settings.GATEWAY_BREAKER_FAIL_MAX = N
    namespace = f"knowpay-test-{uuid.uuid4().hex}"
    web, worker = (
        _breaker(_client(os.environ["CELERY_BROKER_URL"]), namespace),
        _breaker(_client(os.environ["CELERY_BROKER_URL"]), namespace),
    )
    try:
        for _ in range(N - 1):
            _fail(web)
        _fail(worker)  # the N-th failure, seen by another process

        assert web.current_state == "open"
        assert web.refusing()
    finally:
        cleanup = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
        cleanup.delete(*cleanup.keys(f"{namespace}:*"))


def test_with_redis_down_each_process_keeps_its_own_circuit_and_calls_go_on(settings, caplog):
    settings.GATEWAY_BREAKER_FAIL_MAX = N
    breaker = _breaker(_client(f"redis://127.0.0.1:{closed_port()}/0"), "knowpay-test-down")

    for _ in range(N):
        _fail(breaker)

    assert breaker.current_state == "open"
    assert not breaker._state_storage.shared
    assert "circuit breaker store unreachable" in caplog.text
