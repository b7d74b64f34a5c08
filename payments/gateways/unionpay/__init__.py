"""UnionPay 全渠道 (ACP 5.1.0): our own client of the published specification. See gateway.py, protocol.py."""

from payments.gateways.unionpay.gateway import UnionpayGateway

__all__ = ["UnionpayGateway"]
