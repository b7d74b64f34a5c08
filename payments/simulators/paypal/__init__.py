"""The local PayPal: the REST endpoints paypal-server-sdk calls, the payer's approve page, and
webhooks signed with its own TEST-ONLY certificate (mounted at /sandbox/paypal/ in sandbox mode).

- OAuth: POST /v1/oauth2/token with Basic client id:secret (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET)
  issues the Bearer token every other call needs.
- Orders v2: create (PayPal-Request-Id answers a repeated request with the same order), get,
  PATCH (custom_id, description, invoice_id), capture (only APPROVED orders; the payer's choice of a
  declining card answers 422 INSTRUMENT_DECLINED and leaves the order approvable again; an invoice_id
  already captured answers DUPLICATE_INVOICE_ID), with a fee in seller_receivable_breakdown.
- Payments v2: refund a capture (PayPal-Request-Id again), get a refund.
- Transaction Search (/v1/reporting/transactions) with event codes T0006 and T1107 and fees.
- Webhooks (CHECKOUT.ORDER.APPROVED, PAYMENT.CAPTURE.COMPLETED, PAYMENT.CAPTURE.REFUNDED) go to the
  URL registered for PAYPAL_WEBHOOK_ID, {SITE_URL}/payments/notify/paypal/, each attempt with new
  transmission headers: SHA256withRSA over "<transmission id>|<time>|<webhook id>|<crc32 of body>"
  with TEST_ONLY_paypal_webhook_key.pem, whose certificate is served at the cert_url. The
  verify-webhook-signature endpoint checks exactly that, for our webhook id only.
- Errors are PayPal's `{name, message, debug_id, details[{issue, description, ...}], links}`.
"""

import datetime as dt

from django.urls import path

from payments.simulators.paypal import api
from payments.simulators.paypal.webhooks import delivery_headers

__all__ = ["RETRY_SCHEDULE", "delivery_headers", "is_acknowledged", "urlpatterns"]

# PayPal retries an unacknowledged webhook up to 25 times over three days.
RETRY_SCHEDULE = tuple(dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 30, 60, 60, 120, 120, *(180,) * 14))


def is_acknowledged(status_code: int, body: str) -> bool:
    return 200 <= status_code < 300


urlpatterns = [
    path("v1/oauth2/token", api.token, name="paypal-token"),
    path("v2/checkout/orders", api.orders_create, name="paypal-orders"),
    path("v2/checkout/orders/<str:order_id>", api.order, name="paypal-order"),
    path("v2/checkout/orders/<str:order_id>/capture", api.order_capture, name="paypal-order-capture"),
    path("v2/payments/captures/<str:capture_id>/refund", api.capture_refund, name="paypal-capture-refund"),
    path("v2/payments/refunds/<str:refund_id>", api.refund_get, name="paypal-refund"),
    path("v1/reporting/transactions", api.transactions, name="paypal-transactions"),
    path("v1/notifications/verify-webhook-signature", api.verify_webhook, name="paypal-verify-webhook"),
    path("v1/notifications/certs/<str:name>", api.cert, name="paypal-cert"),
    path("checkoutnow", api.approve_page, name="paypal-approve"),
    path("checkoutnow/<str:order_id>/approve/", api.approve, name="paypal-approve-submit"),
    path("checkoutnow/<str:order_id>/cancel/", api.approve_cancel, name="paypal-approve-cancel"),
]
