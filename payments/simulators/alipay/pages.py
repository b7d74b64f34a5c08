"""The local Alipay's pages for people: the PC cashier of page pay, the phone cashier of phone
website pay (手机网站支付), the phone's view of a scanned QR code, and the bill file behind its
short-lived download URL.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from knowpay.money import fen_to_yuan
from payments.models import SimulatedTrade
from payments.simulators.alipay.bill import bill_archive, bill_day
from payments.simulators.alipay.protocol import (
    GATEWAY,
    Refusal,
    app_id,
    beijing,
    biz_content,
    check_system_parameters,
    order_fields,
    seller_id,
)
from payments.simulators.alipay.signing import signed_message
from payments.simulators.alipay.trades import (
    check_reopened,
    close_if_expired,
    locked_trade,
    mark_opened,
    trade_open,
    trade_pay,
)
from payments.simulators.common import sandbox_only

# The synchronous return names the method that opened the cashier.
RETURN_METHODS = {
    "FAST_INSTANT_TRADE_PAY": "alipay.trade.page.pay.return",
    "QUICK_WAP_WAY": "alipay.trade.wap.pay.return",
}
WAP_PRODUCT_CODE = "QUICK_WAP_WAY"


def _error_page(request, refusal: Refusal):
    context = {"code": refusal.code, "sub_code": refusal.sub_code, "message": refusal.sub_msg}
    return render(request, "simulators/alipay/error.html", context, status=400)


def _result_page(request, trade: SimulatedTrade, message: str):
    return render(request, "simulators/alipay/result.html", {"trade": trade, "message": message})


def cashier_open(request, params: dict[str, str]):
    """gateway.do?method=alipay.trade.page.pay…: the buyer arrives at Alipay's PC cashier."""
    try:
        check_system_parameters(params)
        biz = biz_content(params)
        out_trade_no, fen, subject, expires_at = order_fields(biz)
        if biz.get("product_code") != "FAST_INSTANT_TRADE_PAY":
            raise Refusal("ACQ.INVALID_PARAMETER", "参数无效: product_code")
    except Refusal as refusal:
        return _error_page(request, refusal)
    with transaction.atomic():
        try:
            trade = trade_open(
                out_trade_no=out_trade_no,
                amount_fen=fen,
                subject=subject,
                expires_at=expires_at,
                product_code="FAST_INSTANT_TRADE_PAY",
                notify_url=params.get("notify_url", ""),
                return_url=params.get("return_url", ""),
            )
        except Refusal as refusal:
            error = refusal
        else:
            error = None
            # Logging in at the cashier is what creates the trade at Alipay.
            mark_opened(trade)
    if error is not None:
        return _error_page(request, error)
    return render(request, "simulators/alipay/cashier.html", {"trade": trade, "seller_id": seller_id()})


def _paid_now(trade_lookup) -> tuple[SimulatedTrade, Refusal | None]:
    with transaction.atomic():
        trade = trade_lookup()
        if trade is None:
            raise Http404("No such trade.")
        try:
            check_reopened(trade, trade.amount_fen)
        except Refusal as refusal:
            return trade, refusal
        trade_pay(trade)
    return trade, None


def _return_url(trade: SimulatedTrade) -> str:
    """The merchant's return_url with Alipay's signed synchronous-return parameters."""
    params = signed_message(
        {
            "app_id": app_id(),
            "auth_app_id": app_id(),
            "charset": "utf-8",
            "method": RETURN_METHODS.get(trade.extra.get("product_code", ""), "alipay.trade.page.pay.return"),
            "out_trade_no": trade.out_trade_no,
            "seller_id": seller_id(),
            "timestamp": beijing(timezone.now()),
            "total_amount": fen_to_yuan(trade.amount_fen),
            "trade_no": trade.trade_no,
            "version": "1.0",
        }
    )
    separator = "&" if "?" in trade.return_url else "?"
    return f"{trade.return_url}{separator}{urlencode(params)}"


@sandbox_only
@require_POST
def cashier_pay(request, trade_no: str):
    trade, refusal = _paid_now(lambda: locked_trade(trade_no=trade_no))
    if refusal is not None:
        return _error_page(request, refusal)
    if trade.return_url:
        return HttpResponseRedirect(_return_url(trade))
    return _result_page(request, trade, "支付成功 · Payment successful")


@sandbox_only
@require_POST
def cashier_cancel(request, trade_no: str):
    # Leaving the cashier: the trade stays open, unpaid, until it expires or is closed.
    trade = SimulatedTrade.objects.filter(gateway=GATEWAY, merchant_id=app_id(), trade_no=trade_no).first()
    if trade is None:
        raise Http404("No such trade.")
    if trade.return_url:
        return HttpResponseRedirect(trade.return_url)
    return _result_page(request, trade, "已取消 · Payment cancelled")


