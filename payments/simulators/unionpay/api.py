"""The endpoints and pages of the local UnionPay (see the package docstring)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import html
from functools import cache
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from knowpay.money import currency_by_numeric, minor_to_decimal
from payments.gateways.unionpay.protocol import (
    SigningCert,
    cert_pem,
    file_content_encode,
    render_reply,
    sign_content,
    zm_line,
)
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.common import notification_send, random_digits, sandbox_only

GATEWAY = "unionpay"
KEYS = Path(__file__).resolve().parent.parent / "keys"
BEIJING = ZoneInfo("Asia/Shanghai")
FORMAT = "%Y%m%d%H%M%S"
TEST_CARD, DECLINED_CARD = "6216261000000000018", "6216261000000000000"


@cache
def _unionpay() -> SigningCert:
    key = serialization.load_pem_private_key((KEYS / "TEST_ONLY_unionpay_sign_key.pem").read_bytes(), None)
    return SigningCert(
        key=key, cert=x509.load_pem_x509_certificate((KEYS / "TEST_ONLY_unionpay_sign_cert.pem").read_bytes())
    )


@cache
def _merchant_cert() -> x509.Certificate:
    """The merchant certificate registered with this UnionPay (known by its serial, the certId)."""
    return x509.load_pem_x509_certificate((KEYS / "TEST_ONLY_unionpay_merchant_cert.pem").read_bytes())


def _signed_by_merchant(fields: dict[str, str]) -> bool:
    cert = _merchant_cert()
    if fields.get("certId") != str(cert.serial_number):
        return False
    digest = hashlib.sha256(sign_content(fields).encode()).hexdigest().encode()
    try:
        cert.public_key().verify(
            base64.b64decode(fields.get("signature", ""), validate=True), digest, padding.PKCS1v15(), hashes.SHA256()
        )
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def unionpay_sign(fields: dict[str, str]) -> dict[str, str]:
    """Sign as the local UnionPay does: its key, its certificate in signPubKeyCert."""
    signer = _unionpay()
    return signer.sign({**fields, "signPubKeyCert": cert_pem(signer.cert)})


def _now() -> str:
    return timezone.now().astimezone(BEIJING).strftime(FORMAT)


def _answer(request_fields: dict[str, str], code: str, message: str, **fields: str) -> HttpResponse:
    echoed = {
        name: request_fields.get(name, "")
        for name in (
            "version",
            "encoding",
            "bizType",
            "txnType",
            "txnSubType",
            "accessType",
            "merId",
            "orderId",
            "txnTime",
            "reqReserved",
        )
    }
    reply = unionpay_sign({**echoed, "signMethod": "01", "respCode": code, "respMsg": message, **fields})
    return HttpResponse(render_reply(reply), content_type="text/plain; charset=utf-8")


def _refused(code: str, message: str) -> HttpResponse:
    """Refused before processing: not signed, as UnionPay answers malformed requests."""
    return HttpResponse(render_reply({"respCode": code, "respMsg": message}), content_type="text/plain; charset=utf-8")


def backend(handler):
    @csrf_exempt
    @sandbox_only
    @functools.wraps(handler)
    def view(request):
        if request.method != "POST":
            raise Http404
        fields = request.POST.dict()
        if fields.get("version") != "5.1.0" or fields.get("signMethod") != "01":
            return _refused("10", "报文格式错误")
        if not _signed_by_merchant(fields):
            return _refused("11", "验证签名失败")
        if fields.get("merId") != settings.UNIONPAY_MER_ID:
            return _refused("31", "商户状态不正确")
        with transaction.atomic():
            return handler(fields)

    return view


def _trades():
    return SimulatedTrade.objects.select_for_update().filter(gateway=GATEWAY, merchant_id=settings.UNIONPAY_MER_ID)


def _lapse_if_due(trade: SimulatedTrade) -> None:
    if trade.status == SimulatedTrade.Status.WAITING and trade.expires_at and trade.expires_at <= timezone.now():
        trade.status = SimulatedTrade.Status.CLOSED
        trade.closed_at = timezone.now()
        trade.save(update_fields=["status", "closed_at"])


# --- Front consume and the cashier ----------------------------------------------------------------


def _page(request, trade: SimulatedTrade, message: str = "", status: int = 200) -> HttpResponse:
    currency = currency_by_numeric(trade.extra["currencyCode"]).code
    context = {
        "trade": trade,
        "amount": f"{minor_to_decimal(trade.amount_fen, currency)} {currency}",
        "message": message,
        "card": TEST_CARD,
    }
    return render(request, "simulators/unionpay/cashier.html", context, status=status)


@csrf_exempt
@sandbox_only
def front_trans(request):
    if request.method != "POST":
        raise Http404
    fields = request.POST.dict()
    if not _signed_by_merchant(fields) or fields.get("merId") != settings.UNIONPAY_MER_ID:
        return HttpResponse("验证签名失败 (signature verification failed)", status=400)
    missing = [
        name for name in ("orderId", "txnTime", "txnAmt", "currencyCode", "frontUrl", "backUrl") if not fields.get(name)
    ]
    if missing or (fields.get("txnType"), fields.get("bizType")) != ("01", "000201"):
        return HttpResponse(f"报文格式错误: {', '.join(missing) or 'txnType/bizType'}", status=400)
    try:
        sent = dt.datetime.strptime(fields["txnTime"], FORMAT).replace(tzinfo=BEIJING)
        timeout = (
            dt.datetime.strptime(fields["payTimeout"], FORMAT).replace(tzinfo=BEIJING)
            if fields.get("payTimeout")
            else sent + dt.timedelta(hours=1)
        )
        amount = int(fields["txnAmt"])
        currency_by_numeric(fields["currencyCode"])
    except (ValueError, KeyError):
        return HttpResponse("报文格式错误", status=400)
    with transaction.atomic():
        trade = _trades().filter(out_trade_no=fields["orderId"]).first()
        if trade is None:
            trade = SimulatedTrade.objects.create(
                gateway=GATEWAY,
                merchant_id=fields["merId"],
                out_trade_no=fields["orderId"],
                trade_no=f"{_now()[2:]}{random_digits(9)}",
                amount_fen=amount,
                notify_url=fields["backUrl"][:500],
                return_url=fields["frontUrl"][:500],
                expires_at=timeout,
                extra={"txnTime": fields["txnTime"], "currencyCode": fields["currencyCode"], "refunds": {}},
            )
        elif (trade.extra["txnTime"], trade.amount_fen) != (fields["txnTime"], amount):
            return HttpResponse("订单号重复 (this orderId was sent with another txnTime or amount)", status=400)
        _lapse_if_due(trade)
    if trade.status != SimulatedTrade.Status.WAITING:
        return _page(request, trade, f"This transaction is {trade.get_status_display().lower()}.", status=400)
    return _page(request, trade)


@sandbox_only
def cashier_pay(request, query_id):
    if request.method != "POST":
        raise Http404
    with transaction.atomic():
        trade = _trades().filter(trade_no=query_id).first()
        if trade is None:
            raise Http404
        _lapse_if_due(trade)
        if trade.status != SimulatedTrade.Status.WAITING:
            return _page(request, trade, "This transaction can no longer be paid.", status=400)
        card = "".join(request.POST.get("card", "").split())
        if card != TEST_CARD:
            return _page(
                request,
                trade,
                "交易失败: the bank declined this card." if card == DECLINED_CARD else "Unknown card.",
                status=402,
            )
        now = timezone.now()
        trade.status, trade.paid_at, trade.buyer_id = SimulatedTrade.Status.PAID, now, f"{card[:6]}*****{card[-4:]}"
        trade.extra.update(
            traceNo=random_digits(6),
            traceTime=now.astimezone(BEIJING).strftime("%m%d%H%M%S"),
            settleDate=now.astimezone(BEIJING).strftime("%m%d"),
            fee=(trade.amount_fen * 6 + 500) // 1000,
        )
        trade.save(update_fields=["status", "paid_at", "buyer_id", "extra"])
        notification = unionpay_sign(_consume_fields(trade, respCode="00", respMsg="成功[0000000]"))
        notification_send(
            gateway=GATEWAY,
            url=trade.notify_url,
            body=urlencode(notification),
            content_type="application/x-www-form-urlencoded; charset=UTF-8",
        )
    # The front notification: the browser posts the same signed result to frontUrl.
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in notification.items()
    )
    return HttpResponse(_auto_post(trade.return_url, inputs))


@sandbox_only
def cashier_cancel(request, query_id):
    trade = SimulatedTrade.objects.filter(gateway=GATEWAY, trade_no=query_id).first()
    if trade is None:
        raise Http404
    return HttpResponse(_auto_post(trade.return_url, ""))


def _auto_post(url: str, inputs: str) -> str:
    return (
        f'<form method="post" action="{html.escape(url)}">{inputs}</form><script>document.forms[0].submit();</script>'
    )


def _consume_fields(trade: SimulatedTrade, **fields: str) -> dict[str, str]:
    return {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": "0",
        "bizType": "000201",
        "txnType": "01",
        "txnSubType": "01",
        "merId": trade.merchant_id,
        "orderId": trade.out_trade_no,
        "txnTime": trade.extra["txnTime"],
        "txnAmt": str(trade.amount_fen),
        "currencyCode": trade.extra["currencyCode"],
        "queryId": trade.trade_no,
        "traceNo": trade.extra.get("traceNo", ""),
        "traceTime": trade.extra.get("traceTime", ""),
        "settleAmt": str(trade.amount_fen),
        "settleCurrencyCode": trade.extra["currencyCode"],
        "settleDate": trade.extra.get("settleDate", ""),
        "accNo": trade.buyer_id,
        "payType": "0001",
        "payCardType": "01",
        **fields,
    }


# --- Back transactions ----------------------------------------------------------------------------


@backend
def query_trans(fields):
    order_id, txn_time = fields.get("orderId", ""), fields.get("txnTime", "")
    trade = _trades().filter(out_trade_no=order_id, extra__txnTime=txn_time).first()
    if trade is not None:
        _lapse_if_due(trade)
        original = {"paid": "00", "waiting": "05", "closed": "01"}[trade.status]
        return _answer(
            fields,
            "00",
            "成功[0000000]",
            **_consume_fields(trade, origRespCode=original, origRespMsg="", txnType="00", txnSubType="00"),
        )
    refund = (
        SimulatedRefund.objects.filter(trade__gateway=GATEWAY, out_refund_no=order_id).select_related("trade").first()
    )
    if refund is not None and refund.trade.extra["refunds"][refund.refund_no]["txnTime"] == txn_time:
        return _answer(
            fields,
            "00",
            "成功[0000000]",
            **{**_refund_fields(refund), "origRespCode": "00", "origRespMsg": "", "txnType": "00"},
        )
    return _answer(fields, "34", "查无此交易[2011000]")


@backend
def back_trans(fields):
    if fields.get("txnType") != "04":
        return _answer(fields, "12", "The local UnionPay supports refunds (txnType 04) only.")
    existing = (
        SimulatedRefund.objects.filter(trade__gateway=GATEWAY, out_refund_no=fields.get("orderId", ""))
        .select_related("trade")
        .first()
    )
    if existing is not None:
        return _answer(fields, "00", "成功[0000000]", **_refund_fields(existing))
    trade = _trades().filter(trade_no=fields.get("origQryId", "")).first()
    if trade is None or trade.status != SimulatedTrade.Status.PAID:
        return _answer(fields, "35", "原交易不存在或状态不正确[2011000]")
    try:
        amount = int(fields.get("txnAmt", ""))
    except ValueError:
        return _refused("10", "报文格式错误")
    if amount <= 0 or trade.refunded_fen + amount > trade.amount_fen:
        return _answer(fields, "33", "交易金额超限[2011000]")
    now = timezone.now()
    refund = SimulatedRefund.objects.create(
        trade=trade,
        out_refund_no=fields["orderId"],
        refund_no=f"{_now()[2:]}{random_digits(9)}",
        amount_fen=amount,
        status=SimulatedRefund.Status.SUCCEEDED,
        notify_url=fields.get("backUrl", "")[:500],
        succeeded_at=now,
    )
    trade.refunded_fen += amount
    trade.extra["refunds"][refund.refund_no] = {
        "txnTime": fields.get("txnTime", ""),
        "reqReserved": fields.get("reqReserved", ""),
        "traceTime": now.astimezone(BEIJING).strftime("%m%d%H%M%S"),
    }
    trade.save(update_fields=["refunded_fen", "extra"])
    if refund.notify_url:
        notification = unionpay_sign(
            {
                **_refund_fields(refund),
                "respCode": "00",
                "respMsg": "成功[0000000]",
                "version": "5.1.0",
                "encoding": "UTF-8",
                "signMethod": "01",
                "accessType": "0",
                "bizType": "000201",
                "txnSubType": "00",
                "merId": trade.merchant_id,
            }
        )
        notification_send(
            gateway=GATEWAY,
            url=refund.notify_url,
            body=urlencode(notification),
            content_type="application/x-www-form-urlencoded; charset=UTF-8",
        )
    return _answer(fields, "00", "成功[0000000]", **_refund_fields(refund))


def _refund_fields(refund: SimulatedRefund) -> dict[str, str]:
    trade, details = refund.trade, refund.trade.extra["refunds"][refund.refund_no]
    return {
        "txnType": "04",
        "orderId": refund.out_refund_no,
        "txnTime": details["txnTime"],
        "txnAmt": str(refund.amount_fen),
        "currencyCode": trade.extra["currencyCode"],
        "queryId": refund.refund_no,
        "origQryId": trade.trade_no,
        "reqReserved": details["reqReserved"],
        "traceTime": details["traceTime"],
    }


@backend
def file_transfer(fields):
    if fields.get("txnType") != "76" or fields.get("fileType") != "00":
        return _answer(fields, "12", "The local UnionPay serves fileType 00 only.")
    settle_date = fields.get("settleDate", "")
    today = timezone.localdate()
    days = (
        [dt.date(today.year - back, int(settle_date[:2]), int(settle_date[2:])) for back in (0, 1)]
        if len(settle_date) == 4 and settle_date.isdigit()
        else []
    )
    day = next((d for d in days if d < today), None)
    if day is None:
        return _answer(fields, "98", "文件不存在")
    start = dt.datetime.combine(day, dt.time(), tzinfo=BEIJING)
    end = start + dt.timedelta(days=1)
    lines = []
    for trade in SimulatedTrade.objects.filter(
        gateway=GATEWAY, merchant_id=fields["merId"], paid_at__gte=start, paid_at__lt=end
    ):
        lines.append(
            zm_line(
                {
                    "trace_time": trade.paid_at.astimezone(BEIJING).strftime("%m%d%H%M%S"),
                    "amount": f"{trade.amount_fen:012d}",
                    "query_id": trade.trade_no,
                    "order_id": trade.out_trade_no,
                    "fee": f"D{trade.extra.get('fee', 0):012d}",
                    "txn_type": "01",
                    "mer_id": trade.merchant_id,
                }
            )
        )
    refunds = SimulatedRefund.objects.filter(
        trade__gateway=GATEWAY, trade__merchant_id=fields["merId"], succeeded_at__gte=start, succeeded_at__lt=end
    ).select_related("trade")
    for refund in refunds:
        lines.append(
            zm_line(
                {
                    "trace_time": refund.succeeded_at.astimezone(BEIJING).strftime("%m%d%H%M%S"),
                    "amount": f"{refund.amount_fen:012d}",
                    "query_id": refund.refund_no,
                    "order_id": refund.out_refund_no,
                    "fee": f"C{0:012d}",
                    "txn_type": "04",
                    "orig_query_id": refund.trade.trade_no,
                    "mer_id": refund.trade.merchant_id,
                    "orig_order_id": refund.trade.out_trade_no,
                }
            )
        )
    if not lines:
        return _answer(fields, "98", "文件不存在")
    name = f"INN{day:%y%m%d}88ZM_{fields['merId']}"
    content = file_content_encode({name: "\r\n".join(lines) + "\r\n"})
    return _answer(
        fields,
        "00",
        "成功[0000000]",
        settleDate=settle_date,
        fileType="00",
        fileName=f"{fields['merId']}_{day:%Y%m%d}.zip",
        fileContent=content,
    )
