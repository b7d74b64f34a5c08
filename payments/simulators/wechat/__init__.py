"""The local WeChat Pay: the v2 API the gateway module uses, a phone-like scan page, the H5 page of
an mweb_url, the official account's web authorisation, a WeixinJSBridge for JSAPI, notifications,
bills.

Mounted at /sandbox/wechat/ in sandbox mode only. API paths have no trailing slash, as WeChat's do.
"""

import datetime as dt

from django.urls import path

from payments.simulators.wechat import api, h5, jsapi, oauth, scan
from payments.simulators.wechat.protocol import BadMessage, parse

# WeChat's documented schedule between notification attempts (24h4m in all).
RETRY_SCHEDULE = tuple(
    dt.timedelta(seconds=s)
    for s in (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
)


def is_acknowledged(status_code: int, body: str) -> bool:
    """Only an XML reply with return_code SUCCESS stops the resending."""
    if status_code != 200:
        return False
    try:
        return parse(body.encode()).get("return_code") == "SUCCESS"
    except BadMessage:
        return False


urlpatterns = [
    path("pay/unifiedorder", api.unifiedorder, name="wechat-unifiedorder"),
    path("pay/orderquery", api.orderquery, name="wechat-orderquery"),
    path("pay/closeorder", api.closeorder, name="wechat-closeorder"),
    path("secapi/pay/refund", api.refund, name="wechat-refund"),
    path("pay/refundquery", api.refundquery, name="wechat-refundquery"),
    path("pay/downloadbill", api.downloadbill, name="wechat-downloadbill"),
    path("scan/<str:code>/", scan.scan, name="wechat-scan"),
    path("scan/<str:code>/pay/", scan.scan_pay, name="wechat-scan-pay"),
    path("scan/<str:code>/cancel/", scan.scan_cancel, name="wechat-scan-cancel"),
    # H5: the page an mweb_url opens (wx.tenpay.com at WeChat), and the WeChat app it hands over to.
    path("cgi-bin/mmpayweb-bin/checkmweb", h5.checkmweb, name="wechat-mweb"),
    path("cgi-bin/mmpayweb-bin/checkmweb/pay/", h5.h5_pay, name="wechat-mweb-pay"),
    path("cgi-bin/mmpayweb-bin/checkmweb/cancel/", h5.h5_cancel, name="wechat-mweb-cancel"),
    # Web authorisation (open.weixin.qq.com and api.weixin.qq.com at WeChat).
    path("connect/oauth2/authorize", oauth.authorize, name="wechat-oauth-authorize"),
    path("sns/oauth2/access_token", oauth.access_token, name="wechat-oauth-access-token"),
    # JSAPI: the bridge WeChat's app puts in its pages, and what its payment sheet asks.
    path("jsbridge.js", jsapi.jsbridge, name="wechat-jsbridge"),
    path("jsapi/prepare", jsapi.prepare, name="wechat-jsapi-prepare"),
    path("jsapi/pay", jsapi.pay, name="wechat-jsapi-pay"),
]
