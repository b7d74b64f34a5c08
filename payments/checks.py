"""System checks: refuse TEST-ONLY key material against real gateways, and settings that cannot work."""

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

from payments.gateways import UnknownChannel, gateway_get
from payments.gateways.base import GatewayError

_SECRET_SETTINGS = {
    "alipay": ("ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"),
    "wechat": ("WECHAT_API_KEY", "WECHAT_MCH_CERT", "WECHAT_MCH_KEY", "WECHAT_APP_SECRET"),
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
    "paypal": ("PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"),
    # A TEST-ONLY root or middle certificate would trust signatures the local UnionPay can make.
    "unionpay": ("UNIONPAY_SIGN_CERT", "UNIONPAY_ROOT_CERT", "UNIONPAY_MIDDLE_CERT"),
}
_MARKERS = ("TEST_ONLY", "TESTONLY", "TEST-ONLY", "TEST ONLY")
_TEST_KEYS_DIR = Path(__file__).resolve().parent / "simulators" / "keys"


def _normalised(text: str) -> str:
    return "".join(text.split())


def _is_test_only(value: str) -> bool:
    """A marker in the value or its file, or the same key as a committed one under another name."""
    if any(marker in value for marker in _MARKERS):
        return True
    content = value
    if len(value) < 4096 and "\n" not in value and Path(value).is_file():
        content = Path(value).read_text(errors="replace")
    if any(marker in content for marker in _MARKERS):
        return True
    committed = {_normalised(key.read_text()) for key in _TEST_KEYS_DIR.glob("TEST_ONLY_*.pem")}
    return bool(content) and _normalised(content) in committed


@register("payments")
def check_no_test_only_keys(app_configs=None, **kwargs):
    if settings.PAYMENTS_SANDBOX:
        return []
    errors = [
        Error(
            f"{name} is TEST-ONLY key material, which is public.",
            hint="Configure the real key from the gateway's console, or turn PAYMENTS_SANDBOX on.",
            id="payments.E001",
        )
        for channel in settings.PAYMENTS_CHANNELS
        for name in _SECRET_SETTINGS.get(channel, ())
        if _is_test_only(str(getattr(settings, name, "")))
    ]
    if "sandbox" in settings.PAYMENTS_CHANNELS:
        errors.append(
            Error(
                "The sandbox channel is enabled but PAYMENTS_SANDBOX is off.",
                hint="Remove 'sandbox' from PAYMENTS_CHANNELS: it takes no real money.",
                id="payments.E002",
            )
        )
    return errors


@register("payments")
def check_wechat_sign_type(app_configs=None, **kwargs):
    if settings.WECHAT_SIGN_TYPE in ("MD5", "HMAC-SHA256"):
        return []
    return [
        Error(
            f"WECHAT_SIGN_TYPE is {settings.WECHAT_SIGN_TYPE!r}.",
            hint="Use MD5 or HMAC-SHA256, as configured in the WeChat Pay merchant console.",
            id="payments.E003",
        )
    ]


@register("payments")
def check_gateway_configuration(app_configs=None, **kwargs):
    """Every offered channel can be built from its settings and finds nothing wrong with them."""
    errors = []
    for channel in settings.PAYMENTS_CHANNELS:
        try:
            problems = gateway_get(channel).configuration_problems()
        except UnknownChannel:
            problems = [f"'{channel}' is in PAYMENTS_CHANNELS but not in PAYMENT_GATEWAYS."]
        except GatewayError as exc:
            problems = [str(exc)]
        errors += [
            Error(f"{channel}: {problem}", hint="See .env.example for this channel's settings.", id="payments.E004")
            for problem in problems
        ]
    return errors


@register("payments")
def check_order_timeout_fits_every_channel(app_configs=None, **kwargs):
    """An order must stay open at least as long as every offered gateway lets a trade be open
    (WeChat Pay refuses a time_expire under 5 minutes away: every WeChat payment would fail)."""
    timeout = dt.timedelta(minutes=settings.ORDER_TIMEOUT_MINUTES)
    errors = []
    for channel in settings.PAYMENTS_CHANNELS:
        try:
            gateway = gateway_get(channel)
        except (UnknownChannel, GatewayError):
            continue  # reported by check_gateway_configuration
        if timeout < gateway.min_payment_window:
            errors.append(
                Error(
                    f"ORDER_TIMEOUT_MINUTES is {settings.ORDER_TIMEOUT_MINUTES}; {gateway.display_name} needs "
                    f"at least {gateway.min_payment_window.total_seconds() / 60:g} minutes to pay an order.",
                    hint=f"Raise ORDER_TIMEOUT_MINUTES, or remove '{channel}' from PAYMENTS_CHANNELS.",
                    id="payments.E005",
                )
            )
    return errors
