"""What the buyer's phone shows after scanning a code_url: the order, then "Pay" or "Cancel".

Paying sends the merchant a signed payment notification, in the sign type of the unified order.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.shortcuts import render as render_page
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from payments.models import SimulatedTrade
from payments.simulators.common import notification_send, sandbox_only
from payments.simulators.wechat.api import GATEWAY, expire_if_due
from payments.simulators.wechat.protocol import beijing, nonce, render, signed

_NOT_PAYABLE = {
    SimulatedTrade.Status.PAID: "This order has already been paid.",
    SimulatedTrade.Status.CLOSED: "This order is closed and can no longer be paid.",
}


def _trade(code: str, *, lock: bool = False) -> SimulatedTrade | None:
    trades = SimulatedTrade.objects.select_for_update() if lock else SimulatedTrade.objects
    return trades.filter(gateway=GATEWAY, extra__code=code).first()


def _outcome(request, trade: SimulatedTrade | None, title: str, message: str, *, status: int = 200):
    return render_page(
        request, "simulators/wechat/result.html", {"trade": trade, "title": title, "message": message}, status=status
    )


@sandbox_only
@require_GET
def scan(request, code: str):
    with transaction.atomic():
        trade = _trade(code, lock=True)
        if trade is None:
            return _outcome(request, None, "Invalid code", "This QR code is not a WeChat Pay order.", status=404)
        expire_if_due(trade)
    return render_page(
        request,
        "simulators/wechat/scan.html",
        {"trade": trade, "code": code, "not_payable": _NOT_PAYABLE.get(trade.status, "")},
    )


@sandbox_only
@require_POST
def scan_pay(request, code: str):
    with transaction.atomic():
        trade = _trade(code, lock=True)
        if trade is None:
            return _outcome(request, None, "Invalid code", "This QR code is not a WeChat Pay order.", status=404)
        expire_if_due(trade)
        if trade.status != SimulatedTrade.Status.WAITING:
            return _outcome(request, trade, "Cannot pay", _NOT_PAYABLE[trade.status], status=409)
        trade_pay(trade, openid=f"o{nonce()[:27]}")
    return _outcome(request, trade, "Payment successful", "You can return to the merchant's page.")


def trade_pay(trade: SimulatedTrade, *, openid: str) -> None:
    """The buyer `openid` pays a waiting trade (locked by the caller); the merchant is notified."""
    trade.status = SimulatedTrade.Status.PAID
    trade.paid_at = timezone.now()
    trade.buyer_id = openid
    trade.save(update_fields=["status", "paid_at", "buyer_id"])
    _notify_paid(trade)


@sandbox_only
@require_POST
def scan_cancel(request, code: str):
    # Like closing the payment sheet in WeChat: the order stays unpaid until it expires.
    trade = _trade(code)
    return _outcome(request, trade, "Payment cancelled", "Nothing was paid. You can scan the code again.")


def _notify_paid(trade: SimulatedTrade) -> None:
    sign_type = trade.extra["sign_type"]
    fields = {
        "return_code": "SUCCESS",
        "appid": trade.extra["appid"],
        "mch_id": trade.merchant_id,
        "nonce_str": nonce(),
        "result_code": "SUCCESS",
        "openid": trade.buyer_id,
        "is_subscribe": "N",
        "trade_type": trade.extra["trade_type"],
        "bank_type": "OTHERS",
        "total_fee": str(trade.amount_fen),
        "fee_type": "CNY",
        "cash_fee": str(trade.amount_fen),
        "transaction_id": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "time_end": beijing(trade.paid_at),
    }
    if sign_type != "MD5":
        fields["sign_type"] = sign_type
    body = render(signed(fields, key=settings.WECHAT_API_KEY, sign_type=sign_type))
    notification_send(gateway=GATEWAY, url=trade.notify_url, body=body, content_type="text/xml; charset=utf-8")
