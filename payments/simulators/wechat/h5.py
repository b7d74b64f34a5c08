# ruff: noqa: RUF001 (WeChat's own messages, with their full-width Chinese punctuation)
"""The local WeChat Pay's H5 page: where an mweb_url takes a phone's browser.

Real WeChat checks the page load, not the unified order: the Referer must come from the H5 domain
registered in the merchant platform (for the local WeChat Pay, SITE_URL's host), the browser must
be the one whose IP the order named, outside WeChat, within five minutes. Each refusal shows the
message WeChat's cashier shows. Then WeChat would open its app to pay; this page plays that step,
and sends the browser to redirect_url afterwards, paid or not.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render as render_page
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from payments.models import SimulatedTrade
from payments.simulators.common import sandbox_only
from payments.simulators.wechat.api import GATEWAY, expire_if_due
from payments.simulators.wechat.protocol import nonce
from payments.simulators.wechat.scan import trade_pay

NO_REFERER = "商家参数格式有误，请联系商家解决"
WRONG_DOMAIN = "商家存在未配置的参数，请联系商家解决"
WRONG_IP = "网络环境未能通过安全验证，请稍后再试"
EXPIRED = "支付请求已失效，请重新发起支付"
INSIDE_WECHAT = "请在微信外打开订单，进行支付"
_NOT_PAYABLE = {
    SimulatedTrade.Status.PAID: "该订单已支付 · This order has already been paid.",
    SimulatedTrade.Status.CLOSED: "该订单已关闭 · This order is closed.",
}


def registered_h5_domain() -> str:
    """The H5 payment domain of the merchant: the site that asks for H5 payments."""
    return urlsplit(settings.SITE_URL).hostname or ""


def _refused(request, message: str, *, status: int = 400):
    return render_page(
        request,
        "simulators/wechat/result.html",
        {"trade": None, "title": "微信支付", "message": message},
        status=status,
    )


def _h5_trade(prepay_id: str, package: str, *, now: dt.datetime) -> tuple[SimulatedTrade | None, str]:
    """The locked MWEB trade an mweb_url names, or the reason it cannot be opened."""
    trade = (
        SimulatedTrade.objects.select_for_update()
        .filter(gateway=GATEWAY, extra__prepay_id=prepay_id, extra__trade_type="MWEB")
        .first()
    )
    issued = trade.extra.get("mweb", {}).get(package) if trade is not None else None
    if issued is None or dt.datetime.fromisoformat(issued) <= now:
        return None, EXPIRED
    expire_if_due(trade)
    return trade, ""


def _redirect_target(redirect_url: str) -> str:
    """WeChat goes back only to a page of the registered H5 domain."""
    return redirect_url if urlsplit(redirect_url).hostname == registered_h5_domain() else ""


@sandbox_only
@require_GET
def checkmweb(request):
    if "MicroMessenger" in request.headers.get("User-Agent", ""):
        return _refused(request, INSIDE_WECHAT)
    referer = request.headers.get("Referer", "")
    if not referer:
        return _refused(request, NO_REFERER)
    if urlsplit(referer).hostname != registered_h5_domain():
        return _refused(request, WRONG_DOMAIN)
    with transaction.atomic():
        trade, refusal = _h5_trade(request.GET.get("prepay_id", ""), request.GET.get("package", ""), now=timezone.now())
    if trade is None:
        return _refused(request, refusal)
    if request.META.get("REMOTE_ADDR") != trade.extra.get("spbill_create_ip"):
        return _refused(request, WRONG_IP)
    context = {
        "trade": trade,
        "prepay_id": trade.extra["prepay_id"],
        "package": request.GET.get("package", ""),
        "redirect_url": request.GET.get("redirect_url", ""),
        "not_payable": _NOT_PAYABLE.get(trade.status, ""),
    }
    return render_page(request, "simulators/wechat/h5.html", context)


@sandbox_only
@require_POST
def h5_pay(request):
    with transaction.atomic():
        trade, refusal = _h5_trade(
            request.POST.get("prepay_id", ""), request.POST.get("package", ""), now=timezone.now()
        )
        if trade is None:
            return _refused(request, refusal)
        if trade.status != SimulatedTrade.Status.WAITING:
            return _refused(request, _NOT_PAYABLE[trade.status], status=409)
        trade_pay(trade, openid=f"o{nonce()[:27]}")
    target = _redirect_target(request.POST.get("redirect_url", ""))
    if target:
        return HttpResponseRedirect(target)
    return _refused(request, "支付成功 · Payment successful", status=200)


@sandbox_only
@require_POST
def h5_cancel(request):
    # The buyer backs out of WeChat: the order stays unpaid, and the browser goes back all the same.
    target = _redirect_target(request.POST.get("redirect_url", ""))
    if target:
        return HttpResponseRedirect(target)
    return _refused(request, "已取消支付 · Payment cancelled", status=200)
