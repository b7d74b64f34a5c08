"""The local WeChat's in-app payment: WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback).

Inside WeChat the app itself defines WeixinJSBridge on every page. In sandbox mode our JSAPI page
loads `jsbridge.js` from here instead, which defines it the same way and plays WeChat's payment
sheet: it asks the endpoints below, as WeChat's client asks WeChat's servers, to check the
parameters (paySign over appId, timeStamp, nonceStr, package, signType with the merchant's key,
in the unified order's sign type) and to pay the prepay_id as the WeChat user the order was
placed for. The callback gets `get_brand_wcpay_request:ok`, `:cancel` or `:fail`, as from WeChat.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import render as render_page
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from knowpay.money import fen_to_yuan
from payments.models import SimulatedTrade
from payments.simulators.common import sandbox_only
from payments.simulators.wechat.api import GATEWAY, expire_if_due
from payments.simulators.wechat.oauth import simulated_openid, wechat_user
from payments.simulators.wechat.protocol import SIGN_TYPES, is_signed_by
from payments.simulators.wechat.scan import trade_pay

REQUEST = "get_brand_wcpay_request"
SIGNED_PARAMS = ("appId", "timeStamp", "nonceStr", "package", "signType")
# A prepay_id is good for two hours.
PREPAY_LIFETIME = dt.timedelta(hours=2)


class BridgeRefusal(Exception):
    pass


@sandbox_only
@require_GET
def jsbridge(request):
    context = {"prepare_url": reverse("wechat-jsapi-prepare"), "pay_url": reverse("wechat-jsapi-pay")}
    return render_page(request, "simulators/wechat/jsbridge.js", context, content_type="text/javascript")


def _params(request) -> dict[str, str]:
    try:
        params = json.loads(request.body)
    except ValueError:
        raise BridgeRefusal("参数格式错误 · the parameters are not JSON") from None
    if not isinstance(params, dict) or not all(isinstance(params.get(k), str) for k in (*SIGNED_PARAMS, "paySign")):
        raise BridgeRefusal("缺少参数 · appId, timeStamp, nonceStr, package, signType and paySign are required")
    return params


def _bridge_trade(request, params: dict[str, str]) -> SimulatedTrade:
    """The locked JSAPI trade the parameters name, once WeChat's client would accept them."""
    if "MicroMessenger" not in request.headers.get("User-Agent", ""):
        raise BridgeRefusal("WeixinJSBridge exists only inside WeChat")
    if params["appId"] != settings.WECHAT_APP_ID:
        raise BridgeRefusal("appId 与商户号不匹配 · unknown appId")
    if params["signType"] not in SIGN_TYPES:
        raise BridgeRefusal("signType 参数错误")
    signed = {name: params[name] for name in SIGNED_PARAMS} | {"sign": params["paySign"]}
    if not is_signed_by(signed, key=settings.WECHAT_API_KEY, sign_type=params["signType"]):
        raise BridgeRefusal("支付验证签名失败 · paySign does not verify")
    prepay_id = params["package"].removeprefix("prepay_id=")
    trade = (
        SimulatedTrade.objects.select_for_update()
        .filter(gateway=GATEWAY, extra__prepay_id=prepay_id, extra__trade_type="JSAPI")
        .first()
    )
    if trade is None or trade.created_at + PREPAY_LIFETIME <= timezone.now():
        raise BridgeRefusal("prepay_id 无效或已过期 · unknown or expired prepay_id")
    if params["signType"] != trade.extra["sign_type"]:
        raise BridgeRefusal("支付验证签名失败 · signType differs from the unified order's")
    expire_if_due(trade)
    if trade.status == SimulatedTrade.Status.PAID:
        raise BridgeRefusal("该订单已支付 · already paid")
    if trade.status == SimulatedTrade.Status.CLOSED:
        raise BridgeRefusal("该订单已关闭 · closed")
    user = wechat_user(request)
    if not user or simulated_openid(app_id=trade.extra["appid"], user=user) != trade.extra["openid"]:
        raise BridgeRefusal("当前微信用户与下单用户不一致 · this order was placed for another WeChat user")
    return trade


def _fail(refusal: BridgeRefusal) -> JsonResponse:
    return JsonResponse(
        {"err_msg": f"{REQUEST}:fail", "err_desc": str(refusal)}, json_dumps_params={"ensure_ascii": False}
    )


@csrf_exempt
@sandbox_only
@require_POST
def prepare(request):
    """What the payment sheet shows, once the parameters check out."""
    try:
        with transaction.atomic():
            trade = _bridge_trade(request, _params(request))
    except BridgeRefusal as refusal:
        return _fail(refusal)
    return JsonResponse({"amount": fen_to_yuan(trade.amount_fen), "body": trade.subject, "merchant": trade.merchant_id})


@csrf_exempt
@sandbox_only
@require_POST
def pay(request):
    """The WeChat user confirms in the payment sheet."""
    try:
        with transaction.atomic():
            trade = _bridge_trade(request, _params(request))
            trade_pay(trade, openid=trade.extra["openid"])
    except BridgeRefusal as refusal:
        return _fail(refusal)
    return JsonResponse({"err_msg": f"{REQUEST}:ok"})
