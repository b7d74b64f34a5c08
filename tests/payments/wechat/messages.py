"""Messages as WeChat Pay sends them, signed or encrypted with the test API key.

Built with the local WeChat Pay's own protocol code (the other side of the protocol), so every
test goes through our real verification.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from payments.simulators.wechat.protocol import beijing, encrypt_req_info, render, signed

OTHER_KEY = "NOTtheAPIkeyNOTtheAPIkeyNOTthe00"


def payment_notification(
    payment, *, key: str | None = None, sign_type: str = "MD5", sign: bool = True, **overrides: str | None
) -> bytes:
    """A payment notification for `payment`; an override of None leaves the field out."""
    fields = {
        "return_code": "SUCCESS",
        "appid": settings.WECHAT_APP_ID,
        "mch_id": settings.WECHAT_MCH_ID,
        "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "result_code": "SUCCESS",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "is_subscribe": "N",
        "trade_type": "NATIVE",
        "bank_type": "OTHERS",
        "total_fee": str(payment.amount_fen),
        "fee_type": "CNY",
        "cash_fee": str(payment.amount_fen),
        "transaction_id": f"42000009{payment.pk:020d}",
        "out_trade_no": payment.out_trade_no,
        "time_end": beijing(timezone.now()),
    }
    if sign_type != "MD5":
        fields["sign_type"] = sign_type
    fields.update(overrides)
    fields = {name: value for name, value in fields.items() if value is not None}
    if sign:
        fields = signed(fields, key=key or settings.WECHAT_API_KEY, sign_type=sign_type)
    return render(fields).encode()


def refund_notification(refund, *, key: str | None = None, info: dict | None = None, **overrides: str) -> bytes:
    """A refund notification for our `refund` row, its req_info encrypted with `key`."""
    payment = refund.payment
    details = {
        "transaction_id": f"42000009{payment.pk:020d}",
        "out_trade_no": payment.out_trade_no,
        "refund_id": f"50300{refund.pk:024d}",
        "out_refund_no": refund.refund_no,
        "total_fee": str(payment.amount_fen),
        "refund_fee": str(refund.amount_fen),
        "settlement_refund_fee": str(refund.amount_fen),
        "refund_status": "SUCCESS",
        "success_time": beijing(timezone.now(), "%Y-%m-%d %H:%M:%S"),
        "refund_recv_accout": "支付用户的零钱",
        "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
        "refund_request_source": "API",
        **(info or {}),
    }
    fields = {
        "return_code": "SUCCESS",
        "appid": settings.WECHAT_APP_ID,
        "mch_id": settings.WECHAT_MCH_ID,
        "nonce_str": "TeqClE3i0mvn3DrK",
        "req_info": encrypt_req_info(details, key=key or settings.WECHAT_API_KEY),
        **overrides,
    }
    return render(fields).encode()
