"""Alipay's OpenAPI envelope as the local Alipay speaks it: system parameters, public error codes,
`biz_content`, and signed replies.

A request carries the system parameters (app_id, method, charset, format, sign_type, timestamp,
version, notify_url, return_url, sign) in the query string and `biz_content`, a JSON object, in the
form body (everything in the query string for page pay). A reply is
`{"<method with _>_response": {...}, "sign": "..."}`, the signature covering the exact bytes of
the inner object; `error_response` when the method itself is missing or unknown.
"""

# Alipay's own texts use full-width punctuation: "订单金额（元）", "#账号：[...]".
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone

from knowpay.money import MoneyFormatError, yuan_to_fen
from payments.simulators.alipay.signing import request_is_signed_by_app, sign

GATEWAY = "alipay"
# The merchant account used when ALIPAY_SELLER_ID is left empty (our gateway then checks no seller).
SANDBOX_SELLER_ID = "2088000000000001"
SELLER_EMAIL = "knowpay-seller@sandbox.alipay.example"
BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_AMOUNT_FEN = 100_000_000_00
PUBLIC_MESSAGES = {
    "10000": "Success",
    "20000": "Service Currently Unavailable",
    "40001": "Missing Required Arguments",
    "40002": "Invalid Arguments",
    "40004": "Business Failed",
}


def app_id() -> str:
    """The app the local Alipay's console issued: the one configured (ALIPAY_APP_ID), as the local
    WeChat Pay follows WECHAT_*, so a custom app id works in sandbox mode too."""
    return settings.ALIPAY_APP_ID


def seller_id() -> str:
    return settings.ALIPAY_SELLER_ID or SANDBOX_SELLER_ID


class Refusal(Exception):
    """An Alipay error answer: a public `code` and the `sub_code` that says why."""

    def __init__(self, sub_code: str, sub_msg: str, *, code: str = "40004", **fields: str) -> None:
        super().__init__(f"{sub_code}: {sub_msg}")
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.fields = fields

    def as_fields(self) -> dict[str, str]:
        return {
            "code": self.code,
            "msg": PUBLIC_MESSAGES[self.code],
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
            **self.fields,
        }


def beijing(moment: dt.datetime) -> str:
    return timezone.localtime(moment, BEIJING).strftime(TIME_FORMAT)


def parse_beijing(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING)


def check_system_parameters(params: dict[str, str]) -> None:
    """The gateway's own checks, before any method runs. Raises Refusal with Alipay's public codes."""
    if not params.get("app_id"):
        raise Refusal("isv.missing-app-id", "缺少AppID参数", code="40001")
    if params["app_id"] != app_id():
        raise Refusal("isv.invalid-app-id", "无效的AppID参数", code="40002")
    if params.get("charset", "").lower() not in ("utf-8", "utf8"):
        raise Refusal("isv.invalid-charset", "字符集错误", code="40002")
    if params.get("format", "json").lower() != "json":
        raise Refusal("isv.invalid-format", "无效的数据格式", code="40002")
    if not params.get("sign_type"):
        raise Refusal("isv.missing-signature-type", "缺少签名类型参数", code="40001")
    if params["sign_type"] != "RSA2":
        raise Refusal("isv.invalid-signature-type", "无效的签名类型参数", code="40002")
    if not params.get("sign"):
        raise Refusal("isv.missing-signature", "缺少签名参数", code="40001")
    if not request_is_signed_by_app(params):
        raise Refusal("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配", code="40002")
    if not params.get("timestamp"):
        raise Refusal("isv.missing-timestamp", "缺少时间戳参数", code="40001")
    try:
        parse_beijing(params["timestamp"])
    except ValueError:
        # Only the format is checked: a page pay URL is opened whenever the buyer clicks it.
        raise Refusal("isv.invalid-timestamp", "非法的时间戳参数", code="40002") from None


def biz_content(params: dict[str, str]) -> dict:
    try:
        content = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        content = None
    if not isinstance(content, dict):
        raise Refusal("isv.invalid-parameter", "biz_content 不是 JSON 对象", code="40002")
    return content


def required(biz: dict, *names: str) -> list[str]:
    values = [biz.get(name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not isinstance(value, str) or not value]
    if missing:
        raise Refusal("ACQ.INVALID_PARAMETER", f"参数无效: {', '.join(missing)}")
    return values


def amount_fen(value: str, name: str) -> int:
    try:
        fen = yuan_to_fen(value)
    except MoneyFormatError:
        fen = 0
    if not 0 < fen <= MAX_AMOUNT_FEN:
        raise Refusal("ACQ.INVALID_PARAMETER", f"参数无效: {name}")
    return fen


def expiry(biz: dict) -> dt.datetime | None:
    """The trade's absolute deadline (`time_expire`), if the merchant gave one."""
    if not biz.get("time_expire"):
        return None
    try:
        return parse_beijing(biz["time_expire"])
    except (TypeError, ValueError):
        raise Refusal("ACQ.INVALID_PARAMETER", "参数无效: time_expire") from None


def order_fields(biz: dict) -> tuple[str, int, str, dt.datetime | None]:
    """out_trade_no, amount in fen, subject and deadline of a page pay or precreate request."""
    out_trade_no, total_amount, subject = required(biz, "out_trade_no", "total_amount", "subject")
    if len(out_trade_no) > 64:
        raise Refusal("ACQ.INVALID_PARAMETER", "参数无效: out_trade_no")
    return out_trade_no, amount_fen(total_amount, "total_amount"), subject[:256], expiry(biz)


def signed_reply(method: str | None, fields: dict[str, str]) -> HttpResponse:
    node = f"{method.replace('.', '_')}_response" if method else "error_response"
    inner = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    body = f'{{"{node}":{inner},"sign":"{sign(inner.encode("utf-8"))}"}}'
    return HttpResponse(body, content_type="application/json;charset=utf-8")
