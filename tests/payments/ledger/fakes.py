"""A transfer-only gateway for payout tests: answers as it is told, and remembers what it was asked."""

from __future__ import annotations

from typing import ClassVar

from payments.gateways.base import Gateway, GatewayRejected, GatewayUnavailable, TransferRequest, TransferResult


class TransferGateway(Gateway):
    channel = "testpay"
    display_name = "Test transfers"
    methods = ()

    # What the next transfers answer, in order: "ok", "pending", "rejected" or "down"; then "ok".
    answers: ClassVar[list[str]] = []
    requests: ClassVar[list[TransferRequest]] = []

    def transfer(self, request: TransferRequest) -> TransferResult:
        type(self).requests.append(request)
        answer = type(self).answers.pop(0) if type(self).answers else "ok"
        if answer == "rejected":
            raise GatewayRejected("payee account does not exist", code="PAYEE_NOT_EXIST")
        if answer == "down":
            raise GatewayUnavailable("timed out", code="NETWORK")
        return TransferResult(
            out_biz_no=request.out_biz_no, transfer_no=f"T{request.out_biz_no}", succeeded=answer == "ok"
        )

    def start_payment(self, request):
        raise NotImplementedError

    def parse_notification(self, notification):
        raise NotImplementedError

    def notification_reply(self, *, accepted, message=""):
        raise NotImplementedError

    def query_payment(self, out_trade_no, *, gateway_ref=""):
        raise NotImplementedError

    def close_payment(self, out_trade_no, *, gateway_ref=""):
        raise NotImplementedError

    def refund(self, request):
        raise NotImplementedError

    def query_refund(self, out_trade_no, out_refund_no, *, gateway_trade_no="", gateway_refund_no=""):
        raise NotImplementedError

    def fetch_statement(self, day):
        raise NotImplementedError
