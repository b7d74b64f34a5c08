"""The server side of KnowPay Sandbox Pay (protocol in payments/gateways/sandbox.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from payments.gateways.sandbox import sandbox_reply, sandbox_sign, sandbox_verify
from payments.models import SimulatedRefund, SimulatedTrade, SimulatedTransfer
from payments.simulators.common import notification_send, random_digits, sandbox_only

GATEWAY = "sandbox"
RETRY_SCHEDULE = tuple(dt.timedelta(seconds=s) for s in (15, 60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600, 12 * 3600))


def is_acknowledged(status_code: int, body: str) -> bool:
    return status_code == 200 and body.strip() == "SUCCESS"


def _new_trade_no() -> str:
    return f"SBX{timezone.localdate():%Y%m%d}{random_digits(12)}"


def _error_page(request, code: str, message: str, status: int = 400):
    return render(request, "simulators/sandbox/error.html", {"code": code, "message": message}, status=status)


def _known_merchant(params: dict[str, str]) -> bool:
    return params.get("merchant_id") == settings.SANDBOX_MERCHANT_ID and sandbox_verify(
        params, settings.SANDBOX_MERCHANT_KEY
    )


@sandbox_only
@require_GET
def cashier(request):
    params = request.GET.dict()
    if not _known_merchant(params):
        return _error_page(request, "SIGN_ERROR", "The payment request is not signed by a known merchant.")
    try:
        amount_fen = int(params["amount_fen"])
        expire_at = dt.datetime.fromtimestamp(int(params["expire_at"]), tz=dt.UTC)
        out_trade_no = params["out_trade_no"]
    except (KeyError, ValueError):
        return _error_page(request, "INVALID_PARAMETER", "The payment request is incomplete.")
    if amount_fen <= 0 or not out_trade_no:
        return _error_page(request, "INVALID_PARAMETER", "The payment request is incomplete.")
    with transaction.atomic():
        trade, _ = SimulatedTrade.objects.select_for_update().get_or_create(
            gateway=GATEWAY,
            merchant_id=params["merchant_id"],
            out_trade_no=out_trade_no,
            defaults={
                "trade_no": _new_trade_no(),
                "amount_fen": amount_fen,
                "subject": params.get("subject", ""),
                "notify_url": params.get("notify_url", ""),
                "return_url": params.get("return_url", ""),
                "expires_at": expire_at,
            },
        )
        if trade.amount_fen != amount_fen:
            return _error_page(request, "TRADE_CONFLICT", "This order number was used with another amount.")
        if trade.status == SimulatedTrade.Status.WAITING and trade.expires_at and trade.expires_at < timezone.now():
            trade.status = SimulatedTrade.Status.CLOSED
            trade.closed_at = timezone.now()
            trade.save(update_fields=["status", "closed_at"])
    return render(request, "simulators/sandbox/cashier.html", {"trade": trade, "merchant": params["merchant_id"]})


@sandbox_only
@require_POST
def cashier_pay(request, trade_no: str):
    with transaction.atomic():
        trade = get_object_or_404(SimulatedTrade.objects.select_for_update(), gateway=GATEWAY, trade_no=trade_no)
        if trade.status != SimulatedTrade.Status.WAITING:
            return _error_page(request, "TRADE_STATUS_ERROR", f"This payment is already {trade.status}.")
        trade.status = SimulatedTrade.Status.PAID
        trade.paid_at = timezone.now()
        trade.buyer_id = f"sandbox-buyer-{random_digits(6)}"
        trade.save(update_fields=["status", "paid_at", "buyer_id"])
        _notify_paid(trade)
    return HttpResponseRedirect(_return_url(trade))


@sandbox_only
@require_POST
def cashier_cancel(request, trade_no: str):
    # Like closing the cashier: the trade stays open and unpaid until it expires.
    trade = get_object_or_404(SimulatedTrade, gateway=GATEWAY, trade_no=trade_no)
    return HttpResponseRedirect(_return_url(trade))


def _return_url(trade: SimulatedTrade) -> str:
    separator = "&" if "?" in trade.return_url else "?"
    return f"{trade.return_url}{separator}{urlencode({'out_trade_no': trade.out_trade_no})}"


def _notify_paid(trade: SimulatedTrade) -> None:
    fields = {
        "merchant_id": trade.merchant_id,
        "notify_id": f"N{random_digits(20)}",
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no,
        "amount_fen": str(trade.amount_fen),
        "trade_status": "SUCCESS",
        "paid_at": trade.paid_at.isoformat(),
        "buyer_id": trade.buyer_id,
    }
    fields["sign"] = sandbox_sign(fields, settings.SANDBOX_MERCHANT_KEY)
    notification_send(
        gateway=GATEWAY,
        url=trade.notify_url,
        body=urlencode(fields),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )


def _reply(code: str = "SUCCESS", message: str = "", **fields: str) -> HttpResponse:
    body = sandbox_reply({"code": code, "message": message, **fields}, settings.SANDBOX_MERCHANT_KEY)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _trade_fields(trade: SimulatedTrade) -> dict[str, str]:
    statuses = {"waiting": "WAITING", "paid": "SUCCESS", "closed": "CLOSED"}
    return {
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no,
        "amount_fen": str(trade.amount_fen),
        "trade_status": statuses[trade.status],
        "paid_at": trade.paid_at.isoformat() if trade.paid_at else "",
        "buyer_id": trade.buyer_id,
    }


def _refund_fields(refund: SimulatedRefund) -> dict[str, str]:
    return {
        "out_refund_no": refund.out_refund_no,
        "refund_no": refund.refund_no,
        "refund_fen": str(refund.amount_fen),
        "refund_status": "SUCCESS" if refund.status == SimulatedRefund.Status.SUCCEEDED else "PROCESSING",
    }


@csrf_exempt
@sandbox_only
@require_POST
def api(request, action: str):
    params = request.POST.dict()
    if not _known_merchant(params):
        return _reply("SIGN_ERROR", "signature or merchant_id is wrong")
    handler = API_ACTIONS.get(action)
    if handler is None:
        return _reply("INVALID_PARAMETER", f"unknown action {action}")
    with transaction.atomic():
        return handler(params)


def _locked_trade(params: dict[str, str]) -> SimulatedTrade | None:
    return (
        SimulatedTrade.objects.select_for_update()
        .filter(gateway=GATEWAY, merchant_id=params["merchant_id"], out_trade_no=params.get("out_trade_no", ""))
        .first()
    )


def _api_query(params):
    trade = _locked_trade(params)
    if trade is None:
        return _reply("TRADE_NOT_FOUND", "no such trade")
    return _reply(**_trade_fields(trade))


def _api_close(params):
    trade = _locked_trade(params)
    if trade is None:
        return _reply("TRADE_NOT_FOUND", "no such trade")
    if trade.status == SimulatedTrade.Status.PAID:
        return _reply("TRADE_PAID", "the trade is paid")
    if trade.status == SimulatedTrade.Status.WAITING:
        trade.status = SimulatedTrade.Status.CLOSED
        trade.closed_at = timezone.now()
        trade.save(update_fields=["status", "closed_at"])
    return _reply(**_trade_fields(trade))


def _api_refund(params):
    trade = _locked_trade(params)
    if trade is None:
        return _reply("TRADE_NOT_FOUND", "no such trade")
    if trade.status != SimulatedTrade.Status.PAID:
        return _reply("TRADE_NOT_PAID", "only paid trades can be refunded")
    try:
        refund_fen = int(params.get("refund_fen", ""))
    except ValueError:
        return _reply("INVALID_PARAMETER", "refund_fen must be an integer")
    out_refund_no = params.get("out_refund_no", "")
    if refund_fen <= 0 or not out_refund_no:
        return _reply("INVALID_PARAMETER", "refund_fen and out_refund_no are required")
    existing = trade.refunds.filter(out_refund_no=out_refund_no).first()
    if existing is not None:
        if existing.amount_fen != refund_fen:
            return _reply("REFUND_CONFLICT", "out_refund_no was used with another amount")
        return _reply(out_trade_no=trade.out_trade_no, **_refund_fields(existing))
    if trade.refunded_fen + refund_fen > trade.amount_fen:
        return _reply("REFUND_AMOUNT_EXCEEDED", "refunds would exceed the amount paid")
    now = timezone.now()
    refund = SimulatedRefund.objects.create(
        trade=trade,
        out_refund_no=out_refund_no,
        refund_no=f"SBXR{now:%Y%m%d}{random_digits(12)}",
        amount_fen=refund_fen,
        status=SimulatedRefund.Status.SUCCEEDED,
        succeeded_at=now,
    )
    trade.refunded_fen += refund_fen
    trade.save(update_fields=["refunded_fen"])
    return _reply(out_trade_no=trade.out_trade_no, **_refund_fields(refund))


def _api_refund_query(params):
    trade = _locked_trade(params)
    refund = trade.refunds.filter(out_refund_no=params.get("out_refund_no", "")).first() if trade else None
    if refund is None:
        return _reply("REFUND_NOT_FOUND", "no such refund")
    return _reply(out_trade_no=trade.out_trade_no, **_refund_fields(refund))


def _api_bill(params):
    try:
        day = dt.date.fromisoformat(params.get("bill_date", ""))
    except ValueError:
        return _reply("INVALID_PARAMETER", "bill_date must be YYYY-MM-DD")
    if day >= timezone.localdate():
        return _reply("BILL_NOT_READY", "bills exist for past days only")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["type", "out_trade_no", "trade_no", "out_refund_no", "amount_fen", "time"])
    merchant = params["merchant_id"]
    trades = SimulatedTrade.objects.filter(gateway=GATEWAY, merchant_id=merchant, paid_at__date=day)
    for trade in trades.order_by("paid_at"):
        writer.writerow(
            ["PAYMENT", trade.out_trade_no, trade.trade_no, "", trade.amount_fen, trade.paid_at.isoformat()]
        )
    refunds = SimulatedRefund.objects.filter(
        trade__gateway=GATEWAY, trade__merchant_id=merchant, succeeded_at__date=day
    ).select_related("trade")
    for refund in refunds.order_by("succeeded_at"):
        writer.writerow(
            [
                "REFUND",
                refund.trade.out_trade_no,
                refund.trade.trade_no,
                refund.out_refund_no,
                refund.amount_fen,
                refund.succeeded_at.isoformat(),
            ]
        )
    return _reply(bill_date=day.isoformat(), bill=out.getvalue())


def _api_transfer(params):
    try:
        amount_fen = int(params.get("amount_fen", ""))
    except ValueError:
        return _reply("INVALID_PARAMETER", "amount_fen must be an integer")
    out_biz_no, payee = params.get("out_biz_no", ""), params.get("payee_account", "")
    if amount_fen <= 0 or not out_biz_no or not payee:
        return _reply("INVALID_PARAMETER", "amount_fen, out_biz_no and payee_account are required")
    transfer, created = SimulatedTransfer.objects.get_or_create(
        gateway=GATEWAY,
        merchant_id=params["merchant_id"],
        out_biz_no=out_biz_no,
        defaults={
            "transfer_no": f"SBXT{timezone.localdate():%Y%m%d}{random_digits(12)}",
            "amount_fen": amount_fen,
            "payee_account": payee,
            "payee_name": params.get("payee_name", ""),
        },
    )
    if not created and (transfer.amount_fen, transfer.payee_account) != (amount_fen, payee):
        return _reply("TRANSFER_CONFLICT", "out_biz_no was used for another transfer")
    return _reply(out_biz_no=out_biz_no, transfer_no=transfer.transfer_no, amount_fen=str(amount_fen))


API_ACTIONS = {
    "query": _api_query,
    "close": _api_close,
    "refund": _api_refund,
    "refund_query": _api_refund_query,
    "bill": _api_bill,
    "transfer": _api_transfer,
}

urlpatterns = [
    path("cashier/", cashier, name="sandbox-cashier"),
    path("cashier/<str:trade_no>/pay/", cashier_pay, name="sandbox-cashier-pay"),
    path("cashier/<str:trade_no>/cancel/", cashier_cancel, name="sandbox-cashier-cancel"),
    path("api/<str:action>/", api, name="sandbox-api"),
]
