# ruff: noqa: RUF001 (WeChat's own messages, with their full-width Chinese punctuation)
"""The v2 API endpoints of the local WeChat Pay, with WeChat's XML, signatures and error codes.

Requests are verified with the merchant's API key by the sign type they declare (MD5 by default),
and answered in the same sign type. Deviations from the real service, on purpose:
- plain HTTP, so the refund API cannot check the merchant certificate (mutual TLS in production);
- refunds succeed at once (the refund notification is sent all the same);
- trade types NATIVE, MWEB (H5) and JSAPI: this sandbox merchant has no other product (NOAUTH).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.common import notification_send, random_digits, sandbox_only
from payments.simulators.wechat import bill
from payments.simulators.wechat.protocol import (
    SIGN_TYPES,
    BadMessage,
    beijing,
    encrypt_req_info,
    is_signed_by,
    nonce,
    parse,
    parse_beijing,
    render,
    signed,
)

GATEWAY = "wechat"
# Real WeChat refuses to close an order in its first five minutes.
CLOSE_NOT_BEFORE = dt.timedelta(minutes=5)
# The shortest time_expire it accepts for trade types other than MICROPAY.
SHORTEST_EXPIRY = dt.timedelta(minutes=5)
_OUT_NO = re.compile(r"\A[0-9A-Za-z_\-|*@]{1,32}\Z")
# A re-sent unified order must repeat these to get the same code_url back.
_ORDER_FINGERPRINT = ("body", "total_fee", "fee_type", "product_id", "notify_url", "openid")
TRADE_TYPES = ("NATIVE", "MWEB", "JSAPI")
# An mweb_url works for five minutes after the unified order that issued it.
MWEB_LIFETIME = dt.timedelta(minutes=5)


def fail(return_msg: str) -> HttpResponse:
    """A refusal before any processing: return_code FAIL, unsigned, as WeChat sends it."""
    return _xml(render({"return_code": "FAIL", "return_msg": return_msg}))


def _xml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@dataclass(frozen=True)
class Answer:
    """Signed replies in the sign type of the request being answered."""

    sign_type: str

    def ok(self, **fields: str) -> HttpResponse:
        return self._signed({"result_code": "SUCCESS", **fields})

    def error(self, err_code: str, description: str) -> HttpResponse:
        return self._signed({"result_code": "FAIL", "err_code": err_code, "err_code_des": description})

    def _signed(self, fields: dict[str, str]) -> HttpResponse:
        reply = {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "appid": settings.WECHAT_APP_ID,
            "mch_id": settings.WECHAT_MCH_ID,
            "nonce_str": nonce(),
            **fields,
        }
        return _xml(render(signed(reply, key=settings.WECHAT_API_KEY, sign_type=self.sign_type)))


def endpoint(handler):
    """Parse and verify a v2 request, then run `handler(fields, answer)` in a transaction."""

    @csrf_exempt
    @sandbox_only
    @functools.wraps(handler)
    def view(request):
        if request.method != "POST":
            return fail("请使用post方法")
        try:
            fields = parse(request.body)
        except BadMessage:
            return fail("XML格式错误")
        sign_type = fields.get("sign_type") or "MD5"
        if sign_type not in SIGN_TYPES:
            return fail("sign_type参数格式错误")
        if fields.get("mch_id") != settings.WECHAT_MCH_ID or not is_signed_by(
            fields, key=settings.WECHAT_API_KEY, sign_type=sign_type
        ):
            return fail("签名错误，请检查后再试")
        answer = Answer(sign_type)
        if fields.get("appid") != settings.WECHAT_APP_ID:
            return answer.error("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        with transaction.atomic():
            return handler(fields, answer)

    return view


def _positive(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and int(value) > 0 else None


def _trades():
    return SimulatedTrade.objects.select_for_update().filter(gateway=GATEWAY, merchant_id=settings.WECHAT_MCH_ID)


def _trade_for(fields: dict[str, str]) -> SimulatedTrade | None:
    if fields.get("transaction_id"):
        return _trades().filter(trade_no=fields["transaction_id"]).first()
    return _trades().filter(out_trade_no=fields.get("out_trade_no", "")).first()


def expire_if_due(trade: SimulatedTrade) -> None:
    """A trade still unpaid at its time_expire is closed."""
    if trade.status == SimulatedTrade.Status.WAITING and trade.expires_at and trade.expires_at <= timezone.now():
        trade.status = SimulatedTrade.Status.CLOSED
        trade.closed_at = timezone.now()
        trade.save(update_fields=["status", "closed_at"])


# --- pay/unifiedorder -------------------------------------------------------------------------


@endpoint
def unifiedorder(fields, answer):
    for name in ("body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"):
        if not fields.get(name):
            return answer.error("LACK_PARAMS", f"缺少参数{name}")
    trade_type = fields["trade_type"]
    if trade_type not in TRADE_TYPES:
        return answer.error("NOAUTH", "商户无此接口权限")
    if trade_type == "NATIVE" and not fields.get("product_id"):
        return answer.error("LACK_PARAMS", "trade_type=NATIVE时，product_id为必填参数")
    if trade_type == "JSAPI" and not fields.get("openid"):
        return fail("JSAPI支付必须传openid")
    if trade_type == "MWEB" and not _h5_scene(fields.get("scene_info", "")):
        # WeChat documents scene_info as required for H5; the error code for its absence is our choice.
        return answer.error("LACK_PARAMS", "缺少参数scene_info")
    total_fee = _positive(fields["total_fee"])
    if total_fee is None:
        return fail("invalid total_fee")
    if not _OUT_NO.match(fields["out_trade_no"]):
        return fail("out_trade_no参数格式错误")
    now = timezone.now()
    try:
        expires_at = parse_beijing(fields["time_expire"]) if fields.get("time_expire") else now + dt.timedelta(hours=2)
    except ValueError:
        return answer.error("INVALID_REQUEST", "time_expire参数格式错误")
    if expires_at - now < SHORTEST_EXPIRY:
        return answer.error("INVALID_REQUEST", "time_expire时间过短，刷卡至少1分钟，其他5分钟")
    fingerprint = {name: fields.get(name, "CNY" if name == "fee_type" else "") for name in _ORDER_FINGERPRINT}

    trade = _trades().filter(out_trade_no=fields["out_trade_no"]).first()
    if trade is not None:
        expire_if_due(trade)
        if trade.status == SimulatedTrade.Status.PAID:
            return answer.error("ORDERPAID", "该订单已支付")
        if trade.status == SimulatedTrade.Status.CLOSED:
            return answer.error("ORDERCLOSED", "该订单已关闭")
        if trade.extra["trade_type"] != fields["trade_type"]:
            return answer.error("OUT_TRADE_NO_USED", "商户订单号重复")
        if trade.extra["fingerprint"] != fingerprint:
            return answer.error("INVALID_REQUEST", "201 商户订单号重复")
    else:
        extra = {
            "appid": fields["appid"],
            "trade_type": trade_type,
            "sign_type": answer.sign_type,
            "fingerprint": fingerprint,
            "prepay_id": f"wx{beijing(now)}{nonce()[:20].lower()}",
        }
        if trade_type == "NATIVE":
            code = nonce()[:16]
            extra.update(code=code, code_url=settings.SITE_URL + reverse("wechat-scan", args=[code]))
        if trade_type == "JSAPI":
            extra["openid"] = fields["openid"]
        trade = SimulatedTrade.objects.create(
            gateway=GATEWAY,
            merchant_id=settings.WECHAT_MCH_ID,
            out_trade_no=fields["out_trade_no"],
            trade_no=f"42000009{beijing(now, '%Y%m%d')}{random_digits(12)}",
            amount_fen=total_fee,
            subject=fields["body"][:256],
            notify_url=fields["notify_url"][:500],
            expires_at=expires_at,
            extra=extra,
        )
    mweb_url = ""
    if trade_type == "MWEB":
        mweb_url = _mweb_url_issue(trade, client_ip=fields["spbill_create_ip"], now=now)
    return answer.ok(
        trade_type=trade_type,
        prepay_id=trade.extra["prepay_id"],
        code_url=trade.extra.get("code_url", ""),
        mweb_url=mweb_url,
    )


def _h5_scene(scene_info: str) -> dict | None:
    """The `h5_info` of an H5 unified order's scene_info (JSON), if it has one."""
    try:
        scene = json.loads(scene_info)
    except ValueError:
        return None
    h5_info = scene.get("h5_info") if isinstance(scene, dict) else None
    return h5_info if isinstance(h5_info, dict) and h5_info.get("type") else None


