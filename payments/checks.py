"""System checks: refuse TEST-ONLY key material against real gateways, and settings that cannot work."""

import datetime as dt

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


@register("payments")
def check_celery_redelivery(app_configs=None, **kwargs):
    """Redis redelivers a message unacknowledged for the visibility timeout: it must outlast any wait
    and run, or a task waiting for its countdown or still running is delivered a second time."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    longest = settings.TASK_MAX_COUNTDOWN_SECONDS + settings.CELERY_TASK_TIME_LIMIT
    if visibility > longest:
        return []
    return [
        Error(
            f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) does not outlast the longest countdown plus the task time "
            f"limit ({settings.TASK_MAX_COUNTDOWN_SECONDS} + {settings.CELERY_TASK_TIME_LIMIT} s).",
            hint="Raise CELERY_VISIBILITY_TIMEOUT or lower CELERY_TASK_TIME_LIMIT.",
            id="payments.E010",
        )
    ]
