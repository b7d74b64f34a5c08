"""The local Stripe: the v1 REST endpoints the `stripe` library calls, a hosted Checkout page, and
signed webhook deliveries (mounted at /sandbox/stripe/ in sandbox mode only; `stripe.api_base`
points here).

- Requests are form-encoded with bracket notation and authenticated with `Bearer <secret key>`
  (STRIPE_SECRET_KEY); errors are Stripe's `{"error": {"type", "code", "message", "param"}}` with
  its HTTP statuses (400, 401, 404). POSTs honour `Idempotency-Key`: the same key answers the
  first reply again, the same key with other parameters is an `idempotency_error`.
- Checkout Sessions: create, retrieve (expand `payment_intent`, `payment_intent.latest_charge`),
  expire; the hosted page (`session.url`) takes the test card 4242 4242 4242 4242, declines
  4000 0000 0000 0002 and leaves the session open.
- Refunds: create (on a PaymentIntent), retrieve, list by PaymentIntent; they succeed at once.
- Balance transactions: list by `created` range (expand `data.source`, `data.source.payment_intent`)
  with a fee of 2.9 % + 30 minor units on every charge, as Stripe's standard card pricing has it.
- Webhooks (checkout.session.completed, checkout.session.expired, refund.created) go to the
  endpoint registered in this "dashboard", {SITE_URL}/payments/notify/stripe/, signed with
  STRIPE_WEBHOOK_SECRET afresh at every attempt, retried until a 2xx.
"""

import datetime as dt
import hashlib
import hmac
import time

from django.conf import settings
from django.urls import path

from payments.simulators.stripe import api

# Stripe retries with an exponential back-off for up to three days (live mode).
RETRY_SCHEDULE = tuple(dt.timedelta(minutes=m) for m in (1, 5, 30, 120, 300, 600, 600, 720, 720, 720, 720))


def is_acknowledged(status_code: int, body: str) -> bool:
    return 200 <= status_code < 300


def delivery_headers(body: str) -> dict[str, str]:
    """`Stripe-Signature` for this attempt: HMAC-SHA256 of "<unix time>.<body>" with the endpoint secret."""
    timestamp = int(time.time())
    signature = hmac.new(
        settings.STRIPE_WEBHOOK_SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
    ).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={signature}"}


urlpatterns = [
    path("v1/checkout/sessions", api.sessions_create, name="stripe-sessions"),
    path("v1/checkout/sessions/<str:session_id>", api.session_retrieve, name="stripe-session"),
    path("v1/checkout/sessions/<str:session_id>/expire", api.session_expire, name="stripe-session-expire"),
    path("v1/refunds", api.refunds, name="stripe-refunds"),
    path("v1/refunds/<str:refund_id>", api.refund_retrieve, name="stripe-refund"),
    path("v1/balance_transactions", api.balance_transactions, name="stripe-balance-transactions"),
    path("pay/<str:session_id>/", api.checkout_page, name="stripe-checkout-page"),
    path("pay/<str:session_id>/pay/", api.checkout_pay, name="stripe-checkout-pay"),
    path("pay/<str:session_id>/cancel/", api.checkout_cancel, name="stripe-checkout-cancel"),
]