def _scanned_trade(token: str) -> SimulatedTrade | None:
    trade = (
        SimulatedTrade.objects.select_for_update()
        .filter(gateway=GATEWAY, merchant_id=app_id(), extra__qr_token=token)
        .first()
    )
    if trade is not None:
        close_if_expired(trade)
    return trade


@sandbox_only
@require_GET
def scan(request, token: str):
    """What the buyer's Alipay app shows after scanning the QR code: the scan creates the trade."""
    with transaction.atomic():
        trade = _scanned_trade(token)
        if trade is None:
            raise Http404("No such QR code.")
        if trade.status == SimulatedTrade.Status.WAITING:
            mark_opened(trade)
    return render(request, "simulators/alipay/scan.html", {"trade": trade, "seller_id": seller_id()})


@sandbox_only
@require_POST
def scan_pay(request, token: str):
    trade, refusal = _paid_now(lambda: _scanned_trade(token))
    if refusal is not None:
        return _error_page(request, refusal)
    return _result_page(request, trade, "支付成功 · Payment successful")


@sandbox_only
@require_POST
def scan_cancel(request, token: str):
    trade = SimulatedTrade.objects.filter(gateway=GATEWAY, merchant_id=app_id(), extra__qr_token=token).first()
    if trade is None:
        raise Http404("No such QR code.")
    return _result_page(request, trade, "已取消 · Payment cancelled")


@sandbox_only
@require_GET
def bill_download(request):
    day = bill_day(request.GET.get("token", ""))
    if day is None:
        return HttpResponse("下载链接已失效 · This download link has expired.", status=404, content_type="text/plain")
    name, data = bill_archive(day)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Phone website pay (alipay.trade.wap.pay) ------------------------------------------------


def wap_cashier_open(request, params: dict[str, str]):
    """gateway.do?method=alipay.trade.wap.pay…: the buyer's phone opens Alipay's mobile cashier."""
    try:
        check_system_parameters(params)
        biz = biz_content(params)
        out_trade_no, fen, subject, expires_at = order_fields(biz)
        # python-alipay-sdk's QUICK_WAP_PAY is a known mistake; Alipay documents QUICK_WAP_WAY.
        if biz.get("product_code") != WAP_PRODUCT_CODE:
            raise Refusal("ACQ.INVALID_PARAMETER", "参数无效: product_code")
    except Refusal as refusal:
        return _error_page(request, refusal)
    with transaction.atomic():
        try:
            trade = trade_open(
                out_trade_no=out_trade_no,
                amount_fen=fen,
                subject=subject,
                expires_at=expires_at,
                product_code=WAP_PRODUCT_CODE,
                notify_url=params.get("notify_url", ""),
                return_url=params.get("return_url", ""),
            )
        except Refusal as refusal:
            return _error_page(request, refusal)
        # Each visit may carry another quit_url (the merchant's page the buyer came from).
        trade.extra["quit_url"] = str(biz.get("quit_url") or "")
        trade.save(update_fields=["extra"])
        mark_opened(trade)
    return render(request, "simulators/alipay/wap_cashier.html", {"trade": trade, "seller_id": seller_id()})


def _wap_trade(trade_no: str) -> SimulatedTrade:
    trade = locked_trade(trade_no=trade_no)
    if trade is None or trade.extra.get("product_code") != WAP_PRODUCT_CODE:
        raise Http404("No such trade.")
    return trade


@sandbox_only
@require_POST
def wap_cashier_pay(request, trade_no: str):
    trade, refusal = _paid_now(lambda: _wap_trade(trade_no))
    if refusal is not None:
        return _error_page(request, refusal)
    if trade.return_url:
        return HttpResponseRedirect(_return_url(trade))
    return _result_page(request, trade, "支付成功 · Payment successful")


@sandbox_only
@require_POST
def wap_cashier_quit(request, trade_no: str):
    """The buyer leaves the cashier: back to the merchant's quit_url, the trade still waiting."""
    trade = SimulatedTrade.objects.filter(gateway=GATEWAY, merchant_id=app_id(), trade_no=trade_no).first()
    if trade is None or trade.extra.get("product_code") != WAP_PRODUCT_CODE:
        raise Http404("No such trade.")
    leave_to = trade.extra.get("quit_url") or trade.return_url
    if leave_to:
        return HttpResponseRedirect(leave_to)
    return _result_page(request, trade, "已取消 · Payment cancelled")
