"""Gateway modules for tests: one with a defect (it raises what the contract does not allow), one
whose bill and answers the test scripts."""

from __future__ import annotations

from typing import ClassVar

from payments.gateways.base import (
    Gateway,
    PaymentEvent,
    PaymentMethod,
    RefundEvent,
    RefundStatus,
    Statement,
    StatementEntry,
    TradeStatus,
)


class BrokenBillGateway(Gateway):
    """Reads a bill column that is not there, as a parser does when a gateway changes its layout."""

    channel = "brokenpay"
    display_name = "Broken bill"
    methods = (PaymentMethod("page", "Broken"),)

    def fetch_statement(self, day):
        return {}["商户订单号"]

    def parse_notification(self, notification):
        return int(notification.body)

    def start_payment(self, request):
        raise NotImplementedError

    def notification_reply(self, *, accepted, message=""):
        raise NotImplementedError

    def query_payment(self, out_trade_no, *, gateway_ref=""):
        raise ValueError(f"cannot read the reply about {out_trade_no}")

    def close_payment(self, out_trade_no, *, gateway_ref=""):
        raise NotImplementedError

    def refund(self, request):
        raise NotImplementedError

    def query_refund(self, out_trade_no, out_refund_no, *, gateway_trade_no="", gateway_refund_no=""):
        raise NotImplementedError


class ScriptedBillGateway(Gateway):
    """A channel whose bill and answers each test writes: reconciliation's differences injected one by one."""

    channel = "billpay"
    display_name = "Scripted bill"
    methods = (PaymentMethod("page", "Scripted"),)

    entries: ClassVar[list[StatementEntry]] = []
    # What a query says of a trade (default: paid, for the amount asked about on the bill).
    trade_status: ClassVar[dict[str, TradeStatus]] = {}

    def fetch_statement(self, day):
        return Statement(channel=self.channel, day=day, entries=tuple(type(self).entries))

    def query_payment(self, out_trade_no, *, gateway_ref=""):
        status = type(self).trade_status.get(out_trade_no, TradeStatus.WAITING)
        listed = next((e for e in type(self).entries if e.out_trade_no == out_trade_no), None)
        return PaymentEvent(
            out_trade_no=out_trade_no,
            status=status,
            amount_fen=listed.amount_fen if listed else 0,
            paid_at=listed.occurred_at if listed and status == TradeStatus.PAID else None,
            raw_status=status.value,
        )

    def refund(self, request):
        return RefundEvent(
            out_trade_no=request.out_trade_no,
            out_refund_no=request.out_refund_no,
            status=RefundStatus.SUCCEEDED,
            refund_fen=request.refund_fen,
        )

    def start_payment(self, request):
        raise NotImplementedError

    def parse_notification(self, notification):
        raise NotImplementedError

    def notification_reply(self, *, accepted, message=""):
        raise NotImplementedError

    def close_payment(self, out_trade_no, *, gateway_ref=""):
        raise NotImplementedError

    def query_refund(self, out_trade_no, out_refund_no, *, gateway_trade_no="", gateway_refund_no=""):
        raise NotImplementedError
