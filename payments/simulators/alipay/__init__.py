"""The local Alipay: Alipay's OpenAPI as alipay-sdk-python speaks it, for development, the demo and
the tests (mounted at /sandbox/alipay/ in sandbox mode only).

- `gateway.do` checks the request signature (RSA2, against the app public key uploaded to this
  "console", TEST_ONLY_alipay_app_public.pem) and Alipay's public error codes, then answers
  `alipay.trade.precreate / query / close / refund / fastpay.refund.query`,
  `alipay.data.dataservice.bill.downloadurl.query` and `alipay.fund.trans.uni.transfer` with
  replies signed by its own key (TEST_ONLY_alipay_platform_private.pem), and opens the PC cashier
  for `alipay.trade.page.pay` and the phone cashier for `alipay.trade.wap.pay`. A precreated QR
  code is the URL of the phone's scan page.
- Paying, closing and refunding send Alipay's asynchronous notification (`trade_status_sync`),
  resent on RETRY_SCHEDULE until the merchant answers exactly `success`.
- Bills are zipped GBK CSV files behind a download URL that works for 30 seconds.
"""

import datetime as dt

from django.urls import path

from payments.simulators.alipay import openapi, pages

# Alipay resends an unacknowledged notification about 8 times over about 25 hours.
RETRY_SCHEDULE = tuple(dt.timedelta(minutes=m) for m in (4, 10, 10, 60, 2 * 60, 6 * 60, 15 * 60))


def is_acknowledged(status_code: int, body: str) -> bool:
    """Only the seven characters `success` stop the resends."""
    return status_code == 200 and body == "success"


urlpatterns = [
    path("gateway.do", openapi.gateway_do, name="alipay-gateway"),
    path("cashier/<str:trade_no>/pay/", pages.cashier_pay, name="alipay-cashier-pay"),
    path("cashier/<str:trade_no>/cancel/", pages.cashier_cancel, name="alipay-cashier-cancel"),
    path("wap/<str:trade_no>/pay/", pages.wap_cashier_pay, name="alipay-wap-pay"),
    path("wap/<str:trade_no>/quit/", pages.wap_cashier_quit, name="alipay-wap-quit"),
    path("qr/<str:token>/", pages.scan, name="alipay-scan"),
    path("qr/<str:token>/pay/", pages.scan_pay, name="alipay-scan-pay"),
    path("qr/<str:token>/cancel/", pages.scan_cancel, name="alipay-scan-cancel"),
    path("downloadBillFile.resource", pages.bill_download, name="alipay-bill-download"),
]
