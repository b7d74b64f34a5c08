"""PayPal, the only package that imports paypal-server-sdk. See gateway.py."""

from payments.gateways.paypal.gateway import PaypalGateway

__all__ = ["PaypalGateway"]
