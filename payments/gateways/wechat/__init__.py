"""WeChat Pay (API v2), the only package that imports wechatpy. See gateway.py and protocol.py."""

from payments.gateways.wechat.gateway import WechatGateway

__all__ = ["WechatGateway"]
