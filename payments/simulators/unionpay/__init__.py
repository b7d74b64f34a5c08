"""The local UnionPay: ACP 5.1.0 front and back transactions with certificate signatures, its cashier
page, back notifications and the reconciliation file (mounted at /sandbox/unionpay/ in sandbox mode).

- Requests must be signed by the merchant certificate it knows (TEST_ONLY_unionpay_merchant_cert.pem,
  by certId = its serial); a bad signature answers respCode 11 unsigned, like UnionPay's refusals.
- Replies and notifications are signed with its own key (TEST_ONLY_unionpay_sign_key.pem) and carry
  its certificate (signPubKeyCert), issued by its TEST-ONLY middle and root CAs.
- frontTransReq.do opens the cashier (test card 6216261000000000018; 6216261000000000000 is
  declined); paying notifies backUrl (form POST, resent 5 times at 0, 1, 2, 4 and 8 minutes until
  HTTP 200 or 302) and returns the browser to frontUrl with an auto-submitted front notification.
- queryTrans.do, backTransReq.do (refund 04; a repeated orderId answers the refund it made) and the
  file download (txnType 76) with the day's ZM file, fee 0.6 % per consume.
- Deviation: a front consume is recorded when the payer opens the cashier (origRespCode 05 until
  paid, 01 after payTimeout), so an opened, unpaid trade can be queried.
"""

import datetime as dt

from django.urls import path

from payments.simulators.unionpay import api

RETRY_SCHEDULE = tuple(dt.timedelta(minutes=m) for m in (1, 2, 4, 8))


def is_acknowledged(status_code: int, body: str) -> bool:
    return status_code in (200, 302)


urlpatterns = [
    path("gateway/api/frontTransReq.do", api.front_trans, name="unionpay-front"),
    path("gateway/api/backTransReq.do", api.back_trans, name="unionpay-back"),
    path("gateway/api/queryTrans.do", api.query_trans, name="unionpay-query"),
    path("filedownload/", api.file_transfer, name="unionpay-file"),
    path("cashier/<str:query_id>/pay/", api.cashier_pay, name="unionpay-cashier-pay"),
    path("cashier/<str:query_id>/cancel/", api.cashier_cancel, name="unionpay-cashier-cancel"),
]
