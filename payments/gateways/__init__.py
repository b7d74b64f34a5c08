"""The registry of payment gateways: channels configured in settings, resolved once.

settings.PAYMENT_GATEWAYS maps every channel to its class (dotted path); settings.PAYMENTS_CHANNELS
chooses which are offered. Adding a channel is a module plus these two settings. Every gateway is
handed out wrapped in the contract boundary (boundary.GuardedGateway): errors typed, calls recorded.
"""

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from payments.gateways.base import Gateway
from payments.gateways.boundary import GuardedGateway


class UnknownChannel(LookupError):
    """No enabled gateway has this channel name."""


@cache
def _gateway_class(channel: str) -> type[Gateway]:
    try:
        path = settings.PAYMENT_GATEWAYS[channel]
    except KeyError:
        raise UnknownChannel(channel) from None
    return import_string(path)


def _record_call(**fields) -> None:
    # Imported when first needed: this registry is loaded by the system checks, before models are.
    from payments.services.gateway_calls import gateway_call_record

    gateway_call_record(**fields)


@cache
def gateway_get(channel: str) -> GuardedGateway:
    """The configured gateway of an enabled channel, behind the contract boundary. Raises UnknownChannel."""
    if channel not in settings.PAYMENTS_CHANNELS:
        raise UnknownChannel(channel)
    return GuardedGateway(_gateway_class(channel)(), record=_record_call)


def gateway_list() -> list[GuardedGateway]:
    """Enabled gateways, in the order they are offered at checkout."""
    return [gateway_get(channel) for channel in settings.PAYMENTS_CHANNELS]


def channel_display_name(channel: str) -> str:
    """How people see a channel ("WeChat Pay"), even one no longer offered."""
    try:
        return _gateway_class(channel).display_name
    except UnknownChannel:
        return channel


def gateway_class_get(channel: str) -> type[Gateway]:
    """The gateway class of a known channel, enabled or not. Raises UnknownChannel."""
    return _gateway_class(channel)


def gateway_classes_all() -> list[type[Gateway]]:
    """Every known gateway class, enabled or not (their simulators are mounted in sandbox mode)."""
    return [_gateway_class(channel) for channel in settings.PAYMENT_GATEWAYS]


@receiver(setting_changed)
def _forget_gateways(**kwargs) -> None:
    # Gateways read their configuration when built; tests that override settings get fresh ones.
    _gateway_class.cache_clear()
    gateway_get.cache_clear()
