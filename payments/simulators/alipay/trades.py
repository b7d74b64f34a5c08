"""The local Alipay's books of trades and refunds for its one registered app, and the
notifications it owes the merchant.

A trade exists at Alipay only once the buyer opened the cashier (page pay) or scanned the code (QR
pay); until then a precreated trade is only remembered here, and the API answers
ACQ.TRADE_NOT_EXIST for it, as Alipay does.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from django.utils import timezone

from knowpay.money import fen_to_yuan
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.alipay.protocol import BEIJING, GATEWAY, SELLER_EMAIL, Refusal, app_id, beijing, seller_id
from payments.simulators.alipay.signing import signed_message
from payments.simulators.common import notification_send, random_digits

STATUS_WORDS = {
    SimulatedTrade.Status.WAITING: "WAIT_BUYER_PAY",
    SimulatedTrade.Status.PAID: "TRADE_SUCCESS",
    # Closed unpaid, or paid and then fully refunded.
    SimulatedTrade.Status.CLOSED: "TRADE_CLOSED",
}


def new_trade_no() -> str:
    return f"{timezone.localtime(timezone.now(), BEIJING):%Y%m%d}2200{random_digits(16)}"


def exists_at_alipay(trade: SimulatedTrade) -> bool:
    return bool(trade.extra.get("opened_at"))


def mark_opened(trade: SimulatedTrade) -> None:
    if not exists_at_alipay(trade):
        trade.extra["opened_at"] = beijing(timezone.now())
        trade.save(update_fields=["extra"])


def locked_trade(*, out_trade_no: str = "", trade_no: str = "") -> SimulatedTrade | None:
    """The trade by the merchant's number or Alipay's (out_trade_no wins when both are given)."""
    trades = SimulatedTrade.objects.select_for_update().filter(gateway=GATEWAY, merchant_id=app_id())
    trade = (
        trades.filter(out_trade_no=out_trade_no).first() if out_trade_no else trades.filter(trade_no=trade_no).first()
    )
    if trade is not None:
        close_if_expired(trade)
    return trade


def check_reopened(trade: SimulatedTrade, amount_fen: int) -> None:
    """A second page pay or precreate with the same out_trade_no: allowed only for the same unpaid trade."""
    if trade.status == SimulatedTrade.Status.PAID:
        raise Refusal("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
    if trade.status == SimulatedTrade.Status.CLOSED:
        raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
    if trade.amount_fen != amount_fen:
        raise Refusal("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")


def trade_open(
    *,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    expires_at,
    product_code: str,
    notify_url: str,
    return_url: str = "",
) -> SimulatedTrade:
    """The trade a page pay or precreate names, created on first sight; call inside a transaction.

    Raises: Refusal if that number is already paid, closed, or was used with another amount.
    """
    trade = locked_trade(out_trade_no=out_trade_no)
    if trade is not None:
        check_reopened(trade, amount_fen)
        return trade
    return SimulatedTrade.objects.create(
        gateway=GATEWAY,
        merchant_id=app_id(),
        out_trade_no=out_trade_no,
        trade_no=new_trade_no(),
        amount_fen=amount_fen,
        subject=subject,
        notify_url=notify_url,
        return_url=return_url,
        expires_at=expires_at,
        extra={"product_code": product_code},
    )


def close_if_expired(trade: SimulatedTrade) -> None:
    """Alipay closes a trade nobody paid by its time_expire (and notifies, if it existed)."""
    if trade.status == SimulatedTrade.Status.WAITING and trade.expires_at and trade.expires_at <= timezone.now():
        trade_close(trade)


def trade_close(trade: SimulatedTrade) -> None:
    trade.status = SimulatedTrade.Status.CLOSED
    trade.closed_at = timezone.now()
    trade.save(update_fields=["status", "closed_at"])
    if exists_at_alipay(trade):
        notify(trade)


def trade_pay(trade: SimulatedTrade) -> None:
    mark_opened(trade)
    trade.status = SimulatedTrade.Status.PAID
    trade.paid_at = timezone.now()
    trade.buyer_id = f"2088{random_digits(12)}"
    trade.extra["buyer_logon_id"] = f"138****{random_digits(4)}"
    trade.save(update_fields=["status", "paid_at", "buyer_id", "extra"])
    notify(trade)


def trade_refund(trade: SimulatedTrade, *, out_request_no: str, refund_fen: int) -> SimulatedRefund:
    now = timezone.now()
    refund = SimulatedRefund.objects.create(
        trade=trade,
        out_refund_no=out_request_no,
        # Alipay numbers refunds by the merchant's out_request_no; this is only a unique key here.
        refund_no=f"{trade.trade_no}R{random_digits(8)}",
        amount_fen=refund_fen,
        status=SimulatedRefund.Status.SUCCEEDED,
        succeeded_at=now,
    )
    trade.refunded_fen += refund_fen
    update = ["refunded_fen"]
    if trade.refunded_fen == trade.amount_fen:
        trade.status = SimulatedTrade.Status.CLOSED
        trade.closed_at = now
        update += ["status", "closed_at"]
    trade.save(update_fields=update)
    notify(trade, out_biz_no=out_request_no, refund_fee=fen_to_yuan(trade.refunded_fen), gmt_refund=beijing(now))
    return refund


def trade_fields(trade: SimulatedTrade) -> dict[str, str]:
    """What alipay.trade.query and the notifications say about a trade."""
    amount = fen_to_yuan(trade.amount_fen)
    paid = trade.paid_at is not None
    fields = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "trade_status": STATUS_WORDS[trade.status],
        "total_amount": amount,
        "receipt_amount": amount if paid else "0.00",
        "buyer_pay_amount": amount if paid else "0.00",
        "invoice_amount": amount if paid else "0.00",
        "point_amount": "0.00",
    }
    if paid:
        fields["buyer_logon_id"] = trade.extra.get("buyer_logon_id", "")
        fields["buyer_user_id"] = trade.buyer_id
        fields["send_pay_date"] = beijing(trade.paid_at)
    return fields


def notify(trade: SimulatedTrade, **refund_fields: str) -> None:
    """Queue Alipay's asynchronous notification of the trade's current status to its notify_url."""
    if not trade.notify_url:
        return
    amount = fen_to_yuan(trade.amount_fen)
    fields = {
        "notify_time": beijing(timezone.now()),
        "notify_type": "trade_status_sync",
        # The same id for every resend of this notification.
        "notify_id": secrets.token_hex(16),
        "app_id": app_id(),
        "auth_app_id": app_id(),
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_id": trade.buyer_id,
        "buyer_logon_id": trade.extra.get("buyer_logon_id", ""),
        "seller_id": seller_id(),
        "seller_email": SELLER_EMAIL,
        "trade_status": STATUS_WORDS[trade.status],
        "total_amount": amount,
        "receipt_amount": amount if trade.paid_at else "",
        "invoice_amount": amount if trade.paid_at else "",
        "buyer_pay_amount": amount if trade.paid_at else "",
        "point_amount": "0.00" if trade.paid_at else "",
        "subject": trade.subject,
        "gmt_create": beijing(trade.created_at),
        "gmt_payment": beijing(trade.paid_at) if trade.paid_at else "",
        "gmt_close": beijing(trade.closed_at) if trade.closed_at else "",
        "fund_bill_list": (
            json.dumps([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":"))
            if trade.paid_at
            else ""
        ),
        **refund_fields,
    }
    message = signed_message({k: v for k, v in fields.items() if v != ""})
    notification_send(
        gateway=GATEWAY,
        url=trade.notify_url,
        body=urlencode(message),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
