"""Log lines keep their context: every `extra=` field, the request id (also in the tasks a request
starts), as JSON in production and readable text in the demo."""

import io
import json
import logging
import types

import pytest

from knowpay import request_id
from knowpay.logs import TextFormatter
from payments.models import GatewayNotification
from tests.factories import PaymentFactory
from tests.payments.conftest import sandbox_notification_body


@pytest.fixture
def console_lines():
    """What the console handler configured by settings.LOGGING writes, one entry per line."""
    [console] = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        yield lambda: [line for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        console.setStream(previous)


def json_records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_rejected_notification_logs_its_id_and_the_request_id_as_json(course, console_lines, client):
    payment = PaymentFactory(order__course=course)
    response = client.post(
        "/payments/notify/sandbox/",
        data=sandbox_notification_body(payment, key="forged-key"),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_REQUEST_ID="gw-req-0001-abcdef",
    )

    notification = GatewayNotification.objects.get()
    [record] = [r for r in json_records(console_lines()) if r["message"] == "notification rejected"]
    assert record["notification"] == notification.pk
    assert record["channel"] == "sandbox"
    assert record["request_id"] == "gw-req-0001-abcdef"
    assert record["level"] == "WARNING"
    assert record["logger"] == "payments.services.notifications"
    assert response["X-Request-ID"] == "gw-req-0001-abcdef"


def test_every_extra_field_is_kept_and_tracebacks_stay_on_the_line(console_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("payments.test").error(
            "it broke", extra={"order_no": "KP1", "amount_fen": 1290}, exc_info=True
        )

    [record] = json_records(console_lines())
    assert (record["order_no"], record["amount_fen"]) == ("KP1", 1290)
    assert "ValueError: boom" in record["exc_info"]


def test_a_request_id_is_made_when_none_or_an_insane_one_is_sent(client, db):
    made = client.get("/healthz")["X-Request-ID"]
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="evil\nInjected: yes")["X-Request-ID"]

    assert len(made) == 32
    assert replaced != made
    assert "\n" not in replaced
    assert len(replaced) == 32


def test_text_format_shows_the_same_fields_for_people():
    record = logging.LogRecord("payments", logging.WARNING, __file__, 1, "refund failed", None, None)
    record.refund_no = "KP1R01"
    record.request_id = "abc123abc123"

    line = TextFormatter().format(record)

    assert "WARNING payments refund failed" in line
    assert "refund_no=KP1R01" in line
    assert "request_id=abc123abc123" in line


def _task(headers: dict, *, eager: bool = False):
    return types.SimpleNamespace(request=types.SimpleNamespace(headers=headers, is_eager=eager))


def test_a_task_published_during_a_request_carries_its_id_and_the_worker_restores_it():
    token = request_id._request_id.set("req-for-the-task-01")
    headers: dict = {}
    try:
        request_id._task_carries_request_id(headers=headers)
    finally:
        request_id._request_id.reset(token)
    assert headers == {request_id.TASK_HEADER: "req-for-the-task-01"}

    # In the worker: the header brings the id back for the task's run; the next task has its own.
    request_id._task_restores_request_id(task=_task(headers))
    assert request_id.request_id_get() == "req-for-the-task-01"
    request_id._task_restores_request_id(task=_task({}))
    assert request_id.request_id_get() == ""


def test_a_task_published_outside_any_request_carries_no_id():
    headers: dict = {}

    request_id._task_carries_request_id(headers=headers)

    assert headers == {}