def _mweb_url_issue(trade: SimulatedTrade, *, client_ip: str, now: dt.datetime) -> str:
    """A new mweb_url for the trade, good for five minutes, from the buyer's IP address only."""
    package = random_digits(10)
    trade.extra.setdefault("mweb", {})[package] = (now + MWEB_LIFETIME).isoformat()
    trade.extra["spbill_create_ip"] = client_ip
    trade.save(update_fields=["extra"])
    query = urlencode({"prepay_id": trade.extra["prepay_id"], "package": package})
    return f"{settings.SITE_URL}{reverse('wechat-mweb')}?{query}"


# --- pay/orderquery and pay/closeorder --------------------------------------------------------


def trade_fields(trade: SimulatedTrade) -> dict[str, str]:
    if trade.status == SimulatedTrade.Status.PAID:
        state, description = ("REFUND", "订单发生过退款") if trade.refunded_fen else ("SUCCESS", "支付成功")
    elif trade.status == SimulatedTrade.Status.CLOSED:
        state, description = "CLOSED", "订单已关闭"
    else:
        state, description = "NOTPAY", "订单未支付"
    fields = {
        "out_trade_no": trade.out_trade_no,
        "trade_state": state,
        "trade_state_desc": description,
        "trade_type": trade.extra["trade_type"],
        "total_fee": str(trade.amount_fen),
        "fee_type": "CNY",
    }
    if trade.status == SimulatedTrade.Status.PAID:
        fields.update(
            openid=trade.buyer_id,
            is_subscribe="N",
            bank_type="OTHERS",
            cash_fee=str(trade.amount_fen),
            transaction_id=trade.trade_no,
            time_end=beijing(trade.paid_at),
        )
    return fields


