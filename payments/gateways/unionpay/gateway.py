"""UnionPay 全渠道 online gateway payment (网关支付, ACP 5.1.0): a small client of our own over
`requests` and `cryptography` (protocol.py), as no official Python SDK exists.

- Paying: an auto-submitting form posts the signed consume (txnType 01) to frontTransReq.do; the
  payer pays on UnionPay's pages, which return the browser to frontUrl and notify backUrl. A
  transaction is found by orderId (our out_trade_no) and txnTime, so txnTime is our gateway_ref and
  a repeated start reuses it.
- There is no way to close an unpaid front consume: it lapses at payTimeout (our order's expiry).
- Query (txnType 00, queryTrans.do): respCode is the query's result, origRespCode the trade's.
- Refund (txnType 04, backTransReq.do): a new orderId (our refund number), origQryId = the
  consume's queryId; respCode 00 means accepted, the back notification (or a query) tells the end.
  reqReserved carries our out_trade_no so the refund notification names its trade.
- Reconciliation: fileTransfer (txnType 76) returns the day's zipped files; ZM lists transactions
  with UnionPay's fee.
- Amounts are integer minor units (txnAmt) with the ISO 4217 numeric currencyCode; times are
  Beijing time.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import replace
from functools import cached_property
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.utils import timezone

from knowpay.money import UnknownCurrency, currency_by_numeric, currency_get
from payments.gateways.base import (
    Gateway,
    GatewayConfigurationError,
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
)
from payments.gateways.unionpay.protocol import (
    ProtocolError,
    file_content_decode,
    load_cert,
    load_signing_cert,
    parse_reply,
    verify,
    zm_parse_line,
)

logger = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
PRODUCTION_GATEWAY_URL = "https://gateway.95516.com/gateway/api/"
PRODUCTION_FILE_URL = "https://filedownload.95516.com/"
TIME_FORMAT = "%Y%m%d%H%M%S"
SUCCESS_CODES = ("00", "A6")  # A6: succeeded with a deviation the merchant may ignore
IN_PROGRESS_CODES = ("03", "04", "05")  # timed out, unknown, accepted: ask again later
NOT_FOUND_CODE = "34"  # 查无此交易
BUSY_CODES = ("03", "04", "05", "06")


def _beijing(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def _common(mer_id: str, **fields: str) -> dict[str, str]:
    return {"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "accessType": "0", "merId": mer_id, **fields}


class UnionpayGateway(Gateway):
    channel = "unionpay"
    display_name = "UnionPay"
    methods = (PaymentMethod("gateway", "UnionPay · bank card (银联在线支付)"),)
    simulator_urls = "payments.simulators.unionpay"
    # A TEST-ONLY root or middle certificate would trust signatures the local UnionPay can make.
    secret_settings = ("UNIONPAY_SIGN_CERT", "UNIONPAY_ROOT_CERT", "UNIONPAY_MIDDLE_CERT")
    # This merchant settles in CNY; UnionPay's foreign-currency acquiring is a separate contract.
    currencies = ("CNY",)

    def __init__(self) -> None:
        self.mer_id = settings.UNIONPAY_MER_ID
        local = f"{settings.SITE_URL}/sandbox/unionpay/"
        sandbox = settings.PAYMENTS_SANDBOX
        self.gateway_url = settings.UNIONPAY_GATEWAY_URL or (
            f"{local}gateway/api/" if sandbox else PRODUCTION_GATEWAY_URL
        )
        self.file_url = settings.UNIONPAY_FILE_URL or (f"{local}filedownload/" if sandbox else PRODUCTION_FILE_URL)
        self.timeout = settings.GATEWAY_TIMEOUT_SECONDS
        self.sandbox = sandbox
        self._sign_cert_setting = (settings.UNIONPAY_SIGN_CERT, settings.UNIONPAY_SIGN_CERT_PASSWORD)
        self._chain_setting = (settings.UNIONPAY_ROOT_CERT, settings.UNIONPAY_MIDDLE_CERT)

    def configuration_problems(self) -> list[str]:
        problems = [] if self.mer_id else ["UNIONPAY_MER_ID is not set."]
        for load in (lambda: self._signer, lambda: self._chain):
            try:
                load()
            except GatewayConfigurationError as exc:
                problems.append(str(exc))
        return problems

    @cached_property
    def _signer(self):
        try:
            return load_signing_cert(*self._sign_cert_setting)
        except ProtocolError as exc:
            raise GatewayConfigurationError(f"UNIONPAY_SIGN_CERT: {exc}", code="CONFIG") from exc

    @cached_property
    def _chain(self):
        try:
            return tuple(load_cert(path) for path in self._chain_setting)
        except ProtocolError as exc:
            raise GatewayConfigurationError(f"UNIONPAY_ROOT_CERT / UNIONPAY_MIDDLE_CERT: {exc}", code="CONFIG") from exc

    def _verified(self, fields: dict[str, str], action: str) -> dict[str, str]:
        root, middle = self._chain
        try:
            verify(fields, root=root, middle=middle, now=timezone.now())
        except ProtocolError as exc:
            raise GatewayResponseInvalid(f"unionpay {action}: {exc}", code=exc.code) from exc
        if fields.get("merId") != self.mer_id:
            raise GatewayResponseInvalid(f"unionpay {action}: reply for another merchant", code="WRONG_MERCHANT")
        return fields

    def _post(self, action: str, url: str, fields: dict[str, str], reference: str) -> dict[str, str]:
        """POST a signed request; returns the verified reply. Raises GatewayUnavailable on no answer."""
        session = requests.Session()
        session.trust_env = not self.sandbox
        try:
            response = session.post(url, data=self._signer.sign(fields), timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("unionpay unreachable", extra={"action": action, "reference": reference})
            raise GatewayUnavailable(f"unionpay {action}: {exc!r}"[:500], code="NETWORK") from exc
        if response.status_code != 200:
            raise GatewayUnavailable(f"unionpay {action}: HTTP {response.status_code}", code="HTTP_STATUS")
        try:
            reply = parse_reply(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ProtocolError) as exc:
            raise GatewayResponseInvalid(f"unionpay {action}: unreadable reply", code="BAD_RESPONSE") from exc
        if "signature" not in reply:
            # Refused before processing (a malformed request): UnionPay does not sign those.
            code = reply.get("respCode", "")
            raise GatewayRejected(f"unionpay {action}: {code} {reply.get('respMsg', '')}", code=code or "UNSIGNED")
        return self._verified(reply, action)

    @staticmethod
    def _amount(fields: dict[str, str], name: str = "txnAmt") -> int:
        value = fields.get(name, "")
        if not value.isascii() or not value.isdigit():
            raise GatewayResponseInvalid(f"unionpay: {name} is not an amount: {value!r}", code="BAD_RESPONSE")
        return int(value)

    @staticmethod
    def _currency(fields: dict[str, str]) -> str:
        try:
            return currency_by_numeric(fields.get("currencyCode", "")).code
        except UnknownCurrency as exc:
            raise GatewayResponseInvalid(f"unionpay: {exc}", code="BAD_RESPONSE") from exc

    @staticmethod
    def _trace_time(fields: dict[str, str]) -> dt.datetime | None:
        """traceTime (MMDDhhmmss) in the year of txnTime, Beijing time."""
        try:
            year = int(fields.get("txnTime", "")[:4])
            return dt.datetime.strptime(f"{year}{fields.get('traceTime', '')}", TIME_FORMAT).replace(tzinfo=BEIJING)
        except ValueError:
            return None

    # --- Paying ---------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.currency_check(request.currency)
        if request.method != "gateway":
            raise GatewayRejected(f"unionpay has no payment method {request.method!r}", code="UNKNOWN_METHOD")
        txn_time = request.gateway_ref or _beijing(timezone.now())
        fields = _common(
            self.mer_id,
            bizType="000201",
            txnType="01",
            txnSubType="01",
            channelType="07",
            orderId=request.out_trade_no,
            txnTime=txn_time,
            txnAmt=str(request.amount_fen),
            currencyCode=currency_get(request.currency).numeric,
            frontUrl=request.return_url,
            backUrl=request.notify_url,
            payTimeout=_beijing(request.expires_at),
        )
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in self._signer.sign(fields).items()
        )
        action = html.escape(f"{self.gateway_url}frontTransReq.do")
        form = (
            f'<form id="unionpay_form" name="unionpay_form" method="post" action="{action}">{inputs}</form>'
            '<script>document.getElementById("unionpay_form").submit();</script>'
        )
        return PaymentStart(kind=StartKind.FORM, html=form, gateway_ref=txn_time)

    def _query(self, order_id: str, txn_time: str) -> dict[str, str]:
        reply = self._post(
            "queryTrans",
            f"{self.gateway_url}queryTrans.do",
            _common(self.mer_id, bizType="000201", txnType="00", txnSubType="00", orderId=order_id, txnTime=txn_time),
            order_id,
        )
        code = reply.get("respCode", "")
        if code == NOT_FOUND_CODE:
            raise TradeNotFound(f"unionpay queryTrans: no transaction {order_id} at {txn_time}", code=code)
        if code in BUSY_CODES:
            raise GatewayUnavailable(f"unionpay queryTrans: {code} {reply.get('respMsg', '')}", code=code)
        if code != "00":
            raise GatewayRejected(f"unionpay queryTrans: {code} {reply.get('respMsg', '')}", code=code)
        if reply.get("orderId") != order_id:
            raise GatewayResponseInvalid("unionpay queryTrans: reply about another order", code="BAD_RESPONSE")
        return reply

    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        if not gateway_ref:
            raise TradeNotFound(f"unionpay: no txnTime known for {out_trade_no}", code=NOT_FOUND_CODE)
        reply = self._query(out_trade_no, gateway_ref)
        original = reply.get("origRespCode", "")
        if original in SUCCESS_CODES:
            status = TradeStatus.PAID
        elif original in IN_PROGRESS_CODES:
            status = TradeStatus.WAITING
        else:
            status = TradeStatus.CLOSED  # failed or lapsed: this transaction will not be paid
        return PaymentEvent(
            out_trade_no=out_trade_no,
            status=status,
            amount_fen=self._amount(reply),
            gateway_trade_no=reply.get("queryId", "") if status == TradeStatus.PAID else "",
            paid_at=self._trace_time(reply) if status == TradeStatus.PAID else None,
            payer_ref=reply.get("accNo", ""),
            raw_status=f"origRespCode {original}",
            currency=self._currency(reply),
        )

    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        # No close for front consumes: it lapses at payTimeout. A paid one must be processed as paid.
        try:
            event = self.query_payment(out_trade_no, gateway_ref=gateway_ref)
        except TradeNotFound:
            return
        if event.status == TradeStatus.PAID:
            raise TradeAlreadyPaid(f"unionpay: {out_trade_no} is paid", code="PAID")

    # --- Notifications --------------------------------------------------------------------------

    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent | RefundEvent:
        try:
            pairs = parse_qsl(notification.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NotificationRejected("unionpay notification: not a form", code="MALFORMED") from exc
        fields = dict(pairs)
        if not fields or len(fields) != len(pairs):
            raise NotificationRejected("unionpay notification: empty or repeated fields", code="MALFORMED")
        try:
            self._verified(fields, "notification")
            if fields.get("txnType") == "01":
                return self._payment_notification(fields)
            if fields.get("txnType") == "04":
                return self._refund_fields_event(fields, fields.get("txnTime", ""))
        except GatewayResponseInvalid as exc:
            raise NotificationRejected(str(exc), code=exc.code) from exc
        raise NotificationRejected(f"unionpay notification: txnType {fields.get('txnType')!r}", code="UNEXPECTED")

    def _payment_notification(self, fields: dict[str, str]) -> PaymentEvent:
        # UnionPay notifies a consume only when it succeeded.
        if fields.get("respCode") not in SUCCESS_CODES:
            raise GatewayResponseInvalid(f"consume notification with respCode {fields.get('respCode')}", code="FAILED")
        return PaymentEvent(
            out_trade_no=fields.get("orderId", ""),
            status=TradeStatus.PAID,
            amount_fen=self._amount(fields),
            gateway_trade_no=fields.get("queryId", ""),
            paid_at=self._trace_time(fields),
            payer_ref=fields.get("accNo", ""),
            raw_status=f"respCode {fields['respCode']}",
            notify_id=fields.get("queryId", ""),
            currency=self._currency(fields),
        )

    def _refund_fields_event(
        self, fields: dict[str, str], txn_time: str, *, code_name: str = "respCode"
    ) -> RefundEvent:
        code = fields.get(code_name, "")
        if code in SUCCESS_CODES:
            status = RefundStatus.SUCCEEDED
        elif code in IN_PROGRESS_CODES:
            status = RefundStatus.PROCESSING
        else:
            status = RefundStatus.FAILED
        return RefundEvent(
            out_trade_no=fields.get("reqReserved", ""),
            out_refund_no=fields.get("orderId", ""),
            status=status,
            refund_fen=self._amount(fields),
            # What UnionPay finds a refund by: its txnTime (with our refund number), and its queryId.
            gateway_refund_no=f"{txn_time}/{fields.get('queryId', '')}".rstrip("/"),
            raw_status=f"{code_name} {code}",
            currency=self._currency(fields),
        )

    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        # UnionPay resends unless it gets HTTP 200 (or 302) within 10 seconds.
        return NotifyReply(body="ok", status=200) if accepted else NotifyReply(body="fail", status=400)

    # --- Refunds --------------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundEvent:
        self.currency_check(request.currency)
        if not request.gateway_trade_no:
            raise GatewayRejected(f"unionpay refund: {request.out_trade_no} has no queryId", code="NOT_PAID")
        txn_time = _beijing(timezone.now())
        reply = self._post(
            "backTransReq",
            f"{self.gateway_url}backTransReq.do",
            _common(
                self.mer_id,
                bizType="000201",
                txnType="04",
                txnSubType="00",
                channelType="07",
                orderId=request.out_refund_no,
                txnTime=txn_time,
                txnAmt=str(request.refund_fen),
                currencyCode=currency_get(request.currency).numeric,
                origQryId=request.gateway_trade_no,
                backUrl=request.notify_url,
                reqReserved=request.out_trade_no,
            ),
            request.out_refund_no,
        )
        code = reply.get("respCode", "")
        if code in BUSY_CODES:
            raise GatewayUnavailable(f"unionpay backTransReq: {code} {reply.get('respMsg', '')}", code=code)
        if code != "00":
            raise GatewayRejected(f"unionpay backTransReq: {code} {reply.get('respMsg', '')}", code=code)
        if reply.get("orderId") != request.out_refund_no:
            raise GatewayResponseInvalid("unionpay backTransReq: reply about another refund", code="BAD_RESPONSE")
        # Accepted, not done: the back notification or a query says how it ended.
        event = self._refund_fields_event({**reply, "respCode": "05"}, reply.get("txnTime", txn_time))
        return replace(event, raw_status="respCode 00 (accepted)")

    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        txn_time = gateway_refund_no.split("/")[0]
        if not txn_time:
            raise RefundNotFound(f"unionpay: no txnTime known for refund {out_refund_no}", code=NOT_FOUND_CODE)
        try:
            reply = self._query(out_refund_no, txn_time)
        except TradeNotFound as exc:
            raise RefundNotFound(str(exc), code=exc.code) from exc
        event = self._refund_fields_event(reply, txn_time, code_name="origRespCode")
        if event.out_trade_no != out_trade_no:
            raise GatewayResponseInvalid("unionpay queryTrans: refund of another trade", code="BAD_RESPONSE")
        return event

    # --- Reconciliation -------------------------------------------------------------------------

    def fetch_statement(self, day: dt.date) -> Statement:
        reply = self._post(
            "fileTransfer",
            self.file_url,
            _common(
                self.mer_id,
                bizType="000000",
                txnType="76",
                txnSubType="01",
                settleDate=day.strftime("%m%d"),
                txnTime=_beijing(timezone.now()),
                fileType="00",
            ),
            day.isoformat(),
        )
        code = reply.get("respCode", "")
        if code == "98":  # 文件不存在: no transactions that day
            return Statement(channel=self.channel, day=day, entries=())
        if code != "00":
            raise GatewayUnavailable(f"unionpay fileTransfer: {code} {reply.get('respMsg', '')}", code=code)
        try:
            members = file_content_decode(reply.get("fileContent", ""))
            lines = [
                line for name, text in members.items() if "ZM_" in name for line in text.splitlines() if line.strip()
            ]
            rows = [zm_parse_line(line) for line in lines]
        except ProtocolError as exc:
            raise GatewayResponseInvalid(f"unionpay fileTransfer: {exc}", code=exc.code) from exc
        entries = []
        for row in rows:
            if row.mer_id != self.mer_id:
                continue
            kind = {"01": StatementEntryKind.PAYMENT, "04": StatementEntryKind.REFUND}.get(row.txn_type)
            if kind is None:
                continue
            refund = kind == StatementEntryKind.REFUND
            try:
                occurred = dt.datetime.strptime(f"{day.year}{row.trace_time}", TIME_FORMAT).replace(tzinfo=BEIJING)
            except ValueError as exc:
                raise GatewayResponseInvalid(f"unionpay file: bad time {row.trace_time!r}", code="BAD_BILL") from exc
            entries.append(
                StatementEntry(
                    kind=kind,
                    out_trade_no=row.orig_order_id if refund else row.order_id,
                    gateway_trade_no=row.orig_query_id if refund else row.query_id,
                    amount_fen=row.amount,
                    occurred_at=occurred,
                    out_refund_no=row.order_id if refund else "",
                    currency="CNY",
                    fee_fen=abs(row.fee),
                )
            )
        return Statement(channel=self.channel, day=day, entries=tuple(entries))
