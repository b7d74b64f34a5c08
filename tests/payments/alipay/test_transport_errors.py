"""Every way an Alipay call can fail becomes one of our typed errors, through the real SDK over HTTP.

A stub server plays Alipay with canned replies (signed with the test platform key, or not), so
each failure is exact; only the last tests, about what the core then does, use the database.
"""

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from payments.gateways import gateway_get
from payments.gateways.base import (
    GatewayConfigurationError,
    GatewayRejected,
    GatewayResponseInvalid,
    GatewayUnavailable,
    TradeAlreadyPaid,
    TradeNotFound,
)
from payments.models import Order, Payment, Refund
from payments.services.refunds import refund_send
from payments.services.sync import order_sync, payment_close
from tests.factories import PaymentFactory, RefundFactory
from tests.payments.alipay.helpers import payment_request, signed_reply, stranger_key

QUERY = "alipay.trade.query"
OUT_TRADE_NO = "KP20261122000000000001P01"


class StubAlipay:
    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.requests: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.requests.append((self.path, self.headers["Host"]))
                self.send_response(stub.status)
                self.send_header("Content-Length", str(len(stub.body)))
                self.end_headers()
                self.wfile.write(stub.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/gateway.do"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def reply(self, fields: dict, *, method: str = QUERY, key=None, status: int = 200) -> None:
        self.status, self.body = status, signed_reply(method, fields, key)


@pytest.fixture
def stub(settings):
    alipay = StubAlipay()
    settings.ALIPAY_SERVER_URL = alipay.url
    yield alipay
    alipay.server.shutdown()
    alipay.server.server_close()


@pytest.fixture
def gateway(stub):
    return gateway_get("alipay")


def paid_trade(**overrides) -> dict:
    return {
        "code": "10000",
        "msg": "Success",
        "out_trade_no": OUT_TRADE_NO,
        "trade_no": "2026112222001400001234567890",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "12.90",
        "send_pay_date": "2026-11-22 12:00:00",
        **overrides,
    }


def failure(sub_code: str, code: str = "40004") -> dict:
    return {"code": code, "msg": "Business Failed", "sub_code": sub_code, "sub_msg": "..."}


# --- The network ----------------------------------------------------------------------------


def test_closed_port_is_unavailable(settings):
    settings.ALIPAY_SERVER_URL = "http://127.0.0.1:9/gateway.do"

    with pytest.raises(GatewayUnavailable) as error:
        gateway_get("alipay").query_payment(OUT_TRADE_NO)

    assert error.value.code == "NETWORK"


def test_server_that_accepts_and_never_answers_times_out_as_unavailable(settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    settings.ALIPAY_SERVER_URL = f"http://127.0.0.1:{silent.getsockname()[1]}/gateway.do"
    settings.GATEWAY_TIMEOUT_SECONDS = 0.3
    try:
        with pytest.raises(GatewayUnavailable) as error:
            gateway_get("alipay").query_payment(OUT_TRADE_NO)
    finally:
        silent.close()

    assert error.value.code == "NETWORK"


@pytest.mark.parametrize("status", [404, 502])
def test_non_200_reply_is_unavailable(gateway, stub, status):
    stub.status, stub.body = status, b"<html>Bad Gateway</html>"

    with pytest.raises(GatewayUnavailable) as error:
        gateway.query_payment(OUT_TRADE_NO)

    assert error.value.code == "HTTP_STATUS"


def test_requests_use_the_port_and_an_origin_form_target(gateway, stub):
    stub.reply(paid_trade())

    gateway.query_payment(OUT_TRADE_NO)

    ((target, host),) = stub.requests
    assert target.startswith("/gateway.do?")
    assert "method=alipay.trade.query" in target
    assert host == f"127.0.0.1:{stub.server.server_port}"


# --- Replies we cannot trust ----------------------------------------------------------------


def test_reply_signed_with_another_key_is_invalid(gateway, stub):
    stub.reply(paid_trade(), key=stranger_key())

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_reply_whose_content_was_changed_after_signing_is_invalid(gateway, stub):
    stub.reply(paid_trade())
    stub.body = stub.body.replace(b'"12.90"', b'"0.01"')

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


@pytest.mark.parametrize("body", [b"", b"not json", b'{"alipay_trade_query_response":{"code":"10000"}}'])
def test_reply_of_the_wrong_shape_or_unsigned_is_invalid(gateway, stub, body):
    stub.body = body

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_signed_reply_about_another_trade_is_invalid(gateway, stub):
    stub.reply(paid_trade(out_trade_no="KP-someone-else"))

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_signed_reply_with_an_inexact_amount_is_invalid(gateway, stub):
    stub.reply(paid_trade(total_amount="12.901"))

    with pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)


def test_unquoted_amount_in_a_signed_reply_is_read_exactly(gateway, stub):
    stub.reply({**paid_trade(), "total_amount": 12.9})

    assert gateway.query_payment(OUT_TRADE_NO).amount_fen == 1290


def test_unreadable_reply_is_logged_with_structured_fields(gateway, stub, caplog):
    stub.reply(paid_trade(), key=stranger_key())

    with caplog.at_level(logging.ERROR, logger="payments.gateways.alipay"), pytest.raises(GatewayResponseInvalid):
        gateway.query_payment(OUT_TRADE_NO)

    record = next(r for r in caplog.records if r.message == "alipay reply failed verification")
    assert (record.alipay_method, record.out_trade_no) == (QUERY, OUT_TRADE_NO)


# --- Alipay's error codes -------------------------------------------------------------------


def test_success_requires_no_sub_code(gateway, stub):
    stub.reply({**paid_trade(), "sub_code": "ACQ.SOMETHING"})

    with pytest.raises(GatewayRejected) as error:
        gateway.query_payment(OUT_TRADE_NO)

    assert error.value.code == "ACQ.SOMETHING"


def test_trade_not_exist_is_trade_not_found(gateway, stub):
    stub.reply(failure("ACQ.TRADE_NOT_EXIST"))

    with pytest.raises(TradeNotFound):
        gateway.query_payment(OUT_TRADE_NO)


@pytest.mark.parametrize(("code", "sub_code"), [("20000", "isp.unknow-error"), ("40004", "ACQ.SYSTEM_ERROR")])
def test_service_errors_are_unavailable(gateway, stub, code, sub_code):
    stub.reply(failure(sub_code, code))

    with pytest.raises(GatewayUnavailable) as error:
        gateway.query_payment(OUT_TRADE_NO)

    assert error.value.code == sub_code


def test_business_error_is_rejected_with_its_sub_code(gateway, stub):
    stub.reply(failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "40004"))

    with pytest.raises(GatewayRejected) as error:
        gateway.query_payment(OUT_TRADE_NO)

    assert error.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


