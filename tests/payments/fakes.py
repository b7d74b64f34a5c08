"""A gateway module with a defect: it raises what the contract does not allow (a bare KeyError)."""

from __future__ import annotations

from payments.gateways.base import Gateway, PaymentMethod


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

    def query_payment(self, out_trade_no):
        raise ValueError(f"cannot read the reply about {out_trade_no}")

    def close_payment(self, out_trade_no):
        raise NotImplementedError

    def refund(self, request):
        raise NotImplementedError

    def query_refund(self, out_trade_no, out_refund_no):
        raise NotImplementedError
