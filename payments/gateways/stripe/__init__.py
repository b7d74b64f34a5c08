"""Stripe, the only package that imports the `stripe` library. See gateway.py."""

from payments.gateways.stripe.gateway import StripeGateway

__all__ = ["StripeGateway"]
