from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.utils import timezone

from payments.gateways.sandbox import sandbox_sign
from tests.factories import PaymentFactory

NOTIFY_URL = "/payments/notify/sandbox/"


def sandbox_notification_body(payment, *, key=None, sign=True, **overrides) -> bytes:
    """A sandbox payment notification as the sandbox gateway would send it, signed with `key`."""
    fields = {
        "merchant_id": settings.SANDBOX_MERCHANT_ID,
        "notify_id": "N0001",
        "out_trade_no": payment.out_trade_no,
        "trade_no": f"SBX{payment.pk:020d}",
        "amount_fen": str(payment.amount_fen),
        "trade_status": "SUCCESS",
        "paid_at": timezone.now().isoformat(),
        "buyer_id": "sandbox-buyer-1",
    }
    fields.update(overrides)
    if sign:
        fields["sign"] = sandbox_sign(fields, key or settings.SANDBOX_MERCHANT_KEY)
    return urlencode(fields).encode()


@pytest.fixture
def payment(course, learner):
    return PaymentFactory(order__course=course, order__learner=learner)


@pytest.fixture
def post_notify(client):
    def post(body: bytes, url: str = NOTIFY_URL):
        return client.post(url, data=body, content_type="application/x-www-form-urlencoded")

    return post


@pytest.fixture
def gateway_site(live_server, settings):
    """A live server that the gateway clients and the local simulators talk to over real HTTP."""
    settings.SITE_URL = live_server.url
    return live_server
