"""Alipay through alipay-sdk-python: the only package that imports the SDK (patched on import)."""

from payments.gateways.alipay.gateway import AlipayGateway

__all__ = ["AlipayGateway"]
