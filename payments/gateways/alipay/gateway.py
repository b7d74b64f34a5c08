"""Alipay (支付宝) OpenAPI with RSA2 keys, through alipay-sdk-python.

- Page pay: `alipay.trade.page.pay` (FAST_INSTANT_TRADE_PAY), for computers, and phone website pay:
  `alipay.trade.wap.pay` (QUICK_WAP_WAY, with quit_url for a buyer who gives up), for phone
  browsers; the browser is sent to the signed GET URL the SDK builds without any HTTP call.
  QR pay: `alipay.trade.precreate` returns the QR content.
- API calls go to `server_url` as system parameters in the query string and `biz_content` in the
  form body, signed with our app key. A reply is `{"<method>_response": {...}, "sign": "..."}`,
  signed over the exact bytes of the inner object; the SDK verifies it with Alipay's public key.
  Success is `code == "10000"` with no `sub_code`; failures name themselves in `sub_code`.
- Notifications: a form POST signed by Alipay over its sorted non-empty parameters except `sign`
  and `sign_type`; we answer the plain text `success`, anything else makes Alipay resend.
- Times are Beijing time (`yyyy-MM-dd HH:mm:ss`); amounts are yuan strings with two decimals.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import http.client
import json
import logging
from collections.abc import Callable
from functools import cached_property
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayDataDataserviceBillDownloadurlQueryModel import (
    AlipayDataDataserviceBillDownloadurlQueryModel,
)
from alipay.aop.api.domain.AlipayFundTransUniTransferModel import AlipayFundTransUniTransferModel
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeFastpayRefundQueryModel import AlipayTradeFastpayRefundQueryModel
from alipay.aop.api.domain.AlipayTradePagePayModel import AlipayTradePagePayModel
from alipay.aop.api.domain.AlipayTradePrecreateModel import AlipayTradePrecreateModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.domain.AlipayTradeWapPayModel import AlipayTradeWapPayModel
from alipay.aop.api.domain.Participant import Participant
from alipay.aop.api.exception.Exception import RequestException, ResponseException
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)
from alipay.aop.api.request.AlipayFundTransUniTransferRequest import AlipayFundTransUniTransferRequest
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeFastpayRefundQueryRequest import AlipayTradeFastpayRefundQueryRequest
from alipay.aop.api.request.AlipayTradePagePayRequest import AlipayTradePagePayRequest
from alipay.aop.api.request.AlipayTradePrecreateRequest import AlipayTradePrecreateRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.request.AlipayTradeWapPayRequest import AlipayTradeWapPayRequest
from alipay.aop.api.util.SignatureUtils import get_sign_content
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

from knowpay.money import MoneyFormatError, fen_to_yuan, yuan_to_fen
from payments.gateways.alipay.bill import parse_trade_bill
from payments.gateways.alipay.keys import load_alipay_public_key, load_app_private_key, pkcs1_pem, spki_pem
from payments.gateways.alipay.sdk_patches import AlipayHTTPStatusError
from payments.gateways.base import (
    Device,
    Gateway,
    GatewayConfigurationError,
    GatewayError,
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
    TradeAlreadyPaid,
    TradeNotFound,
    TradeStatus,
    TransferRequest,
    TransferResult,
)

logger = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PRODUCTION_SERVER_URL = "https://openapi.alipay.com/gateway.do"
# Alipay's own sandbox (apps registered at open.alipay.com → 沙箱) answers at
# https://openapi-sandbox.dl.alipaydev.com/gateway.do: set ALIPAY_SERVER_URL to use it.
SUCCESS_CODE = "10000"
# "Service Currently Unavailable", and the business codes Alipay documents as "retry the same request".
UNAVAILABLE_CODE = "20000"
RETRY_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "SYSTEM_ERROR"})
TRADE_STATUSES = {
    "WAIT_BUYER_PAY": TradeStatus.WAITING,
    "TRADE_SUCCESS": TradeStatus.PAID,
    # No longer refundable; one trade notifies TRADE_SUCCESS and later TRADE_FINISHED.
    "TRADE_FINISHED": TradeStatus.PAID,
    # Closed unpaid, or fully refunded after payment.
    "TRADE_CLOSED": TradeStatus.CLOSED,
}
# Alipay refuses these characters in a subject.
_SUBJECT_FORBIDDEN = str.maketrans({"/": " ", "=": " ", "&": " "})
_ALIPAY_USER_ID_PREFIX = "2088"


def _beijing_time(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def _parse_beijing_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING)


class AlipayGateway(Gateway):
    channel = "alipay"
    display_name = "Alipay"
    methods = (
        PaymentMethod("page", "Alipay · pay on the Alipay page", devices=frozenset({Device.DESKTOP})),
        # WeChat's browser does not open Alipay: there only the QR code is offered.
        PaymentMethod("wap", "Alipay · pay in the Alipay app", devices=frozenset({Device.PHONE})),
        PaymentMethod("qr", "Alipay · scan a QR code"),
    )
    simulator_urls = "payments.simulators.alipay"
    secret_settings = ("ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY")

    def __init__(self) -> None:
        self.app_id = settings.ALIPAY_APP_ID
        self.seller_id = settings.ALIPAY_SELLER_ID
        sandbox_url = f"{settings.SITE_URL}/sandbox/alipay/gateway.do"
        self.server_url = settings.ALIPAY_SERVER_URL or (
            sandbox_url if settings.PAYMENTS_SANDBOX else PRODUCTION_SERVER_URL
        )
        self.timeout = settings.GATEWAY_TIMEOUT_SECONDS
        # Parsed on first use: a broken key fails that payment with a GatewayConfigurationError
        # instead of every page that lists the payment methods.
        self._app_private_key_setting = settings.ALIPAY_APP_PRIVATE_KEY
        self._alipay_public_key_setting = settings.ALIPAY_PUBLIC_KEY

    def configuration_problems(self) -> list[str]:
        problems = [] if self.app_id else ["ALIPAY_APP_ID is not set."]
        for load, setting in (
            (load_app_private_key, self._app_private_key_setting),
            (load_alipay_public_key, self._alipay_public_key_setting),
        ):
            try:
                load(setting)
            except GatewayConfigurationError as exc:
                problems.append(str(exc))
        return problems

    @cached_property
    def _alipay_public_key(self):
        return load_alipay_public_key(self._alipay_public_key_setting)

    @cached_property
    def _client(self) -> DefaultAlipayClient:
        if not self.app_id:
            raise GatewayConfigurationError("ALIPAY_APP_ID is not set", code="MISSING_APP_ID")
        config = AlipayClientConfig()
        config.server_url = self.server_url
        config.app_id = self.app_id
        config.app_private_key = pkcs1_pem(load_app_private_key(self._app_private_key_setting))
        config.alipay_public_key = spki_pem(self._alipay_public_key)
        config.sign_type = "RSA2"
        config.charset = "utf-8"
        config.timeout = self.timeout
        return DefaultAlipayClient(alipay_client_config=config)

    # --- Talking to Alipay ----------------------------------------------------------------------

    def _sdk(self, method: str, call: Callable[[DefaultAlipayClient], str], context: dict[str, str]) -> str:
        """Run one SDK call; every SDK or network exception leaves as one of our GatewayErrors."""
        log = {"alipay_method": method, **context}
        try:
            return call(self._client)
        except GatewayError:
            raise
        except AlipayHTTPStatusError as exc:
            logger.warning("alipay answered with an HTTP error", extra={**log, "http_status": exc.status})
            raise GatewayUnavailable(f"{method}: {exc}", code="HTTP_STATUS") from exc
        except (RequestException, OSError, http.client.HTTPException) as exc:
            logger.warning("alipay could not be reached", extra={**log, "error": repr(exc)[:300]})
            raise GatewayUnavailable(f"{method}: {exc!r}"[:500], code="NETWORK") from exc
        except ResponseException as exc:
            logger.error("alipay reply failed verification", extra={**log, "error": str(exc)[:500]})
            raise GatewayResponseInvalid(f"{method}: {exc}"[:500], code="BAD_RESPONSE") from exc
        except Exception as exc:
            # The SDK is large and untyped; whatever else it raises must not reach a user as a 500.
            logger.exception("alipay SDK failed unexpectedly", extra=log)
            raise GatewayUnavailable(f"{method}: {exc!r}"[:500], code="SDK_ERROR") from exc

    def _call(self, method: str, request, **context: str) -> dict:
        """Execute an API request; returns the verified reply object when Alipay says it succeeded."""
        text = self._sdk(method, lambda client: client.execute(request), context)
        try:
            # Amounts stay exact: any number Alipay sends unquoted is kept as its literal text.
            reply = json.loads(text, parse_float=str, parse_int=str)
        except ValueError as exc:
            raise GatewayResponseInvalid(f"{method}: reply is not JSON", code="BAD_RESPONSE") from exc
        if not isinstance(reply, dict):
            raise GatewayResponseInvalid(f"{method}: reply is not an object", code="BAD_RESPONSE")
        code, sub_code = str(reply.get("code", "")), str(reply.get("sub_code", ""))
        if code == SUCCESS_CODE and not sub_code:
            return reply
        detail = f"{method}: {code} {reply.get('msg', '')} {sub_code} {reply.get('sub_msg', '')}".strip()
        log = {"alipay_method": method, "code": code, "sub_code": sub_code, **context}
        if code == UNAVAILABLE_CODE or sub_code in RETRY_SUB_CODES:
            logger.warning("alipay is unavailable", extra=log)
            raise GatewayUnavailable(detail, code=sub_code or code)
        if sub_code.startswith("isv."):
            # Our app id, key or permissions are wrong: not the payer's fault, and a retry after
            # the configuration is fixed must still go through (a refund must not end as failed).
            logger.error("alipay refused our configuration", extra=log)
            raise GatewayConfigurationError(detail, code=sub_code)
        logger.info("alipay refused", extra=log)
        if sub_code == "ACQ.TRADE_NOT_EXIST":
            raise TradeNotFound(detail, code=sub_code)
        if sub_code == "ACQ.TRADE_HAS_SUCCESS":
            raise TradeAlreadyPaid(detail, code=sub_code)
        raise GatewayRejected(detail, code=sub_code or code)

    @staticmethod
    def _fen(method: str, value) -> int:
        try:
            return yuan_to_fen(value)
        except MoneyFormatError as exc:
            raise GatewayResponseInvalid(f"{method}: not an amount: {value!r}", code="BAD_RESPONSE") from exc

    # --- Paying ---------------------------------------------------------------------------------

    def _order_fields(self, model, request: PaymentRequest, product_code: str) -> None:
        model.out_trade_no = request.out_trade_no
        model.total_amount = fen_to_yuan(request.amount_fen)
        model.subject = request.subject.translate(_SUBJECT_FORBIDDEN).strip()[:256] or request.out_trade_no
        model.product_code = product_code
        model.time_expire = _beijing_time(request.expires_at)

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.currency_check(request.currency)
        if request.method == "page":
            return self._start_page_pay(request)
        if request.method == "wap":
            return self._start_wap_pay(request)
        if request.method == "qr":
            return self._start_qr_pay(request)
        raise GatewayRejected(f"alipay has no payment method {request.method!r}", code="UNKNOWN_METHOD")

    def _start_page_pay(self, request: PaymentRequest) -> PaymentStart:
        model = AlipayTradePagePayModel()
        self._order_fields(model, request, "FAST_INSTANT_TRADE_PAY")
        page_request = AlipayTradePagePayRequest(biz_model=model)
        page_request.notify_url = request.notify_url
        page_request.return_url = request.return_url
        url = self._sdk(
            "alipay.trade.page.pay",
            lambda client: client.page_execute(page_request, http_method="GET"),
            {"out_trade_no": request.out_trade_no},
        )
        return PaymentStart(kind=StartKind.REDIRECT, url=url)

    def _start_wap_pay(self, request: PaymentRequest) -> PaymentStart:
        model = AlipayTradeWapPayModel()
        self._order_fields(model, request, "QUICK_WAP_WAY")
        if request.quit_url:
            model.quit_url = request.quit_url
        wap_request = AlipayTradeWapPayRequest(biz_model=model)
        wap_request.notify_url = request.notify_url
        wap_request.return_url = request.return_url
        url = self._sdk(
            "alipay.trade.wap.pay",
            lambda client: client.page_execute(wap_request, http_method="GET"),
            {"out_trade_no": request.out_trade_no},
        )
        return PaymentStart(kind=StartKind.REDIRECT, url=url)

    def _start_qr_pay(self, request: PaymentRequest) -> PaymentStart:
        model = AlipayTradePrecreateModel()
        self._order_fields(model, request, "FACE_TO_FACE_PAYMENT")
        if self.seller_id:
            model.seller_id = self.seller_id
        precreate = AlipayTradePrecreateRequest(biz_model=model)
        precreate.notify_url = request.notify_url
        reply = self._call("alipay.trade.precreate", precreate, out_trade_no=request.out_trade_no)
        if reply.get("out_trade_no") != request.out_trade_no or not reply.get("qr_code"):
            raise GatewayResponseInvalid("alipay.trade.precreate: reply is for another trade", code="BAD_RESPONSE")
        return PaymentStart(kind=StartKind.QR, qr_content=reply["qr_code"])

    # --- Notifications --------------------------------------------------------------------------

    def _signed_by_alipay(self, params: dict[str, str]) -> bool:
        signed = {k: v for k, v in params.items() if k not in ("sign", "sign_type") and v != ""}
        try:
            signature = base64.b64decode(params.get("sign", ""), validate=True)
            self._alipay_public_key.verify(
                signature, get_sign_content(signed).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
            )
        except (binascii.Error, ValueError, InvalidSignature):
            return False
        return True

    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent:
        """Alipay's trade_status_sync. Refunds are notified the same way, to the trade's notify_url
        (TRADE_SUCCESS after a partial refund, TRADE_CLOSED after a full one, plus refund_fee, the
        running total); they are read as what they say about the trade, and refunds themselves are
        confirmed by the refund reply or query.
        """
        try:
            text = notification.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotificationRejected("body is not UTF-8", code="MALFORMED") from exc
        pairs = parse_qsl(text, keep_blank_values=True)
        params = dict(pairs)
        if not params or len(params) != len(pairs):
            raise NotificationRejected("empty body or repeated parameters", code="MALFORMED")
        # The SDK's verifier would also accept an RSA (SHA1) signature; only RSA2 is ours.
        if params.get("sign_type") != "RSA2":
            raise NotificationRejected(f"sign_type {params.get('sign_type')!r} is not RSA2", code="WRONG_SIGN_TYPE")
        try:
            signed = self._signed_by_alipay(params)
        except GatewayConfigurationError as exc:
            raise NotificationRejected(f"cannot verify: {exc}", code="CONFIGURATION") from exc
        if not signed:
            raise NotificationRejected("bad signature", code="BAD_SIGNATURE")
        if params.get("app_id") != self.app_id:
            raise NotificationRejected(f"addressed to app {params.get('app_id')!r}", code="WRONG_APP")
        if self.seller_id and params.get("seller_id") != self.seller_id:
            raise NotificationRejected(f"addressed to seller {params.get('seller_id')!r}", code="WRONG_SELLER")
        status = TRADE_STATUSES.get(params.get("trade_status", ""))
        if status is None or not params.get("out_trade_no"):
            raise NotificationRejected("no out_trade_no or an unknown trade_status", code="MALFORMED")
        try:
            amount_fen = yuan_to_fen(params.get("total_amount", ""))
            paid_at = _parse_beijing_time(params["gmt_payment"]) if params.get("gmt_payment") else None
        except ValueError as exc:
            raise NotificationRejected(f"malformed field: {exc}", code="MALFORMED") from exc
        return PaymentEvent(
            out_trade_no=params["out_trade_no"],
            status=status,
            amount_fen=amount_fen,
            gateway_trade_no=params.get("trade_no", ""),
            paid_at=paid_at,
            payer_ref=params.get("buyer_id") or params.get("buyer_open_id", ""),
            raw_status=params["trade_status"],
            notify_id=params.get("notify_id", ""),
        )

    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        # Exactly these seven characters stop Alipay's resends; anything else asks for another try.
        return NotifyReply(body="success" if accepted else "fail")

    # --- Query and close ------------------------------------------------------------------------

    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        method = "alipay.trade.query"
        model = AlipayTradeQueryModel()
        model.out_trade_no = out_trade_no
        reply = self._call(method, AlipayTradeQueryRequest(biz_model=model), out_trade_no=out_trade_no)
        status = TRADE_STATUSES.get(reply.get("trade_status", ""))
        if status is None or reply.get("out_trade_no") != out_trade_no:
            raise GatewayResponseInvalid(f"{method}: unexpected trade or status in reply", code="BAD_RESPONSE")
        try:
            paid_at = _parse_beijing_time(reply["send_pay_date"]) if reply.get("send_pay_date") else None
        except ValueError as exc:
            raise GatewayResponseInvalid(f"{method}: bad send_pay_date", code="BAD_RESPONSE") from exc
        return PaymentEvent(
            out_trade_no=out_trade_no,
            status=status,
            amount_fen=self._fen(method, reply.get("total_amount", "")),
            gateway_trade_no=reply.get("trade_no", ""),
            paid_at=paid_at if status == TradeStatus.PAID else None,
            payer_ref=reply.get("buyer_user_id") or reply.get("buyer_open_id", ""),
            raw_status=reply["trade_status"],
        )

    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        model = AlipayTradeCloseModel()
        model.out_trade_no = out_trade_no
        try:
            self._call("alipay.trade.close", AlipayTradeCloseRequest(biz_model=model), out_trade_no=out_trade_no)
        except TradeNotFound:
            return  # Alipay never created it (cashier not opened, code not scanned)
        except GatewayRejected as exc:
            if exc.code != "ACQ.TRADE_STATUS_ERROR":
                raise
            # Closing is refused for anything but WAIT_BUYER_PAY: paid, or closed already.
            if self.query_payment(out_trade_no).status == TradeStatus.PAID:
                raise TradeAlreadyPaid(str(exc), code=exc.code) from exc

    # --- Refunds --------------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundEvent:
        # No request.notify_url: Alipay reports refunds to the trade's own notify_url (see above).
        model = AlipayTradeRefundModel()
        model.out_trade_no = request.out_trade_no
        model.out_request_no = request.out_refund_no
        model.refund_amount = fen_to_yuan(request.refund_fen)
        model.refund_reason = request.reason[:256]
        reply = self._call(
            "alipay.trade.refund",
            AlipayTradeRefundRequest(biz_model=model),
            out_trade_no=request.out_trade_no,
            out_refund_no=request.out_refund_no,
        )
        if reply.get("out_trade_no") != request.out_trade_no:
            raise GatewayResponseInvalid("alipay.trade.refund: reply is for another trade", code="BAD_RESPONSE")
        if reply.get("fund_change") == "Y":
            # Money moved now, for the amount of this signed request (the reply's amounts are totals).
            return RefundEvent(
                out_trade_no=request.out_trade_no,
                out_refund_no=request.out_refund_no,
                status=RefundStatus.SUCCEEDED,
                refund_fen=request.refund_fen,
                raw_status="fund_change=Y",
            )
        # "N": this refund number was seen before; its own record says for how much and how it went.
        return self.query_refund(request.out_trade_no, request.out_refund_no)

    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        method = "alipay.trade.fastpay.refund.query"
        model = AlipayTradeFastpayRefundQueryModel()
        model.out_trade_no = out_trade_no
        model.out_request_no = out_refund_no
        try:
            reply = self._call(
                method,
                AlipayTradeFastpayRefundQueryRequest(biz_model=model),
                out_trade_no=out_trade_no,
                out_refund_no=out_refund_no,
            )
        except TradeNotFound as exc:
            raise RefundNotFound(str(exc), code=exc.code) from exc
        # Alipay answers an unknown refund with a bare success: no refund fields at all.
        if not reply.get("out_request_no") and not reply.get("refund_amount"):
            raise RefundNotFound(f"{method}: no refund {out_refund_no}", code="REFUND_NOT_FOUND")
        if reply.get("out_request_no") != out_refund_no or reply.get("out_trade_no") != out_trade_no:
            raise GatewayResponseInvalid(f"{method}: reply is for another refund", code="BAD_RESPONSE")
        succeeded = reply.get("refund_status") == "REFUND_SUCCESS"
        return RefundEvent(
            out_trade_no=out_trade_no,
            out_refund_no=out_refund_no,
            status=RefundStatus.SUCCEEDED if succeeded else RefundStatus.PROCESSING,
            refund_fen=self._fen(method, reply.get("refund_amount", "")),
            raw_status=reply.get("refund_status", ""),
        )

    # --- Bill -----------------------------------------------------------------------------------

    def fetch_statement(self, day: dt.date) -> Statement:
        model = AlipayDataDataserviceBillDownloadurlQueryModel()
        model.bill_type = "trade"
        model.bill_date = day.isoformat()
        reply = self._call(
            "alipay.data.dataservice.bill.downloadurl.query",
            AlipayDataDataserviceBillDownloadurlQueryRequest(biz_model=model),
            bill_date=day.isoformat(),
        )
        url = reply.get("bill_download_url", "")
        if not url.startswith(("https://", "http://")):
            raise GatewayResponseInvalid("alipay bill: no download URL in reply", code="BAD_RESPONSE")
        # The URL expires about 30 seconds after it is issued: fetch it now.
        try:
            response = requests.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("alipay bill download failed", extra={"bill_date": day.isoformat(), "error": repr(exc)})
            raise GatewayUnavailable(f"alipay bill download: {exc!r}"[:500], code="NETWORK") from exc
        if response.status_code != 200:
            logger.warning(
                "alipay bill download failed", extra={"bill_date": day.isoformat(), "http_status": response.status_code}
            )
            raise GatewayUnavailable(f"alipay bill download: HTTP {response.status_code}", code="HTTP_STATUS")
        return Statement(channel=self.channel, day=day, entries=tuple(parse_trade_bill(response.content)))

    # --- Payouts --------------------------------------------------------------------------------

    def transfer(self, request: TransferRequest) -> TransferResult:
        method = "alipay.fund.trans.uni.transfer"
        payee = Participant()
        payee.identity = request.payee_account
        is_user_id = request.payee_account.startswith(_ALIPAY_USER_ID_PREFIX) and request.payee_account.isdigit()
        payee.identity_type = "ALIPAY_USER_ID" if is_user_id else "ALIPAY_LOGON_ID"
        payee.name = request.payee_name
        model = AlipayFundTransUniTransferModel()
        model.out_biz_no = request.out_biz_no
        model.trans_amount = fen_to_yuan(request.amount_fen)
        model.product_code = "TRANS_ACCOUNT_NO_PWD"
        model.biz_scene = "DIRECT_TRANSFER"
        model.order_title = request.remark[:100] or "KnowPay payout"
        model.remark = request.remark[:200]
        model.payee_info = payee
        reply = self._call(method, AlipayFundTransUniTransferRequest(biz_model=model), out_biz_no=request.out_biz_no)
        if reply.get("out_biz_no") != request.out_biz_no or not reply.get("order_id"):
            raise GatewayResponseInvalid(f"{method}: reply is for another transfer", code="BAD_RESPONSE")
        status = reply.get("status", "")
        if status == "FAIL":
            raise GatewayRejected(f"{method}: transfer failed", code="FAIL")
        # SUCCESS, or DEALING while the money is still on its way.
        return TransferResult(
            out_biz_no=request.out_biz_no, transfer_no=reply["order_id"], succeeded=status == "SUCCESS"
        )