@endpoint
def orderquery(fields, answer):
    trade = _trade_for(fields)
    if trade is None:
        return answer.error("ORDERNOTEXIST", "订单不存在")
    expire_if_due(trade)
    return answer.ok(**trade_fields(trade))


@endpoint
def closeorder(fields, answer):
    trade = _trade_for({"out_trade_no": fields.get("out_trade_no", "")})
    if trade is None:
        return answer.error("ORDERNOTEXIST", "订单不存在")
    if trade.status == SimulatedTrade.Status.PAID:
        return answer.error("ORDERPAID", "订单已支付，不能发起关单")
    if trade.status == SimulatedTrade.Status.CLOSED:
        return answer.error("ORDERCLOSED", "订单已关闭，无需重复关单")
    if timezone.now() - trade.created_at < CLOSE_NOT_BEFORE:
        # WeChat documents the rule but not its error code; this one is our choice.
        return answer.error("INVALID_REQUEST", "订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟")
    trade.status = SimulatedTrade.Status.CLOSED
    trade.closed_at = timezone.now()
    trade.save(update_fields=["status", "closed_at"])
    return answer.ok()


# --- secapi/pay/refund and pay/refundquery ----------------------------------------------------


@endpoint
def refund(fields, answer):
    for name in ("out_refund_no", "total_fee", "refund_fee"):
        if not fields.get(name):
            return answer.error("LACK_PARAMS", f"缺少参数{name}")
    total_fee, refund_fee = _positive(fields["total_fee"]), _positive(fields["refund_fee"])
    if total_fee is None:
        return fail("invalid total_fee")
    if refund_fee is None or refund_fee > total_fee:
        return fail("invalid refund_fee")
    if not _OUT_NO.match(fields["out_refund_no"]):
        return fail("out_refund_no参数格式错误")
    trade = _trade_for(fields)
    if trade is None:
        return answer.error("ORDERNOTEXIST", "订单不存在")
    existing = SimulatedRefund.objects.filter(
        trade__gateway=GATEWAY, trade__merchant_id=trade.merchant_id, out_refund_no=fields["out_refund_no"]
    ).first()
    if existing is not None:
        if existing.trade_id != trade.pk:
            return answer.error("INVALID_REQUEST", "商户退款单号已被其他订单使用")
        if (existing.amount_fen, trade.amount_fen) != (refund_fee, total_fee):
            return answer.error("REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致，请核实后再试")
        return answer.ok(**_refund_reply(existing))
    if trade.status != SimulatedTrade.Status.PAID:
        return answer.error("ERROR", "订单状态错误")
    if total_fee != trade.amount_fen:
        return answer.error("INVALID_REQUEST", "订单金额不一致")
    if trade.refunded_fen == trade.amount_fen:
        return answer.error("ERROR", "订单已全额退款")
    if trade.refunded_fen + refund_fee > trade.amount_fen:
        return answer.error("INVALID_REQUEST", "refund_fee大于可退金额")
    now = timezone.now()
    created = SimulatedRefund.objects.create(
        trade=trade,
        out_refund_no=fields["out_refund_no"],
        refund_no=f"50300{beijing(now, '%Y%m%d')}{random_digits(16)}",
        amount_fen=refund_fee,
        status=SimulatedRefund.Status.SUCCEEDED,
        notify_url=fields.get("notify_url", "")[:500],
        succeeded_at=now,
    )
    trade.refunded_fen += refund_fee
    trade.save(update_fields=["refunded_fen"])
    if created.notify_url:
        _notify_refunded(created)
    return answer.ok(**_refund_reply(created))


