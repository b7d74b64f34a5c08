"""The local WeChat's web authorisation (网页授权) for the official account, snsapi_base.

`connect/oauth2/authorize` plays WeChat's browser: inside WeChat, for the configured app and a
redirect_uri on its authorised domain (SITE_URL's host), it sends the browser straight back with a
one-time code and the caller's state. `sns/oauth2/access_token` exchanges that code, once and
within five minutes, for the openid, given the app's secret. Errors are WeChat's JSON errcodes.

The simulated WeChat user is a cookie of this simulator; their openid is derived from it and the
app id, so the same person always gets the same openid from one app, and another from another app.
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render as render_page
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_GET

from payments.models import SimulatedAuthCode
from payments.simulators.common import sandbox_only
from payments.simulators.wechat.api import GATEWAY

CODE_LIFETIME = dt.timedelta(minutes=5)
USER_COOKIE = "sim_wechat_user"
SCOPES = ("snsapi_base", "snsapi_userinfo")


def wechat_user(request) -> str:
    """Who is logged in to this simulated WeChat ("" if nobody has been yet, in this browser)."""
    return request.COOKIES.get(USER_COOKIE, "")


def simulated_openid(*, app_id: str, user: str) -> str:
    return "o" + salted_hmac("knowpay.simulators.wechat.openid", f"{app_id}:{user}").hexdigest()[:27]


def authorised_domain() -> str:
    """The official account's 网页授权域名: the site that asks."""
    return urlsplit(settings.SITE_URL).hostname or ""


def _error_page(request, message: str):
    return render_page(
        request, "simulators/wechat/result.html", {"trade": None, "title": "微信授权", "message": message}, status=400
    )


@sandbox_only
@require_GET
def authorize(request):
    if "MicroMessenger" not in request.headers.get("User-Agent", ""):
        return _error_page(request, "请在微信客户端打开链接 · Open this link in WeChat.")
    params = request.GET
    app_id, redirect_uri = params.get("appid", ""), params.get("redirect_uri", "")
    if app_id != settings.WECHAT_APP_ID:
        return _error_page(request, "10016 appid 参数错误 · unknown appid")
    if params.get("response_type") != "code" or params.get("scope") not in SCOPES:
        return _error_page(request, "10005 此公众号并没有这些scope的权限 · bad response_type or scope")
    if not redirect_uri or urlsplit(redirect_uri).hostname != authorised_domain():
        return _error_page(
            request, "10003 redirect_uri 域名与后台配置不一致 · redirect_uri not on the authorised domain"
        )
    user = wechat_user(request) or secrets.token_urlsafe(12)
    code = SimulatedAuthCode.objects.create(
        gateway=GATEWAY,
        code=secrets.token_hex(16),
        app_id=app_id,
        openid=simulated_openid(app_id=app_id, user=user),
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    query = {"code": code.code}
    if params.get("state"):
        query["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    response = HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(query)}")
    response.set_cookie(USER_COOKIE, user, path="/sandbox/wechat/", httponly=True, samesite="Lax")
    return response


def _error(errcode: int, errmsg: str) -> JsonResponse:
    return JsonResponse({"errcode": errcode, "errmsg": errmsg}, json_dumps_params={"ensure_ascii": False})


@sandbox_only
@require_GET
def access_token(request):
    params = request.GET
    if params.get("appid") != settings.WECHAT_APP_ID:
        return _error(40013, "invalid appid")
    if not settings.WECHAT_APP_SECRET or params.get("secret") != settings.WECHAT_APP_SECRET:
        return _error(40125, "invalid appsecret")
    if params.get("grant_type") != "authorization_code":
        return _error(40002, "invalid grant_type")
    if not params.get("code"):
        return _error(41008, "missing code")
    with transaction.atomic():
        code = (
            SimulatedAuthCode.objects.select_for_update()
            .filter(gateway=GATEWAY, code=params["code"], app_id=params["appid"])
            .first()
        )
        if code is None or code.expires_at <= timezone.now():
            return _error(40029, "invalid code")
        if code.used_at is not None:
            return _error(40163, "code been used")
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
    return JsonResponse(
        {
            "access_token": secrets.token_urlsafe(48),
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(48),
            "openid": code.openid,
            "scope": "snsapi_base",
        }
    )