def test_error_about_our_own_configuration_is_a_configuration_error(gateway, stub):
    stub.reply(failure("isv.invalid-signature", "40002"))

    with pytest.raises(GatewayConfigurationError) as error:
        gateway.query_payment(OUT_TRADE_NO)

    assert error.value.code == "isv.invalid-signature"


def test_precreate_of_a_paid_trade_is_trade_already_paid(gateway, stub):
    stub.reply(failure("ACQ.TRADE_HAS_SUCCESS"), method="alipay.trade.precreate")

    with pytest.raises(TradeAlreadyPaid):
        gateway.start_payment(payment_request(OUT_TRADE_NO, "qr"))


# --- What the core does with them: nothing wrong --------------------------------------------


@pytest.fixture
def open_attempt(db):
    return PaymentFactory(channel="alipay", out_trade_no=OUT_TRADE_NO, amount_fen=1290, order__amount_fen=1290)


@pytest.fixture
def refund_in_flight(db):
    payment = PaymentFactory(
        channel="alipay",
        out_trade_no=OUT_TRADE_NO,
        amount_fen=1290,
        order__amount_fen=1290,
        order__status=Order.Status.PAID,
        order__paid_at=timezone.now(),
        status=Payment.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
    )
    return RefundFactory(payment=payment, amount_fen=290, status=Refund.Status.PROCESSING)


def test_forged_paid_reply_to_i_have_paid_changes_nothing(stub, open_attempt):
    stub.reply(paid_trade(), key=stranger_key())

    with pytest.raises(GatewayResponseInvalid):
        order_sync(order=open_attempt.order)

    open_attempt.refresh_from_db()
    assert open_attempt.status == Payment.Status.CREATED
    assert Order.objects.get(pk=open_attempt.order_id).status == Order.Status.PENDING


def test_timeout_while_closing_leaves_the_attempt_open(settings, open_attempt):
    settings.ALIPAY_SERVER_URL = "http://127.0.0.1:9/gateway.do"

    with pytest.raises(GatewayUnavailable):
        payment_close(payment_id=open_attempt.pk)

    open_attempt.refresh_from_db()
    assert open_attempt.status == Payment.Status.CREATED


def test_refund_with_an_unverifiable_reply_stays_processing(stub, refund_in_flight):
    stub.reply(
        {"code": "10000", "msg": "Success", "out_trade_no": OUT_TRADE_NO, "fund_change": "Y"}, key=stranger_key()
    )

    with pytest.raises(GatewayResponseInvalid):
        refund_send(refund_id=refund_in_flight.pk)

    refund_in_flight.refresh_from_db()
    assert refund_in_flight.status == Refund.Status.PROCESSING


def test_refund_alipay_refuses_is_failed_with_its_code(stub, refund_in_flight):
    stub.reply(failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"), method="alipay.trade.refund")

    refund_send(refund_id=refund_in_flight.pk)

    refund_in_flight.refresh_from_db()
    assert refund_in_flight.status == Refund.Status.FAILED
    assert refund_in_flight.failure_reason.startswith("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
