"""PayPal through paypal-server-sdk (Orders v2): create → the payer approves at PayPal → we capture.

- Paying: an order with intent CAPTURE, one purchase unit whose invoice_id and custom_id are our
  out_trade_no, created with PayPal-Request-Id = out_trade_no (the same order comes back for a
  repeated request). The payer is redirected to its approve (payer-action) link. PayPal finds
  orders only by their own id, which is our `gateway_ref`.
- Capturing is ours to do: when the payer returns (complete_payment, called by our return page)
  an APPROVED order is captured (an order takes one capture only), and the capture becomes
  the trade's gateway_trade_no. A declined capture leaves the order approvable again: the payer
  picks another way to pay on PayPal's page, and the order stays payable here.
- Orders v2 has no way to void an order with intent CAPTURE. Closing marks the order (custom_id
  `CLOSED-<out_trade_no>`, a documented PATCH) and we never capture a marked order.
- Webhooks are verified as PayPal specifies: their transmission headers and the event exactly as
  received go to POST /v1/notifications/verify-webhook-signature with our webhook id; only
  `verification_status: SUCCESS` is believed. The SDK has no webhooks controller, so this one
  call is plain HTTP with the SDK's OAuth token.
- Refunds: POST /v2/payments/captures/{id}/refund with PayPal-Request-Id = out_refund_no.
- Reconciliation: the Transaction Search API (/v1/reporting/transactions) for the day, with fees.
- Money is {"currency_code", "value"} with a decimal string value, converted by knowpay.money.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from paypalserversdk.configuration import Environment, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.exceptions.error_exception import ErrorException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.patch import Patch
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest as PaypalRefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from knowpay.money import MoneyFormatError, UnknownCurrency, decimal_to_minor, minor_to_decimal
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

logger = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
PRODUCTION_API_BASE = "https://api-m.paypal.com"
CLOSED_PREFIX = "CLOSED-"
UNIT = "/purchase_units/@reference_id=='default'"
REFUND_STATUSES = {
    "COMPLETED": RefundStatus.SUCCEEDED,
    "PENDING": RefundStatus.PROCESSING,
    "FAILED": RefundStatus.FAILED,
    "CANCELLED": RefundStatus.FAILED,
}
# Transaction Search event codes: T00xx are payments received, T11xx reversals such as refunds.
PAYMENT_EVENT_PREFIX, REFUND_EVENT_CODES = "T00", ("T1107",)
# A capture refused because of how the payer chose to pay: they can approve the same order another way.
DECLINED_ISSUES = ("INSTRUMENT_DECLINED", "PAYER_ACTION_REQUIRED", "PAYER_CANNOT_PAY", "TRANSACTION_REFUSED")
DECLINED_MESSAGE = "PayPal declined the payment. Choose PayPal again to pay another way."
WEBHOOK_HEADERS = {
    "auth_algo": "HTTP_PAYPAL_AUTH_ALGO",
    "cert_url": "HTTP_PAYPAL_CERT_URL",
    "transmission_id": "HTTP_PAYPAL_TRANSMISSION_ID",
    "transmission_sig": "HTTP_PAYPAL_TRANSMISSION_SIG",
    "transmission_time": "HTTP_PAYPAL_TRANSMISSION_TIME",
}


def _get(obj: Any, *path: str | int, default: Any = None) -> Any:
    for step in path:
        try:
            obj = obj[step]
        except (KeyError, IndexError, TypeError):
            return default
    return default if obj is None else obj


def _time(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _money(obj: Any, what: str) -> tuple[int, str]:
    """PayPal's {"currency_code", "value"} as (minor units, currency); exact or refused."""
    currency = str(_get(obj, "currency_code", default=""))
    try:
        return decimal_to_minor(str(_get(obj, "value", default="")), currency), currency
    except (MoneyFormatError, UnknownCurrency) as exc:
        raise GatewayResponseInvalid(f"paypal: {what} is not an amount: {obj!r}", code="BAD_RESPONSE") from exc


def _capture(order: Any) -> Any:
    return _get(order, "purchase_units", 0, "payments", "captures", 0)