def _refund_reply(refund: SimulatedRefund) -> dict[str, str]:
    trade = refund.trade
    return {
        "transaction_id": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_no,
        "refund_fee": str(refund.amount_fen),
        "total_fee": str(trade.amount_fen),
        "cash_fee": str(trade.amount_fen),
        "cash_refund_fee": str(refund.amount_fen),
        "coupon_refund_fee": "0",
        "coupon_refund_count": "0",
    }


def _notify_refunded(refund: SimulatedRefund) -> None:
    trade = refund.trade
    info = {
        "transaction_id": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "refund_id": refund.refund_no,
        "out_refund_no": refund.out_refund_no,
        "total_fee": str(trade.amount_fen),
        "settlement_total_fee": str(trade.amount_fen),
        "refund_fee": str(refund.amount_fen),
        "settlement_refund_fee": str(refund.amount_fen),
        "refund_status": "SUCCESS",
        "success_time": beijing(refund.succeeded_at, "%Y-%m-%d %H:%M:%S"),
        "refund_recv_accout": "支付用户的零钱",
        "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
        "refund_request_source": "API",
    }
    # Not signed: the encryption with the merchant's key is what proves it comes from WeChat.
    message = {
        "return_code": "SUCCESS",
        "appid": trade.extra["appid"],
        "mch_id": trade.merchant_id,
        "nonce_str": nonce(),
        "req_info": encrypt_req_info(info, key=settings.WECHAT_API_KEY),
    }
    notification_send(
        gateway=GATEWAY, url=refund.notify_url, body=render(message), content_type="text/xml; charset=utf-8"
    )


@endpoint
def refundquery(fields, answer):
    refunds = SimulatedRefund.objects.filter(trade__gateway=GATEWAY, trade__merchant_id=settings.WECHAT_MCH_ID)
    if fields.get("refund_id"):
        refunds = refunds.filter(refund_no=fields["refund_id"])
    elif fields.get("out_refund_no"):
        refunds = refunds.filter(out_refund_no=fields["out_refund_no"])
    elif fields.get("transaction_id"):
        refunds = refunds.filter(trade__trade_no=fields["transaction_id"])
    elif fields.get("out_trade_no"):
        refunds = refunds.filter(trade__out_trade_no=fields["out_trade_no"])
    else:
        return answer.error("PARAM_ERROR", "refund_id、out_refund_no、transaction_id、out_trade_no至少填一个")
    found = list(refunds.select_related("trade").order_by("created_at", "id"))
    if not found:
        return answer.error("REFUNDNOTEXIST", "not exist")
    trade = found[0].trade
    reply = {
        "transaction_id": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "total_fee": str(trade.amount_fen),
        "cash_fee": str(trade.amount_fen),
        "refund_count": str(len(found)),
    }
    for n, item in enumerate(found):
        done = item.status == SimulatedRefund.Status.SUCCEEDED
        reply.update(
            {
                f"out_refund_no_{n}": item.out_refund_no,
                f"refund_id_{n}": item.refund_no,
                f"refund_channel_{n}": "ORIGINAL",
                f"refund_fee_{n}": str(item.amount_fen),
                f"refund_status_{n}": "SUCCESS" if done else "PROCESSING",
                f"refund_recv_accout_{n}": "支付用户的零钱",
                f"refund_success_time_{n}": beijing(item.succeeded_at, "%Y-%m-%d %H:%M:%S") if done else "",
            }
        )
    return answer.ok(**reply)


# --- pay/downloadbill -------------------------------------------------------------------------


@endpoint
def downloadbill(fields, answer):
    try:
        day = dt.datetime.strptime(fields.get("bill_date", ""), "%Y%m%d").date()  # noqa: DTZ007 (a date, no time)
    except ValueError:
        return bill.refusal("invalid bill_date", "20001")
    bill_type = fields.get("bill_type") or "ALL"
    if bill_type not in bill.LAYOUTS:
        return bill.refusal("invalid bill_type", "20001")
    today = timezone.localdate()
    # Bills cover whole past days, for the last three months only.
    if not today - dt.timedelta(days=92) <= day < today:
        return bill.refusal("invalid bill_date", "20001")
    text = bill.render(day=day, bill_type=bill_type, merchant_id=settings.WECHAT_MCH_ID)
    if text is None:
        return bill.refusal("No Bill Exist", "20002")
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
