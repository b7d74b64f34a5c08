"""The local Alipay's gateway.do: every OpenAPI method KnowPay calls, answered as Alipay does.

Page pay (`alipay.trade.page.pay`) and phone website pay (`alipay.trade.wap.pay`) are browser
visits and open a cashier page; every other method is an API call answered with a signed JSON reply.
"""

# Alipay's own texts use full-width punctuation: "订单金额（元）", "#账号：[...]".
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import datetime as dt
import re
import secrets
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from knowpay.money import fen_to_yuan
from payments.models import SimulatedTrade, SimulatedTransfer
from payments.simulators.alipay import pages
from payments.simulators.alipay.bill import bill_token
from payments.simulators.alipay.protocol import (
    BEIJING,
    GATEWAY,
    Refusal,
    amount_fen,
    app_id,
    beijing,
    biz_content,
    check_system_parameters,
    order_fields,
    required,
    seller_id,
    signed_reply,
)
from payments.simulators.alipay.trades import (
    exists_at_alipay,
    locked_trade,
    trade_close,
    trade_fields,
    trade_open,
    trade_refund,
)
from payments.simulators.common import random_digits, sandbox_only

PAGE_PAY = "alipay.trade.page.pay"
WAP_PAY = "alipay.trade.wap.pay"
MIN_TRANSFER_FEN = 10
_LOGON_ID = re.compile(r"\A(?:[^@\s]+@[^@\s]+\.[^@\s]+|1\d{10})\Z")
_USER_ID = re.compile(r"\A2088\d{12}\Z")


def _visible_trade(biz: dict) -> SimulatedTrade:
    trade = locked_trade(out_trade_no=str(biz.get("out_trade_no") or ""), trade_no=str(biz.get("trade_no") or ""))
    if trade is None or not exists_at_alipay(trade):
        raise Refusal("ACQ.TRADE_NOT_EXIST", "交易不存在")
    return trade