class PaypalGateway(Gateway):
    channel = "paypal"
    display_name = "PayPal"
    methods = (PaymentMethod("checkout", "PayPal · pay with your PayPal account"),)
    simulator_urls = "payments.simulators.paypal"
    secret_settings = ("PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID")
    # CNY works only between PayPal accounts registered in China; USD and EUR everywhere.
    currencies = ("CNY", "USD", "EUR")
    notification_headers = tuple(WEBHOOK_HEADERS.values())

    def __init__(self) -> None:
        self.client_id = settings.PAYPAL_CLIENT_ID
        self.client_secret = settings.PAYPAL_CLIENT_SECRET
        self.webhook_id = settings.PAYPAL_WEBHOOK_ID
        local = f"{settings.SITE_URL}/sandbox/paypal"
        self.api_base = (
            settings.PAYPAL_API_BASE or (local if settings.PAYMENTS_SANDBOX else PRODUCTION_API_BASE)
        ).rstrip("/")
        self.timeout = settings.GATEWAY_TIMEOUT_SECONDS
        self.sandbox = settings.PAYMENTS_SANDBOX
        # One SDK client per thread: it keeps a requests session and its OAuth token.
        self._clients = threading.local()

    def configuration_problems(self) -> list[str]:
        return [
            f"{name} is not set."
            for name, value in (
                ("PAYPAL_CLIENT_ID", self.client_id),
                ("PAYPAL_CLIENT_SECRET", self.client_secret),
                ("PAYPAL_WEBHOOK_ID", self.webhook_id),
            )
            if not value
        ]

    # --- Talking to PayPal ----------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = requests.Session()
        # Proxy and CA variables are for the real PayPal; the local one is this very site.
        session.trust_env = not self.sandbox
        return session

    def _client(self) -> PaypalServersdkClient:
        client = getattr(self._clients, "client", None)
        if client is None:
            if not (self.client_id and self.client_secret):
                raise GatewayConfigurationError("PAYPAL_CLIENT_ID or PAYPAL_CLIENT_SECRET is not set", code="CONFIG")
            client = PaypalServersdkClient(
                environment=Environment.PRODUCTION,
                client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                    o_auth_client_id=self.client_id, o_auth_client_secret=self.client_secret
                ),
                timeout=self.timeout,
                http_client_instance=self._session(),
            )
            # The SDK knows only PayPal's two hosts; its base URI is read from here on every call.
            client.config.environments = {Environment.PRODUCTION: {Server.DEFAULT: self.api_base}}
            self._clients.client = client
        return client

    def _call(self, action: str, reference: str, call: Callable[[PaypalServersdkClient], Any]) -> Any:
        """Run one SDK call and return its JSON body; every failure leaves as one of our GatewayErrors."""
        log = {"gateway": self.channel, "action": action, "reference": reference}
        try:
            response = call(self._client())
        except ErrorException as exc:
            # A body that is not PayPal's error JSON leaves the exception without these.
            details, name = getattr(exc, "details", None) or [], getattr(exc, "name", None) or ""
            issue = (getattr(details[0], "issue", "") or "") if details else ""
            code = issue or name or str(exc.response_code)
            message = f"paypal {action}: {exc.response_code} {name} {issue} debug_id={getattr(exc, 'debug_id', '')}"
            if exc.response_code in (401, 403):
                logger.error("paypal refused our credentials", extra={**log, "code": code})
                raise GatewayConfigurationError(message, code=code) from exc
            if exc.response_code >= 500 or exc.response_code == 429:
                logger.warning("paypal unavailable", extra={**log, "code": code})
                raise GatewayUnavailable(message, code=code) from exc
            logger.info("paypal refused", extra={**log, "code": code})
            if exc.response_code == 404:
                raise TradeNotFound(message, code=code) from exc
            raise GatewayRejected(message, code=code) from exc
        except ApiException as exc:  # OAuth refusals and statuses the SDK has no model for
            status = getattr(exc, "response_code", 0) or 0
            if status in (400, 401):
                raise GatewayConfigurationError(f"paypal {action}: OAuth refused ({status})", code="OAUTH") from exc
            raise GatewayUnavailable(f"paypal {action}: HTTP {status}", code="HTTP_STATUS") from exc
        except requests.RequestException as exc:
            logger.warning("paypal could not be reached", extra={**log, "error": repr(exc)[:300]})
            raise GatewayUnavailable(f"paypal {action}: {exc!r}"[:500], code="NETWORK") from exc
        except Exception as exc:
            # apimatic wraps transport and parsing errors in its own ways; none may reach a user as a 500.
            logger.warning("paypal SDK failed", extra={**log, "error": repr(exc)[:300]}, exc_info=True)
            raise GatewayUnavailable(f"paypal {action}: {exc!r}"[:500], code="SDK_ERROR") from exc
        try:
            return json.loads(response.text) if response.text else {}
        except ValueError as exc:
            raise GatewayResponseInvalid(f"paypal {action}: reply is not JSON", code="BAD_RESPONSE") from exc

    def _order(self, out_trade_no: str, gateway_ref: str) -> dict:
        if not gateway_ref:
            # PayPal finds an order only by its id: without one it was never created for us.
            raise TradeNotFound(f"paypal: no order known for {out_trade_no}", code="RESOURCE_NOT_FOUND")
        order = self._call("get_order", out_trade_no, lambda c: c.orders.get_order({"id": gateway_ref}))
        if _get(order, "purchase_units", 0, "invoice_id") != out_trade_no:
            raise GatewayResponseInvalid("paypal get_order: the order belongs to another trade", code="BAD_RESPONSE")
        return order

    # --- Paying ---------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.currency_check(request.currency)
        if request.method != "checkout":
            raise GatewayRejected(f"paypal has no payment method {request.method!r}", code="UNKNOWN_METHOD")
        if request.gateway_ref:
            order = self._order(request.out_trade_no, request.gateway_ref)
            if self._order_event(order).status == TradeStatus.PAID:
                raise TradeAlreadyPaid(f"paypal: {request.out_trade_no} is paid", code="ORDER_ALREADY_CAPTURED")
        else:
            body = OrderRequest(
                intent=CheckoutPaymentIntent.CAPTURE,
                purchase_units=[
                    PurchaseUnitRequest(
                        reference_id="default",
                        invoice_id=request.out_trade_no,
                        custom_id=request.out_trade_no,
                        description=request.subject[:127],
                        amount=AmountWithBreakdown(
                            currency_code=request.currency,
                            value=minor_to_decimal(request.amount_fen, request.currency),
                        ),
                    )
                ],
                payment_source=PaymentSource(
                    paypal=PaypalWallet(
                        experience_context=PaypalWalletExperienceContext(
                            brand_name="KnowPay",
                            shipping_preference="NO_SHIPPING",
                            user_action="PAY_NOW",
                            return_url=request.return_url,
                            cancel_url=request.return_url,
                        )
                    )
                ),
            )
            order = self._call(
                "create_order",
                request.out_trade_no,
                lambda c: c.orders.create_order(
                    {"body": body, "paypal_request_id": request.out_trade_no, "prefer": "return=representation"}
                ),
            )
            if _get(order, "purchase_units", 0, "invoice_id") != request.out_trade_no:
                raise GatewayResponseInvalid("paypal create_order: order for another trade", code="BAD_RESPONSE")
        links = {link.get("rel"): link.get("href") for link in _get(order, "links", default=[])}
        url = links.get("payer-action") or links.get("approve")
        if not url or not _get(order, "id"):
            raise GatewayResponseInvalid("paypal: the order has no approve link", code="BAD_RESPONSE")
        return PaymentStart(kind=StartKind.REDIRECT, url=url, gateway_ref=order["id"])

    def _order_event(self, order: dict) -> PaymentEvent:
        unit = _get(order, "purchase_units", 0, default={})
        status, capture = _get(order, "status", default=""), _capture(order)
        amount_fen, currency = _money(_get(unit, "amount"), "amount")
        closed = str(_get(unit, "custom_id", default="")).startswith(CLOSED_PREFIX)
        if status == "COMPLETED" and _get(capture, "status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
            return self._capture_event(capture, out_trade_no=_get(unit, "invoice_id", default=""))
        if (
            status == "VOIDED"
            or closed
            or (status == "COMPLETED" and _get(capture, "status") in ("DECLINED", "FAILED"))
        ):
            trade_status = TradeStatus.CLOSED
        elif status in ("CREATED", "SAVED", "APPROVED", "PAYER_ACTION_REQUIRED", "COMPLETED"):
            trade_status = TradeStatus.WAITING  # COMPLETED with a PENDING capture: money not yet ours
        else:
            raise GatewayResponseInvalid(f"paypal: unknown order status {status!r}", code="BAD_RESPONSE")
        return PaymentEvent(
            out_trade_no=_get(unit, "invoice_id", default=""),
            status=trade_status,
            amount_fen=amount_fen,
            raw_status=status,
            currency=currency,
        )

    def _capture_event(self, capture: Any, *, out_trade_no: str, notify_id: str = "") -> PaymentEvent:
        amount_fen, currency = _money(_get(capture, "amount"), "capture amount")
        completed = _get(capture, "status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
        return PaymentEvent(
            out_trade_no=out_trade_no,
            status=TradeStatus.PAID if completed else TradeStatus.WAITING,
            amount_fen=amount_fen,
            gateway_trade_no=_get(capture, "id", default=""),
            paid_at=_time(_get(capture, "create_time")) if completed else None,
            raw_status=f"capture {_get(capture, 'status', default='')}",
            notify_id=notify_id,
            currency=currency,
        )

    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        return self._order_event(self._order(out_trade_no, gateway_ref))

    def complete_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent | None:
        if not gateway_ref:
            return None
        order = self._order(out_trade_no, gateway_ref)
        event = self._order_event(order)
        if order.get("status") != "APPROVED" or event.status != TradeStatus.WAITING:
            return event  # not approved (the payer cancelled), captured already, or closed by us
        # Orders with intent CAPTURE take one capture: a retry after a lost reply is answered
        # ORDER_ALREADY_CAPTURED, and the order then tells the outcome. A fresh request id per
        # attempt, so a new approval after a declined capture is not answered with the old refusal.
        request_id = f"{gateway_ref}-capture-{uuid.uuid4().hex}"
        try:
            captured = self._call(
                "capture_order",
                out_trade_no,
                lambda c: c.orders.capture_order(
                    {"id": gateway_ref, "paypal_request_id": request_id, "prefer": "return=representation"}
                ),
            )
        except GatewayRejected as exc:
            if exc.code in DECLINED_ISSUES:
                raise GatewayRejected(str(exc), code=exc.code, user_message=DECLINED_MESSAGE) from exc
            if exc.code == "ORDER_ALREADY_CAPTURED":
                return self.query_payment(out_trade_no, gateway_ref=gateway_ref)
            raise
        if _get(captured, "id") != gateway_ref:
            raise GatewayResponseInvalid("paypal capture_order: reply about another order", code="BAD_RESPONSE")
        event = self._order_event(captured)
        if event.status == TradeStatus.CLOSED:
            status = _get(_capture(captured), "status")
            raise GatewayRejected(
                f"paypal capture_order: capture {status}", code="CAPTURE_DECLINED", user_message=DECLINED_MESSAGE
            )
        return event

    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        if not gateway_ref:
            return  # never created at PayPal
        try:
            order = self._order(out_trade_no, gateway_ref)
        except TradeNotFound:
            return
        event = self._order_event(order)
        if event.status == TradeStatus.PAID:
            raise TradeAlreadyPaid(f"paypal: {out_trade_no} is captured", code="ORDER_ALREADY_CAPTURED")
        if event.status == TradeStatus.CLOSED:
            return
        patch = [Patch(op="replace", path=f"{UNIT}/custom_id", value=f"{CLOSED_PREFIX}{out_trade_no}")]
        try:
            self._call("patch_order", out_trade_no, lambda c: c.orders.patch_order({"id": gateway_ref, "body": patch}))
        except GatewayRejected as exc:
            # Completed meanwhile: PATCH is refused for completed orders.
            if self.query_payment(out_trade_no, gateway_ref=gateway_ref).status == TradeStatus.PAID:
                raise TradeAlreadyPaid(str(exc), code=exc.code) from exc
            raise

    # --- Webhooks -------------------------------------------------------------------------------

    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent | RefundEvent:
        headers = {name: notification.headers.get(meta, "") for name, meta in WEBHOOK_HEADERS.items()}
        if not all(headers.values()):
            raise NotificationRejected("paypal webhook: transmission headers missing", code="UNSIGNED")
        try:
            text = notification.body.decode("utf-8")
            event = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NotificationRejected("paypal webhook: body is not JSON", code="MALFORMED") from exc
        if not isinstance(event, dict) or not event.get("id") or not isinstance(event.get("resource"), dict):
            raise NotificationRejected("paypal webhook: not an event", code="MALFORMED")
        self._verify_webhook(headers, text)
        kind, resource = event.get("event_type", ""), event["resource"]
        try:
            if kind.startswith("PAYMENT.CAPTURE.") and kind != "PAYMENT.CAPTURE.REFUNDED":
                return self._capture_event(
                    resource, out_trade_no=str(_get(resource, "invoice_id", default="")), notify_id=event["id"]
                )
            if kind == "PAYMENT.CAPTURE.REFUNDED":
                return self._refund_event(resource)
            if kind.startswith("CHECKOUT.ORDER."):
                # Approved or completed orders: the capture (ours) or its own event tells the rest.
                order_event = self._order_event(resource)
                if order_event.status == TradeStatus.PAID:
                    return order_event
                return PaymentEvent(
                    out_trade_no=order_event.out_trade_no,
                    status=TradeStatus.WAITING,
                    amount_fen=order_event.amount_fen,
                    raw_status=kind,
                    notify_id=event["id"],
                    currency=order_event.currency,
                )
        except GatewayResponseInvalid as exc:
            raise NotificationRejected(f"paypal webhook: {exc}", code="MALFORMED") from exc
        raise NotificationRejected(f"paypal webhook: unexpected event type {kind!r}", code="UNEXPECTED_EVENT")

    def _verify_webhook(self, headers: dict[str, str], raw_event: str) -> None:
        """Ask PayPal whether it sent this event to our webhook. Raises NotificationRejected."""
        try:
            token = self._client().oauth_2.fetch_token()
            # The event goes back exactly as received: re-serialising it would change its checksum.
            body = json.dumps({**headers, "webhook_id": self.webhook_id})[:-1] + f', "webhook_event": {raw_event}}}'
            response = self._session().post(
                f"{self.api_base}/v1/notifications/verify-webhook-signature",
                data=body.encode("utf-8"),
                headers={"Authorization": f"Bearer {token.access_token}", "Content-Type": "application/json"},
                timeout=self.timeout,
            )
            status = response.json().get("verification_status") if response.status_code == 200 else None
        except Exception as exc:
            # Unverifiable now: refused, so PayPal delivers it again later.
            logger.warning("paypal webhook verification failed", extra={"error": repr(exc)[:300]})
            raise NotificationRejected(
                f"paypal webhook: verification unavailable: {exc!r}"[:300], code="VERIFY_UNAVAILABLE"
            ) from exc
        if status != "SUCCESS":
            raise NotificationRejected(
                f"paypal webhook: verification {status or response.status_code}", code="BAD_SIGNATURE"
            )

    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        # PayPal resends anything but a 2xx.
        if accepted:
            return NotifyReply(body="", status=200)
        return NotifyReply(body=json.dumps({"error": message[:200]}), content_type="application/json", status=400)

    # --- Refunds --------------------------------------------------------------------------------

    def _refund_event(self, refund: Any) -> RefundEvent:
        status = REFUND_STATUSES.get(_get(refund, "status", default=""))
        if status is None or not _get(refund, "custom_id"):
            raise GatewayResponseInvalid("paypal: a refund without our number or a known status", code="BAD_RESPONSE")
        amount, currency = _money(_get(refund, "amount"), "refund amount")
        return RefundEvent(
            out_trade_no=str(_get(refund, "invoice_id", default="")),
            out_refund_no=refund["custom_id"],
            status=status,
            refund_fen=amount,
            gateway_refund_no=_get(refund, "id", default=""),
            raw_status=refund["status"],
            currency=currency,
        )

    def refund(self, request: RefundRequest) -> RefundEvent:
        self.currency_check(request.currency)
        if not request.gateway_trade_no:
            raise GatewayRejected(f"paypal refund: {request.out_trade_no} was never captured", code="NOT_CAPTURED")
        body = PaypalRefundRequest(
            amount=Money(currency_code=request.currency, value=minor_to_decimal(request.refund_fen, request.currency)),
            invoice_id=request.out_trade_no,
            custom_id=request.out_refund_no,
            note_to_payer=request.reason[:255],
        )
        try:
            refund = self._call(
                "refund_captured_payment",
                request.out_refund_no,
                lambda c: c.payments.refund_captured_payment(
                    {
                        "capture_id": request.gateway_trade_no,
                        "body": body,
                        "paypal_request_id": request.out_refund_no,
                        "prefer": "return=representation",
                    }
                ),
            )
        except TradeNotFound as exc:
            raise GatewayRejected(str(exc), code=exc.code) from exc
        event = self._refund_event(refund)
        if (event.out_trade_no, event.out_refund_no) != (request.out_trade_no, request.out_refund_no):
            raise GatewayResponseInvalid("paypal refund: reply about another refund", code="BAD_RESPONSE")
        return event

    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        if not gateway_refund_no:
            # PayPal looks refunds up by its own id only; refunding again with the same
            # PayPal-Request-Id answers with the refund it already made.
            raise RefundNotFound(f"paypal: no refund id known for {out_refund_no}", code="RESOURCE_NOT_FOUND")
        try:
            refund = self._call(
                "get_refund", out_refund_no, lambda c: c.payments.get_refund({"refund_id": gateway_refund_no})
            )
        except TradeNotFound as exc:
            raise RefundNotFound(str(exc), code=exc.code) from exc
        event = self._refund_event(refund)
        if (event.out_trade_no, event.out_refund_no) != (out_trade_no, out_refund_no):
            raise GatewayResponseInvalid("paypal get_refund: reply about another refund", code="BAD_RESPONSE")
        return event

    # --- Reconciliation -------------------------------------------------------------------------

    def fetch_statement(self, day: dt.date) -> Statement:
        start = dt.datetime.combine(day, dt.time(), tzinfo=BEIJING)
        entries, page, pages = [], 1, 1
        while page <= pages:
            reply = self._call(
                "search_transactions",
                day.isoformat(),
                lambda c, page=page: c.transaction_search.search_transactions(
                    {
                        "start_date": start.isoformat(),
                        "end_date": (start + dt.timedelta(days=1)).isoformat(),
                        "fields": "transaction_info",
                        "page_size": 500,
                        "page": page,
                    }
                ),
            )
            pages = int(_get(reply, "total_pages", default=1) or 1)
            for detail in _get(reply, "transaction_details", default=[]):
                entry = self._statement_entry(_get(detail, "transaction_info", default={}))
                if entry is not None:
                    entries.append(entry)
            page += 1
        return Statement(channel=self.channel, day=day, entries=tuple(entries))

    @staticmethod
    def _statement_entry(info: Any) -> StatementEntry | None:
        code = str(_get(info, "transaction_event_code", default=""))
        if code.startswith(PAYMENT_EVENT_PREFIX):
            kind = StatementEntryKind.PAYMENT
        elif code in REFUND_EVENT_CODES:
            kind = StatementEntryKind.REFUND
        else:
            return None  # transfers, holds, currency conversions: not a trade of ours
        if _get(info, "transaction_status") != "S":
            return None  # pending, denied or reversed: no money moved yet
        amount, currency = _money(_get(info, "transaction_amount"), "transaction_amount")
        fee = _get(info, "fee_amount")
        fee_fen = abs(_money(fee, "fee_amount")[0]) if fee else 0
        refund = kind == StatementEntryKind.REFUND
        occurred = _time(_get(info, "transaction_initiation_date"))
        if occurred is None:
            raise GatewayResponseInvalid("paypal transaction search: no transaction date", code="BAD_BILL")
        return StatementEntry(
            kind=kind,
            out_trade_no=str(_get(info, "invoice_id", default="")),
            gateway_trade_no=str(_get(info, "paypal_reference_id" if refund else "transaction_id", default="")),
            amount_fen=abs(amount),
            occurred_at=occurred,
            out_refund_no=str(_get(info, "custom_field", default="")) if refund else "",
            currency=currency,
            fee_fen=fee_fen,
        )
