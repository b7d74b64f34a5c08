"""The numbers gateways and people see: readable, unique, and within every gateway's length limit.

Order numbers are `KP` + Beijing time to the second + 6 random digits (22 characters); payment
and refund numbers append a sequence to the order number (WeChat allows 32 characters).
"""

import secrets

from django.utils import timezone


def order_no_new() -> str:
    return f"KP{timezone.localtime():%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"


def out_trade_no_for(order_no: str, attempt: int) -> str:
    return f"{order_no}P{attempt:02d}"


def refund_no_for(order_no: str, sequence: int) -> str:
    return f"{order_no}R{sequence:02d}"
