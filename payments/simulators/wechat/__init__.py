"""The local WeChat Pay: the v2 API the gateway module uses, a phone-like scan page, notifications, bills.

Mounted at /sandbox/wechat/ in sandbox mode only. API paths have no trailing slash, as WeChat's do.
"""

import datetime as dt

from django.urls import path

from payments.simulators.wechat import api, scan
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
]
