"""KnowPay Sandbox Pay: a local gateway for development, the demo and tests.

Protocol v1 (the simulator in payments/simulators/sandbox.py is its server side):

- Signature: `sign` = lower-case hex HMAC-SHA256, keyed with the merchant key, over every non-empty
  parameter except `sign`, as `k=v` pairs sorted by key and joined by `&`.
- Page pay: the browser is sent to `{base}cashier/?` + signed parameters merchant_id, out_trade_no,
  amount_fen, subject, notify_url, return_url, expire_at (Unix seconds), nonce.
- API: `POST {base}api/<action>/` with signed form parameters merchant_id, nonce and the action's
  own; the reply is a signed JSON object of strings with `code` ("SUCCESS" or an error code) and
  `message`. Actions: query, close, refund, refund_query, bill, transfer.
- Notification: a signed form POST to notify_url with merchant_id, notify_id, out_trade_no,
  trade_no, amount_fen, trade_status (SUCCESS), paid_at (ISO 8601), buyer_id. The merchant answers
  the text `SUCCESS`; anything else is retried.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import secrets
from urllib.parse import parse_qsl, urlencode

import requests
from django.conf import settings

from payments.gateways.base import (
    Gateway,
    GatewayRejected,
    GatewayResponseInvalid,
    GatewayUnavailable,
    IncomingNotification,
    NotificationRejected,
    NotifyReply,
    PaymentEvent,
    PaymentMethod,
    PaymentRequest,
    PaymentStart,
    RefundEvent,
    RefundNotFound,
    RefundRequest,
    RefundStatus,
    StartKind,
    Statement,
    StatementEntry,
    StatementEntryKind,
    TradeAlreadyPaid,
    TradeNotFound,
    TradeStatus,
    TransferRequest,
    TransferResult,
)

logger = logging.getLogger(__name__)

TRADE_STATUSES = {"WAITING": TradeStatus.WAITING, "SUCCESS": TradeStatus.PAID, "CLOSED": TradeStatus.CLOSED}


def sandbox_sign(params: dict[str, str], key: str) -> str:
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    return hmac.new(key.encode(), content.encode(), hashlib.sha256).hexdigest()


def sandbox_verify(params: dict[str, str], key: str) -> bool:
    return hmac.compare_digest(str(params.get("sign", "")), sandbox_sign(params, key))


def _fen(value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"not an amount in fen: {value!r}")
    return int(value)


class SandboxGateway(Gateway):
    channel = "sandbox"
    display_name = "Sandbox Pay"
    methods = (PaymentMethod("page", "Sandbox Pay · test cashier, no real money"),)
    simulator_urls = "payments.simulators.sandbox"

    def __init__(self) -> None:
        self.merchant_id = settings.SANDBOX_MERCHANT_ID
        self.key = settings.SANDBOX_MERCHANT_KEY
        self.base_url = settings.SANDBOX_SERVER_URL or f"{settings.SITE_URL}/sandbox/sandbox/"
        self.timeout = settings.GATEWAY_TIMEOUT_SECONDS

    def _signed(self, params: dict[str, str]) -> dict[str, str]:
        params = {**params, "merchant_id": self.merchant_id, "nonce": secrets.token_hex(8)}
        params["sign"] = sandbox_sign(params, self.key)
        return params

    def _call(self, action: str, params: dict[str, str]) -> dict[str, str]:
        url = f"{self.base_url}api/{action}/"
        try:
            response = requests.post(url, data=self._signed(params), timeout=self.timeout)
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"sandbox {action}: {exc}", code="NETWORK") from exc
        if response.status_code != 200:
            raise GatewayUnavailable(f"sandbox {action}: HTTP {response.status_code}", code="HTTP_STATUS")
        try:
            reply = response.json()
        except ValueError as exc:
            raise GatewayResponseInvalid(f"sandbox {action}: not JSON", code="BAD_RESPONSE") from exc
        if not isinstance(reply, dict) or not all(isinstance(v, str) for v in reply.values()):
            raise GatewayResponseInvalid(f"sandbox {action}: unexpected shape", code="BAD_RESPONSE")
        if not sandbox_verify(reply, self.key):
            raise GatewayResponseInvalid(f"sandbox {action}: bad response signature", code="BAD_SIGNATURE")
        code = reply.get("code", "")
        if code == "SUCCESS":
            return reply
        message = reply.get("message", "")
        if code == "TRADE_NOT_FOUND":
            raise TradeNotFound(f"sandbox {action}: {message}", code=code)
        if code == "REFUND_NOT_FOUND":
            raise RefundNotFound(f"sandbox {action}: {message}", code=code)
        if code == "TRADE_PAID":
            raise TradeAlreadyPaid(f"sandbox {action}: {message}", code=code)
        if code == "SYSTEM_ERROR":
            raise GatewayUnavailable(f"sandbox {action}: {message}", code=code)
        raise GatewayRejected(f"sandbox {action}: {code} {message}", code=code)

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.currency_check(request.currency)
        params = self._signed(
            {
                "out_trade_no": request.out_trade_no,
                "amount_fen": str(request.amount_fen),
                "subject": request.subject,
                "notify_url": request.notify_url,
                "return_url": request.return_url,
                "expire_at": str(int(request.expires_at.timestamp())),
            }
        )
        return PaymentStart(kind=StartKind.REDIRECT, url=f"{self.base_url}cashier/?{urlencode(params)}")

    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent:
        try:
            text = notification.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotificationRejected("body is not UTF-8", code="MALFORMED") from exc
        pairs = parse_qsl(text, keep_blank_values=True)
        params = dict(pairs)
        if not params or len(params) != len(pairs):
            raise NotificationRejected("empty body or repeated parameters", code="MALFORMED")
        if not sandbox_verify(params, self.key):
            raise NotificationRejected("bad signature", code="BAD_SIGNATURE")
        if params.get("merchant_id") != self.merchant_id:
            raise NotificationRejected("addressed to another merchant", code="WRONG_MERCHANT")
        status = TRADE_STATUSES.get(params.get("trade_status", ""))
        if status is None:
            raise NotificationRejected("unknown trade_status", code="MALFORMED")
        try:
            amount_fen = _fen(params.get("amount_fen", ""))
            paid_at = dt.datetime.fromisoformat(params["paid_at"]) if params.get("paid_at") else None
        except (ValueError, KeyError) as exc:
            raise NotificationRejected(f"malformed field: {exc}", code="MALFORMED") from exc
        return PaymentEvent(
            out_trade_no=params.get("out_trade_no", ""),
            status=status,
            amount_fen=amount_fen,
            gateway_trade_no=params.get("trade_no", ""),
            paid_at=paid_at,
            payer_ref=params.get("buyer_id", ""),
            raw_status=params["trade_status"],
            notify_id=params.get("notify_id", ""),
        )

    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        return NotifyReply(body="SUCCESS" if accepted else "FAIL")

    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        reply = self._call("query", {"out_trade_no": out_trade_no})
        status = TRADE_STATUSES.get(reply.get("trade_status", ""))
        if status is None or reply.get("out_trade_no") != out_trade_no:
            raise GatewayResponseInvalid("sandbox query: unexpected trade in reply", code="BAD_RESPONSE")
        return PaymentEvent(
            out_trade_no=out_trade_no,
            status=status,
            amount_fen=_fen(reply.get("amount_fen", "")),
            gateway_trade_no=reply.get("trade_no", ""),
            paid_at=dt.datetime.fromisoformat(reply["paid_at"]) if reply.get("paid_at") else None,
            payer_ref=reply.get("buyer_id", ""),
            raw_status=reply["trade_status"],
        )

    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        try:
            self._call("close", {"out_trade_no": out_trade_no})
        except TradeNotFound:
            return  # never opened at the cashier: nothing there to pay

    def refund(self, request: RefundRequest) -> RefundEvent:
        reply = self._call(
            "refund",
            {
                "out_trade_no": request.out_trade_no,
                "out_refund_no": request.out_refund_no,
                "refund_fen": str(request.refund_fen),
                "reason": request.reason,
            },
        )
        return self._refund_event(request.out_trade_no, request.out_refund_no, reply)

    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        reply = self._call("refund_query", {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no})
        return self._refund_event(out_trade_no, out_refund_no, reply)

    def _refund_event(self, out_trade_no: str, out_refund_no: str, reply: dict[str, str]) -> RefundEvent:
        statuses = {"SUCCESS": RefundStatus.SUCCEEDED, "PROCESSING": RefundStatus.PROCESSING}
        status = statuses.get(reply.get("refund_status", ""))
        if status is None or reply.get("out_refund_no") != out_refund_no:
            raise GatewayResponseInvalid("sandbox refund: unexpected reply", code="BAD_RESPONSE")
        return RefundEvent(
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            status=status,
            refund_fen=_fen(reply.get("refund_fen", "")),
            gateway_refund_no=reply.get("refund_no", ""),
            raw_status=reply["refund_status"],
        )

    def fetch_statement(self, day: dt.date) -> Statement:
        reply = self._call("bill", {"bill_date": day.isoformat()})
        kinds = {"PAYMENT": StatementEntryKind.PAYMENT, "REFUND": StatementEntryKind.REFUND}
        entries = []
        try:
            for row in csv.DictReader(io.StringIO(reply.get("bill", ""))):
                entries.append(
                    StatementEntry(
                        kind=kinds[row["type"]],
                        out_trade_no=row["out_trade_no"],
                        gateway_trade_no=row["trade_no"],
                        out_refund_no=row["out_refund_no"],
                        amount_fen=_fen(row["amount_fen"]),
                        occurred_at=dt.datetime.fromisoformat(row["time"]),
                    )
                )
        except (KeyError, ValueError) as exc:
            raise GatewayResponseInvalid(f"sandbox bill: malformed row: {exc}", code="BAD_BILL") from exc
        return Statement(channel=self.channel, day=day, entries=tuple(entries))

    def transfer(self, request: TransferRequest) -> TransferResult:
        reply = self._call(
            "transfer",
            {
                "out_biz_no": request.out_biz_no,
                "amount_fen": str(request.amount_fen),
                "payee_account": request.payee_account,
                "payee_name": request.payee_name,
                "remark": request.remark,
            },
        )
        if reply.get("out_biz_no") != request.out_biz_no or not reply.get("transfer_no"):
            raise GatewayResponseInvalid("sandbox transfer: unexpected reply", code="BAD_RESPONSE")
        return TransferResult(out_biz_no=request.out_biz_no, transfer_no=reply["transfer_no"], succeeded=True)


def sandbox_reply(fields: dict[str, str], key: str) -> str:
    """A signed API reply (used by the simulator; kept here beside the protocol it belongs to)."""
    reply = {k: str(v) for k, v in fields.items()}
    reply["sign"] = sandbox_sign(reply, key)
    return json.dumps(reply, ensure_ascii=False)
