"""WeChat Pay API v2 through wechatpy: Native (QR), H5 (MWEB, phone browsers) and JSAPI (inside
WeChat) pay, notifications, query, close, refunds, bills; and the official account's web
authorisation (OAuth snsapi_base) that tells JSAPI who pays.

- Native answers a code_url to show as a QR code. H5 answers an mweb_url, valid for five minutes,
  to send the phone's browser to, with `&redirect_url=` back to our return page (WeChat checks the
  page's Referer against the H5 domain registered for the merchant). JSAPI needs the payer's
  openid and answers a prepay_id; the page hands WeChat's getBrandWCPayRequest the parameters
  appId, timeStamp, nonceStr, package=prepay_id=..., signType, signed as paySign with the API key.
- Web authorisation: the browser goes to open.weixin.qq.com's authorize URL with a `state`, WeChat
  sends it back with a one-time code (five minutes), which sns/oauth2/access_token exchanges for
  the openid using the official account's AppSecret.

wechatpy builds and signs our requests and sends them (with the merchant certificate, for the
refund API's mutual TLS). The rest is ours (protocol.py): every reply's signature and addressee,
notifications in either sign type, refund notifications, the bill, and the error codes.

Sandbox mode points wechatpy at the local WeChat Pay ({SITE_URL}/sandbox/wechat/), which speaks
the same protocol, so the demo, the tests and production run this same code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils import timezone
from wechatpy.exceptions import WeChatOAuthException, WeChatPayException
from wechatpy.oauth import WeChatOAuth
from wechatpy.pay import WeChatPay

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
    PayerAuthorizationFailed,
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
from payments.gateways.wechat.protocol import (
    SIGN_TYPES,
    ProtocolError,
    beijing_stamp,
    beijing_time,
    bill_parse,
    decrypt_req_info,
    fen,
    notify_reply_xml,
    sign,
    verify,
    xml_fields,
)

logger = logging.getLogger(__name__)

PRODUCTION_BASE_URL = "https://api.mch.weixin.qq.com/"

TRADE_TYPES = {"native": "NATIVE", "h5": "MWEB", "jsapi": "JSAPI"}
OAUTH_PRODUCTION_URL = "https://open.weixin.qq.com/connect/"
OAUTH_API_PRODUCTION_URL = "https://api.weixin.qq.com/"
# sns/oauth2/access_token's errcodes: the code (not ours to fix), our configuration, or "try later".
OAUTH_BAD_CODE = frozenset({40029, 40163, 41008})  # invalid code, code been used, missing code
OAUTH_CONFIGURATION = frozenset({40013, 40125, 40164, 41002, 41004})  # appid, secret, IP whitelist
OAUTH_BUSY = frozenset({-1, 45009})  # system busy, rate limited

TRADE_STATUSES = {
    "SUCCESS": TradeStatus.PAID,
    "REFUND": TradeStatus.PAID,  # paid, then (partly) refunded
    "NOTPAY": TradeStatus.WAITING,
    "USERPAYING": TradeStatus.WAITING,
    "ACCEPT": TradeStatus.WAITING,
    # The buyer's bank refused; they can try again until the order expires.
    "PAYERROR": TradeStatus.WAITING,
    "CLOSED": TradeStatus.CLOSED,
    "REVOKED": TradeStatus.CLOSED,
}
REFUND_STATUSES = {
    "SUCCESS": RefundStatus.SUCCEEDED,
    "PROCESSING": RefundStatus.PROCESSING,
    "REFUNDCLOSE": RefundStatus.FAILED,
    # 退款异常: the money could not reach the buyer's account; staff redo it in the merchant platform.
    "CHANGE": RefundStatus.FAILED,
}
# err_code values that mean "not now": the same request can succeed later. NOTENOUGH on a refund is
# the merchant's balance, short until it is topped up.
RETRY_LATER = frozenset({"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "ORDER_NOT_READY", "NOTENOUGH"})
ERRORS = {"ORDERNOTEXIST": TradeNotFound, "REFUNDNOTEXIST": RefundNotFound, "ORDERPAID": TradeAlreadyPaid}
# downloadbill answers these in return_msg, without an err_code.
NO_BILL, BILL_CREATING = "No Bill Exist", "Bill Creating"


class _Client(WeChatPay):
    """wechatpy's client with our sign type on every request and the HTTP reply handed back as sent.

    wechatpy signs with HMAC-SHA256 only when `sign_type` is among a call's parameters, which most
    of its API methods do not accept; and it judges replies without checking their signature.
    """

    def __init__(self, *, sign_type: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sign_type = sign_type

    def _request(self, method, url_or_endpoint, **kwargs):
        if isinstance(kwargs.get("data"), dict):
            kwargs["data"]["sign_type"] = self.sign_type
        return super()._request(method, url_or_endpoint, **kwargs)

    def _handle_result(self, res):
        return res


class _OAuth(WeChatOAuth):
    """wechatpy's web authorisation client, with a timeout on every call (it sets none)."""

    def __init__(self, *, timeout: float, trust_env: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self._http.trust_env = trust_env

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super()._request(method, url_or_endpoint, **kwargs)


def _utf8_prefix(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes of `text` (WeChat limits fields in bytes), never half a character."""
    return text.encode()[:limit].decode(errors="ignore")


class WechatGateway(Gateway):
    channel = "wechat"
    display_name = "WeChat Pay"
    methods = (
        PaymentMethod("native", "WeChat Pay · scan with WeChat"),
        # WeChat itself refuses the H5 page inside WeChat ("请在微信外打开订单"): JSAPI is for there.
        PaymentMethod("h5", "WeChat Pay · open WeChat to pay", devices=frozenset({Device.PHONE})),
        PaymentMethod("jsapi", "WeChat Pay", devices=frozenset({Device.WECHAT}), needs_payer_openid=True),
    )
    simulator_urls = "payments.simulators.wechat"
    # unifiedorder refuses a time_expire less than 5 minutes away (and closeorder a trade younger).
    min_payment_window = dt.timedelta(minutes=5)
    secret_settings = ("WECHAT_API_KEY", "WECHAT_MCH_CERT", "WECHAT_MCH_KEY", "WECHAT_APP_SECRET")

    def __init__(self) -> None:
        self.app_id = settings.WECHAT_APP_ID
        self.mch_id = settings.WECHAT_MCH_ID
        self.api_key = settings.WECHAT_API_KEY
        self.mch_cert = settings.WECHAT_MCH_CERT
        self.mch_key = settings.WECHAT_MCH_KEY
        self.sign_type = settings.WECHAT_SIGN_TYPE
        if self.sign_type not in SIGN_TYPES:
            raise GatewayConfigurationError(
                f"WECHAT_SIGN_TYPE is {self.sign_type!r}; use one of {', '.join(SIGN_TYPES)}", code="CONFIG"
            )
        local = f"{settings.SITE_URL}/sandbox/wechat/"
        base_url = settings.WECHAT_API_BASE_URL or (local if settings.PAYMENTS_SANDBOX else PRODUCTION_BASE_URL)
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self.timeout = settings.GATEWAY_TIMEOUT_SECONDS
        self.sandbox = settings.PAYMENTS_SANDBOX
        self.app_secret = settings.WECHAT_APP_SECRET
        # The H5 scene: our site, which must be the H5 domain registered in the merchant platform.
        self.site_url = settings.SITE_URL
        self.oauth_url = f"{settings.SITE_URL}/sandbox/wechat/connect/" if self.sandbox else OAUTH_PRODUCTION_URL
        self.oauth_api_url = f"{settings.SITE_URL}/sandbox/wechat/" if self.sandbox else OAUTH_API_PRODUCTION_URL
        # One client per thread: wechatpy keeps a requests.Session, which is not thread-safe.
        self._clients = threading.local()

    def configuration_problems(self) -> list[str]:
        problems = [
            f"{name} is not set."
            for name, value in (
                ("WECHAT_APP_ID", self.app_id),
                ("WECHAT_MCH_ID", self.mch_id),
                ("WECHAT_API_KEY", self.api_key),
            )
            if not value
        ]
        if self.api_key and len(self.api_key) != 32:
            problems.append("WECHAT_API_KEY must be the 32-character key set in the merchant console.")
        if not self.app_secret:
            problems.append("WECHAT_APP_SECRET is not set: paying inside WeChat (JSAPI) needs it.")
        # Refunds need the merchant certificate (mutual TLS).
        problems += [
            f"{name} is not a readable file: {path!r}."
            for name, path in (("WECHAT_MCH_CERT", self.mch_cert), ("WECHAT_MCH_KEY", self.mch_key))
            if not (path and os.path.isfile(path))
        ]
        return problems

    # --- Talking to WeChat ----------------------------------------------------------------------

    def _client(self) -> _Client:
        client = getattr(self._clients, "client", None)
        if client is None:
            client = _Client(
                sign_type=self.sign_type,
                appid=self.app_id,
                api_key=self.api_key,
                mch_id=self.mch_id,
                mch_cert=self.mch_cert or None,
                mch_key=self.mch_key or None,
                timeout=self.timeout,
            )
            client.API_BASE_URL = self.base_url
            # Proxy and CA variables are for real gateways; the local one is this very site.
            client._http.trust_env = not self.sandbox
            self._clients.client = client
        return client

    @contextlib.contextmanager
    def _logged(self, action: str, reference: str) -> Iterator[None]:
        try:
            yield
        except GatewayError as exc:
            level = logging.INFO if isinstance(exc, GatewayRejected) else logging.WARNING
            logger.log(
                level,
                "wechat %s failed",
                action,
                extra={"gateway": self.channel, "action": action, "reference": reference, "code": exc.code},
                exc_info=level == logging.WARNING,
            )
            raise

    def _send(self, action: str, call: Callable[..., requests.Response], **params) -> requests.Response:
        try:
            return call(**params)
        except WeChatPayException as exc:  # raised by wechatpy only for an HTTP error status
            status = getattr(exc.response, "status_code", None)
            raise GatewayUnavailable(f"wechat {action}: HTTP {status}", code="HTTP_STATUS") from exc
        except requests.RequestException as exc:  # connection, TLS, timeout
            raise GatewayUnavailable(f"wechat {action}: {type(exc).__name__}: {exc}", code="NETWORK") from exc
        except OSError as exc:  # the merchant certificate or key file cannot be read
            raise GatewayConfigurationError(f"wechat {action}: {exc}", code="CONFIG") from exc

    def _reply(self, action: str, body: bytes) -> dict[str, str]:
        """A reply's fields once it is verifiably WeChat's and addressed to us; error codes raised as ours."""
        try:
            fields = xml_fields(body)
        except ProtocolError as exc:
            raise GatewayResponseInvalid(f"wechat {action}: {exc}", code="BAD_RESPONSE") from exc
        return_code = fields.get("return_code")
        if return_code == "FAIL":
            # Refused before any processing (bad signature, malformed request): WeChat does not sign these.
            self._verify_reply(action, fields, required=False)
            raise GatewayRejected(f"wechat {action}: {fields.get('return_msg', '')}", code="FAIL")
        if return_code != "SUCCESS":
            raise GatewayResponseInvalid(f"wechat {action}: no return_code", code="BAD_RESPONSE")
        self._verify_reply(action, fields, required=True)
        if (fields.get("appid"), fields.get("mch_id")) != (self.app_id, self.mch_id):
            raise GatewayResponseInvalid(f"wechat {action}: reply addressed to another merchant", code="BAD_RESPONSE")
        result_code = fields.get("result_code")
        if result_code == "SUCCESS":
            return fields
        if result_code != "FAIL":
            raise GatewayResponseInvalid(f"wechat {action}: no result_code", code="BAD_RESPONSE")
        code = fields.get("err_code", "")
        message = f"wechat {action}: {code} {fields.get('err_code_des', '')}"
        if code in RETRY_LATER:
            raise GatewayUnavailable(message, code=code)
        raise ERRORS.get(code, GatewayRejected)(message, code=code)

    def _verify_reply(self, action: str, fields: dict[str, str], *, required: bool) -> None:
        if not required and "sign" not in fields:
            return
        try:
            verify(fields, key=self.api_key, sign_type=self.sign_type)
        except ProtocolError as exc:
            raise GatewayResponseInvalid(f"wechat {action}: {exc}", code=exc.code) from exc

    def _call(self, action: str, call: Callable[..., requests.Response], **params) -> dict[str, str]:
        return self._reply(action, self._send(action, call, **params).content)

    # --- Paying ---------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.currency_check(request.currency)
        with self._logged("unifiedorder", request.out_trade_no):
            trade_type = TRADE_TYPES.get(request.method)
            if trade_type is None:
                raise GatewayRejected(f"wechat: no payment method {request.method!r}", code="UNKNOWN_METHOD")
            by_type = {}
            if trade_type == "MWEB":
                by_type["scene_info"] = {"h5_info": {"type": "Wap", "wap_url": self.site_url, "wap_name": "KnowPay"}}
            if trade_type == "JSAPI":
                if not request.payer_openid:
                    raise GatewayRejected("wechat jsapi: the payer's openid is missing", code="NO_OPENID")
                by_type["user_id"] = request.payer_openid
            reply = self._call(
                "unifiedorder",
                self._client().order.create,
                trade_type=trade_type,
                body=_utf8_prefix(request.subject, 128),
                total_fee=request.amount_fen,
                notify_url=request.notify_url,
                client_ip=request.client_ip,
                out_trade_no=request.out_trade_no,
                product_id=request.product_id or request.out_trade_no,
                time_start=beijing_stamp(timezone.now()),
                # WeChat closes the trade itself at our order's expiry, even if our close never arrives.
                time_expire=beijing_stamp(request.expires_at),
                **by_type,
            )
            if trade_type == "MWEB":
                return self._h5_start(reply, request)
            if trade_type == "JSAPI":
                return self._jsapi_start(reply)
            # Real WeChat answers weixin://wxpay/bizpayurl?pr=...; the local one an http URL of its scan page.
            code_url = reply.get("code_url", "")
            if not code_url:
                raise GatewayResponseInvalid("wechat unifiedorder: no code_url", code="BAD_RESPONSE")
        return PaymentStart(kind=StartKind.QR, qr_content=code_url)

    @staticmethod
    def _h5_start(reply: dict[str, str], request: PaymentRequest) -> PaymentStart:
        mweb_url = reply.get("mweb_url", "")
        if not mweb_url.startswith(("https://", "http://")):
            raise GatewayResponseInvalid("wechat unifiedorder: no mweb_url", code="BAD_RESPONSE")
        # After paying (or giving up) WeChat sends the browser to redirect_url, which says nothing of
        # the outcome: our return page asks WeChat.
        return PaymentStart(
            kind=StartKind.REDIRECT, url=f"{mweb_url}&redirect_url={quote(request.return_url, safe='')}"
        )

    def _jsapi_start(self, reply: dict[str, str]) -> PaymentStart:
        prepay_id = reply.get("prepay_id", "")
        if not prepay_id:
            raise GatewayResponseInvalid("wechat unifiedorder: no prepay_id", code="BAD_RESPONSE")
        # wechatpy's get_jsapi_params signs with MD5 only; paySign must use the unified order's sign type.
        params = {
            "appId": self.app_id,
            "timeStamp": str(int(time.time())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id={prepay_id}",
            "signType": self.sign_type,
        }
        params["paySign"] = sign(params, key=self.api_key, sign_type=self.sign_type)
        return PaymentStart(kind=StartKind.BRIDGE, bridge_params=params)

    # --- Who pays: the official account's web authorisation ------------------------------------

    @property
    def payer_app_id(self) -> str:
        return self.app_id

    def _oauth(self, *, redirect_uri: str = "", state: str = "") -> _OAuth:
        oauth = _OAuth(
            app_id=self.app_id,
            secret=self.app_secret,
            redirect_uri=redirect_uri,
            scope="snsapi_base",
            state=state,
            timeout=self.timeout,
            trust_env=not self.sandbox,
        )
        oauth.OAUTH_BASE_URL = self.oauth_url
        oauth.API_BASE_URL = self.oauth_api_url
        return oauth

    def payer_authorize_url(self, *, redirect_uri: str, state: str) -> str:
        if not self.app_id:
            raise GatewayConfigurationError("WECHAT_APP_ID is not set", code="CONFIG")
        # snsapi_base: silent, no consent screen, and all it gives is the openid.
        return self._oauth(redirect_uri=redirect_uri, state=state).authorize_url

    def payer_openid(self, *, code: str) -> str:
        if not self.app_secret:
            raise GatewayConfigurationError("WECHAT_APP_SECRET is not set", code="CONFIG")
        with self._logged("sns/oauth2/access_token", self.app_id):
            try:
                reply = self._oauth().fetch_access_token(code)
            except WeChatOAuthException as exc:
                raise self._oauth_error(exc) from exc
            except requests.RequestException as exc:
                raise GatewayUnavailable(f"wechat oauth: {type(exc).__name__}: {exc}", code="NETWORK") from exc
            except (KeyError, ValueError) as exc:  # not JSON, or without the fields wechatpy reads
                raise GatewayResponseInvalid(f"wechat oauth: unexpected reply: {exc!r}", code="BAD_RESPONSE") from exc
            openid = reply.get("openid")
            if not isinstance(openid, str) or not openid or len(openid) > 128:
                raise GatewayResponseInvalid("wechat oauth: no openid in the reply", code="BAD_RESPONSE")
        return openid

    @staticmethod
    def _oauth_error(exc: WeChatOAuthException) -> GatewayError:
        if exc.errcode is None:  # an HTTP error status
            return GatewayUnavailable(f"wechat oauth: HTTP {getattr(exc.response, 'status_code', None)}", code="HTTP")
        message, code = f"wechat oauth: {exc.errcode} {exc.errmsg}", str(exc.errcode)
        if exc.errcode in OAUTH_BAD_CODE:
            return PayerAuthorizationFailed(message, code=code)
        if exc.errcode in OAUTH_CONFIGURATION:
            return GatewayConfigurationError(message, code=code)
        if exc.errcode in OAUTH_BUSY:
            return GatewayUnavailable(message, code=code)
        return GatewayRejected(message, code=code)

    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        with self._logged("orderquery", out_trade_no):
            reply = self._call("orderquery", self._client().order.query, out_trade_no=out_trade_no)
            status = TRADE_STATUSES.get(reply.get("trade_state", ""))
            if status is None or reply.get("out_trade_no") != out_trade_no:
                raise GatewayResponseInvalid("wechat orderquery: unexpected trade or state", code="BAD_RESPONSE")
            paid = status == TradeStatus.PAID
            try:
                return PaymentEvent(
                    out_trade_no=out_trade_no,
                    status=status,
                    amount_fen=fen(reply.get("total_fee"), name="total_fee"),
                    gateway_trade_no=reply.get("transaction_id", ""),
                    paid_at=beijing_time(reply.get("time_end"), name="time_end") if paid else None,
                    payer_ref=reply.get("openid", ""),
                    raw_status=reply["trade_state"],
                )
            except ProtocolError as exc:
                raise GatewayResponseInvalid(f"wechat orderquery: {exc}", code="BAD_RESPONSE") from exc

    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        with self._logged("closeorder", out_trade_no):
            try:
                self._call("closeorder", self._client().order.close, out_trade_no=out_trade_no)
            except TradeNotFound:
                return  # nothing there to pay
            except GatewayRejected as exc:
                if exc.code != "ORDERCLOSED":
                    raise

    # --- Notifications --------------------------------------------------------------------------

    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent | RefundEvent:
        try:
            fields = xml_fields(notification.body)
            if notification.kind == "refund":
                return self._refund_notification(fields)
            return self._payment_notification(fields)
        except ProtocolError as exc:
            raise NotificationRejected(f"wechat {notification.kind} notification: {exc}", code=exc.code) from exc

    def _payment_notification(self, fields: dict[str, str]) -> PaymentEvent:
        # Only with our configured sign type: a message in the other one is not from our account.
        verify(fields, key=self.api_key, sign_type=self.sign_type)
        if fields.get("return_code") != "SUCCESS":
            raise ProtocolError("return_code is not SUCCESS", code="RETURN_FAIL")
        if fields.get("result_code") != "SUCCESS":
            raise ProtocolError(f"result_code is not SUCCESS ({fields.get('err_code', '')})", code="RESULT_FAIL")
        self._check_addressee(fields)
        if not fields.get("out_trade_no") or not fields.get("transaction_id"):
            raise ProtocolError("out_trade_no or transaction_id missing", code="MALFORMED")
        return PaymentEvent(
            out_trade_no=fields["out_trade_no"],
            status=TradeStatus.PAID,
            amount_fen=fen(fields.get("total_fee"), name="total_fee"),
            gateway_trade_no=fields["transaction_id"],
            paid_at=beijing_time(fields.get("time_end"), name="time_end"),
            payer_ref=fields.get("openid", ""),
            raw_status="SUCCESS",
        )

    def _refund_notification(self, fields: dict[str, str]) -> RefundEvent:
        # Refund notifications are not signed: only WeChat and we know the key that encrypts req_info.
        if fields.get("return_code") != "SUCCESS":
            raise ProtocolError("return_code is not SUCCESS", code="RETURN_FAIL")
        self._check_addressee(fields)
        info = decrypt_req_info(fields.get("req_info", ""), key=self.api_key)
        status = REFUND_STATUSES.get(info.get("refund_status", ""))
        if status is None or not info.get("out_refund_no") or not info.get("out_trade_no"):
            raise ProtocolError("req_info without refund_status, out_refund_no or out_trade_no", code="MALFORMED")
        return RefundEvent(
            out_trade_no=info["out_trade_no"],
            out_refund_no=info["out_refund_no"],
            status=status,
            refund_fen=fen(info.get("refund_fee"), name="refund_fee"),
            gateway_refund_no=info.get("refund_id", ""),
            raw_status=info["refund_status"],
        )

    def _check_addressee(self, fields: dict[str, str]) -> None:
        if fields.get("appid") != self.app_id:
            raise ProtocolError("addressed to another appid", code="WRONG_APPID")
        if fields.get("mch_id") != self.mch_id:
            raise ProtocolError("addressed to another mch_id", code="WRONG_MCH_ID")

    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        return NotifyReply(
            body=notify_reply_xml(accepted=accepted, message=message), content_type="text/xml; charset=utf-8"
        )

    # --- Refunds --------------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundEvent:
        with self._logged("refund", request.out_refund_no):
            reply = self._call(
                "refund",
                self._client().refund.apply,
                total_fee=request.total_fen,
                refund_fee=request.refund_fen,
                out_refund_no=request.out_refund_no,
                out_trade_no=request.out_trade_no,
                refund_desc=_utf8_prefix(request.reason, 80),
                notify_url=request.notify_url,
            )
            if (reply.get("out_trade_no"), reply.get("out_refund_no")) != (request.out_trade_no, request.out_refund_no):
                raise GatewayResponseInvalid("wechat refund: reply about another refund", code="BAD_RESPONSE")
            try:
                refund_fen = fen(reply.get("refund_fee"), name="refund_fee")
            except ProtocolError as exc:
                raise GatewayResponseInvalid(f"wechat refund: {exc}", code="BAD_RESPONSE") from exc
        # Accepted, not done: the refund notification (or a refund query) tells the outcome.
        return RefundEvent(
            out_trade_no=request.out_trade_no,
            out_refund_no=request.out_refund_no,
            status=RefundStatus.PROCESSING,
            refund_fen=refund_fen,
            gateway_refund_no=reply.get("refund_id", ""),
            raw_status="PROCESSING",
        )

    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        with self._logged("refundquery", out_refund_no):
            reply = self._call("refundquery", self._client().refund.query, out_refund_no=out_refund_no)
            try:
                count = int(reply.get("refund_count", ""))
                n = next(n for n in range(count) if reply.get(f"out_refund_no_{n}") == out_refund_no)
                status = REFUND_STATUSES[reply.get(f"refund_status_{n}", "")]
                if reply.get("out_trade_no") != out_trade_no:
                    raise ValueError("a refund of another trade")
                return RefundEvent(
                    out_trade_no=out_trade_no,
                    out_refund_no=out_refund_no,
                    status=status,
                    refund_fen=fen(reply.get(f"refund_fee_{n}"), name="refund_fee"),
                    gateway_refund_no=reply.get(f"refund_id_{n}", ""),
                    raw_status=reply[f"refund_status_{n}"],
                )
            except (ValueError, StopIteration, KeyError) as exc:
                raise GatewayResponseInvalid(
                    f"wechat refundquery: unexpected reply: {exc!r}", code="BAD_RESPONSE"
                ) from exc

    # --- Reconciliation -------------------------------------------------------------------------

    def fetch_statement(self, day: dt.date) -> Statement:
        with self._logged("downloadbill", day.isoformat()):
            body = self._send(
                "downloadbill", self._client().tools.download_bill, bill_date=day, bill_type="ALL"
            ).content
            if body.lstrip().startswith(b"<"):
                return self._bill_refusal(day, body)
            try:
                rows = bill_parse(body.decode("utf-8"))
            except (UnicodeDecodeError, ProtocolError) as exc:
                raise GatewayResponseInvalid(f"wechat downloadbill: {exc}", code="BAD_BILL") from exc
        entries = []
        for row in rows:
            if row.status == "SUCCESS":
                kind = StatementEntryKind.PAYMENT
            elif row.status == "REFUND" and row.refund_status == "SUCCESS":
                kind = StatementEntryKind.REFUND
            else:
                continue  # revoked trades, refunds still processing: no money moved on this day
            fee_fen = row.fee_fen if kind == StatementEntryKind.PAYMENT else -row.fee_fen
            if fee_fen < 0:
                raise GatewayResponseInvalid(
                    f"wechat downloadbill: a fee in the wrong direction: {row}", code="BAD_BILL"
                )
            entries.append(
                StatementEntry(
                    kind=kind,
                    out_trade_no=row.out_trade_no,
                    gateway_trade_no=row.transaction_id,
                    amount_fen=row.amount_fen,
                    occurred_at=row.occurred_at,
                    out_refund_no=row.out_refund_no,
                    fee_fen=fee_fen,
                )
            )
        return Statement(channel=self.channel, day=day, entries=tuple(entries))

    def _bill_refusal(self, day: dt.date, body: bytes) -> Statement:
        """An XML answer instead of a bill: a day without transactions, or a refusal."""
        try:
            fields = xml_fields(body)
        except ProtocolError as exc:
            raise GatewayResponseInvalid(f"wechat downloadbill: {exc}", code="BAD_RESPONSE") from exc
        message = fields.get("return_msg", "")
        if fields.get("return_code") == "FAIL" and message == NO_BILL:
            return Statement(channel=self.channel, day=day, entries=())
        if fields.get("return_code") == "FAIL" and message == BILL_CREATING:
            raise GatewayUnavailable("wechat downloadbill: the bill is not ready yet", code="BILL_CREATING")
        self._reply("downloadbill", body)
        raise GatewayResponseInvalid("wechat downloadbill: XML instead of a bill", code="BAD_RESPONSE")
