"""System checks: refuse TEST-ONLY key material against real gateways, and settings that cannot work."""

from django.conf import settings
from django.core.checks import Error, register

from payments.gateways import UnknownChannel, gateway_get
from payments.gateways.base import GatewayError
from payments.safety import startup_refusals


@register("payments")
def check_no_test_only_keys(app_configs=None, **kwargs):
    """manage.py's view of the decision every web and worker process makes when it starts."""
    return [Error(refusal.message, hint=refusal.hint, id=refusal.check_id) for refusal in startup_refusals()]


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