def precreate(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    out_trade_no, fen, subject, expires_at = order_fields(biz)
    if biz.get("seller_id", seller_id()) != seller_id():
        raise Refusal("ACQ.INVALID_PARAMETER", "参数无效: seller_id")
    trade = trade_open(
        out_trade_no=out_trade_no,
        amount_fen=fen,
        subject=subject,
        expires_at=expires_at,
        product_code=biz.get("product_code") or "FACE_TO_FACE_PAYMENT",
        notify_url=params.get("notify_url", ""),
    )
    if "qr_token" not in trade.extra:
        trade.extra["qr_token"] = secrets.token_urlsafe(12)
        trade.save(update_fields=["extra"])
    qr_code = request.build_absolute_uri(reverse("alipay-scan", args=[trade.extra["qr_token"]]))
    return {"out_trade_no": out_trade_no, "qr_code": qr_code}


def query(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    return trade_fields(_visible_trade(biz))


def close(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    trade = _visible_trade(biz)
    if trade.status != SimulatedTrade.Status.WAITING:
        raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    trade_close(trade)
    return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}


def refund(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    trade = _visible_trade(biz)
    (refund_amount,) = required(biz, "refund_amount")
    fen = amount_fen(refund_amount, "refund_amount")
    # Without a request number the refund is identified by the trade, and must be for all of it.
    out_request_no = biz.get("out_request_no") or trade.out_trade_no
    existing = trade.refunds.filter(out_refund_no=out_request_no).first()
    if existing is None:
        if trade.status == SimulatedTrade.Status.WAITING:
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态非法")
        if trade.status == SimulatedTrade.Status.CLOSED:
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if fen > trade.amount_fen - trade.refunded_fen or (not biz.get("out_request_no") and fen != trade.amount_fen):
            raise Refusal(
                "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                "退款金额超限",
                out_trade_no=trade.out_trade_no,
                refund_fee="0.00",
                send_back_fee="0.00",
            )
        done = trade_refund(trade, out_request_no=out_request_no, refund_fen=fen)
    else:
        done = existing
    return {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": trade.extra.get("buyer_logon_id", ""),
        "buyer_user_id": trade.buyer_id,
        # "N" for a request number seen before: idempotent, no money moved now.
        "fund_change": "N" if existing else "Y",
        "refund_fee": fen_to_yuan(trade.refunded_fen),
        "send_back_fee": "0.00" if existing else fen_to_yuan(fen),
        "gmt_refund_pay": beijing(done.succeeded_at),
    }


def refund_query(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    trade = _visible_trade(biz)
    (out_request_no,) = required(biz, "out_request_no")
    found = trade.refunds.filter(out_refund_no=out_request_no).first()
    if found is None:
        # Alipay's answer for a refund it never received: success, and nothing about any refund.
        return {}
    fields = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "out_request_no": out_request_no,
        "total_amount": fen_to_yuan(trade.amount_fen),
        "refund_amount": fen_to_yuan(found.amount_fen),
        "refund_status": "REFUND_SUCCESS",
    }
    if "gmt_refund_pay" in (biz.get("query_options") or []):
        fields["gmt_refund_pay"] = beijing(found.succeeded_at)
    return fields


def bill_download_url(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    bill_type, bill_date = required(biz, "bill_type", "bill_date")
    if bill_type != "trade":
        raise Refusal("isv.invalid-parameter", "bill_type 参数无效（本地支付宝只提供 trade 账单）", code="40002")
    try:
        day = dt.date.fromisoformat(bill_date)
    except ValueError:
        raise Refusal("isv.invalid-parameter", "bill_date 格式应为 yyyy-MM-dd", code="40002") from None
    if day >= timezone.localtime(timezone.now(), BEIJING).date():
        raise Refusal("isp.bill_not_exist", "账单不存在")
    query_string = urlencode(
        {
            "bizType": "trade",
            "userId": seller_id(),
            "fileType": "csv.zip",
            "bizDates": f"{day:%Y%m%d}",
            "downloadFileName": f"{seller_id()}_{day:%Y%m%d}.csv.zip",
            "token": bill_token(day),
        }
    )
    return {"bill_download_url": request.build_absolute_uri(f"{reverse('alipay-bill-download')}?{query_string}")}


def transfer(request, biz: dict, params: dict[str, str]) -> dict[str, str]:
    out_biz_no, trans_amount = required(biz, "out_biz_no", "trans_amount")
    if biz.get("product_code") != "TRANS_ACCOUNT_NO_PWD" or biz.get("biz_scene") != "DIRECT_TRANSFER":
        raise Refusal("INVALID_PARAMETER", "product_code 或 biz_scene 无效")
    payee = biz.get("payee_info")
    if not isinstance(payee, dict):
        raise Refusal("INVALID_PARAMETER", "缺少 payee_info")
    identity, identity_type, name = (str(payee.get(key) or "") for key in ("identity", "identity_type", "name"))
    if identity_type == "ALIPAY_LOGON_ID" and not name:
        raise Refusal("INVALID_PARAMETER", "收款方为支付宝登录号时必须提供姓名")
    account_pattern = {"ALIPAY_LOGON_ID": _LOGON_ID, "ALIPAY_USER_ID": _USER_ID}.get(identity_type)
    if account_pattern is None or not account_pattern.match(identity):
        raise Refusal("PAYEE_NOT_EXIST", "收款账号不存在")
    try:
        fen = amount_fen(trans_amount, "trans_amount")
    except Refusal:
        raise Refusal("INVALID_PARAMETER", "trans_amount 无效") from None
    if fen < MIN_TRANSFER_FEN:
        raise Refusal("EXCEED_LIMIT_SM_MIN_AMOUNT", "单笔最低转账金额0.1元")
    existing = SimulatedTransfer.objects.select_for_update().filter(
        gateway=GATEWAY, merchant_id=app_id(), out_biz_no=out_biz_no
    )
    done = existing.first()
    if done is None:
        done = SimulatedTransfer.objects.create(
            gateway=GATEWAY,
            merchant_id=app_id(),
            out_biz_no=out_biz_no,
            transfer_no=f"{timezone.localtime(timezone.now(), BEIJING):%Y%m%d}1100700{random_digits(17)}",
            amount_fen=fen,
            payee_account=identity,
            payee_name=name,
        )
    elif (done.amount_fen, done.payee_account) != (fen, identity):
        raise Refusal("PAYMENT_INFO_INCONSISTENCY", "两次请求商户单号一样，但是收款人或金额不一致")
    # A repeated out_biz_no is answered with the original transfer: Alipay's transfers are idempotent.
    return {
        "out_biz_no": out_biz_no,
        "order_id": done.transfer_no,
        "status": "SUCCESS",
        "trans_date": beijing(done.created_at),
    }


METHODS = {
    "alipay.trade.precreate": precreate,
    "alipay.trade.query": query,
    "alipay.trade.close": close,
    "alipay.trade.refund": refund,
    "alipay.trade.fastpay.refund.query": refund_query,
    "alipay.data.dataservice.bill.downloadurl.query": bill_download_url,
    "alipay.fund.trans.uni.transfer": transfer,
}


@csrf_exempt
@sandbox_only
def gateway_do(request):
    params = {**request.GET.dict(), **request.POST.dict()}
    method = params.get("method", "")
    if method == PAGE_PAY:
        return pages.cashier_open(request, params)
    if method == WAP_PAY:
        return pages.wap_cashier_open(request, params)
    if not method:
        return signed_reply(None, Refusal("isv.missing-method", "缺少方法名参数", code="40001").as_fields())
    handler = METHODS.get(method)
    if handler is None:
        return signed_reply(None, Refusal("isv.invalid-method", "不存在的方法名", code="40002").as_fields())
    try:
        check_system_parameters(params)
        biz = biz_content(params)
    except Refusal as refusal:
        return signed_reply(method, refusal.as_fields())
    with transaction.atomic():
        try:
            fields = {"code": "10000", "msg": "Success", **handler(request, biz, params)}
        except Refusal as refusal:
            # A refusal is an answer, not a failure: what the method did first (closing an expired
            # trade, say) stays done.
            fields = refusal.as_fields()
    return signed_reply(method, fields)
