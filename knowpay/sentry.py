"""Error reports to Sentry, when SENTRY_DSN is set: Django requests and Celery tasks.

The SDK sends from a background thread with a bounded queue, so an unreachable Sentry costs a
request nothing (events are dropped when the queue is full). Reports carry no personal data
(what `send_default_pii` off means, and no cookies, request bodies or local variables) and never our secrets: the keys,
passwords and tokens of the settings are masked wherever they appear in an event.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST

MASK = "[Filtered]"
# Request headers never sent: addresses of people, credentials, gateways' signatures.
HEADER_DENYLIST = ["forwarded", "-ip", "remote-", "via", "-user", "authorization", "cookie", "signature", "wechatpay"]
# Settings whose values are secrets: never sent, wherever they would appear (a message, a header).
SECRET_SETTINGS = (
    "SECRET_KEY",
    "EMAIL_HOST_PASSWORD",
    "METRICS_TOKEN",
    "ALIPAY_APP_PRIVATE_KEY",
    "WECHAT_API_KEY",
    "SANDBOX_MERCHANT_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "PAYPAL_CLIENT_SECRET",
    "UNIONPAY_SIGN_CERT_PASSWORD",
)
# Field names whose values are masked anywhere in an event (extra data, contexts), beside Sentry's
# own list. Sentry's name scrubber does not run once `data_collection` is given, so ours does.
DENYLIST = frozenset(
    name.lower() for name in (*DEFAULT_DENYLIST, "sign", "signature", "paysign", "merchant_key", "client_secret", "dsn")
)


def _secret_values() -> list[str]:
    from django.conf import settings

    values = (str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS)
    # Short values (an empty setting, "000000") would mask ordinary text; none of our real keys is short.
    return sorted({value for value in values if len(value) >= 8}, key=len, reverse=True)


def _mask(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {
            key: MASK if isinstance(key, str) and key.lower() in DENYLIST else _mask(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask(item, secrets) for item in value]
    return value


def event_scrub_secrets(event: dict, hint: dict | None = None) -> dict:
    """Sentry's `before_send`: our secret values masked in every string, denylisted fields masked."""
    return _mask(event, _secret_values())


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0, transport=None) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # What send_default_pii=False means, said explicitly (the SDK's newer form of that switch),
        # and tighter: no cookies, request bodies (notifications), query data or local variables.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": HEADER_DENYLIST}},
            "http_bodies": [],
            "url_query_params": {"mode": "denylist", "terms": ["sign", "token", "key", "secret"]},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
        },
        before_send=event_scrub_secrets,
        traces_sample_rate=traces_sample_rate,
        # At exit, wait at most this long for queued events: a dead Sentry never holds a worker's shutdown.
        shutdown_timeout=1,
        transport=transport,
    )
