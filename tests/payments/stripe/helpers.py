"""Stripe webhooks as the local Stripe (or a forger) would send them."""

import hashlib
import hmac
import json
import time

from django.conf import settings


def signature_header(body: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = (secret or settings.STRIPE_WEBHOOK_SECRET).encode()
    return f"t={timestamp},v1={hmac.new(key, f'{timestamp}.{body}'.encode(), hashlib.sha256).hexdigest()}"


def session_completed_event(
    *, out_trade_no: str, amount: int, currency: str = "cny", session_id: str = "cs_test_x", livemode: bool = False
) -> str:
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount,
        "client_reference_id": out_trade_no,
        "currency": currency,
        "payment_intent": "pi_forged",
        "payment_status": "paid",
        "status": "complete",
    }
    event = {
        "id": "evt_1",
        "object": "event",
        "created": int(time.time()),
        "data": {"object": session},
        "livemode": livemode,
        "type": "checkout.session.completed",
    }
    return json.dumps(event)
