"""Stripe through the official `stripe` library: Checkout Sessions, webhooks, refunds, balance transactions.

- Paying: a Checkout Session (mode=payment) per attempt, created with an idempotency key derived
  from our out_trade_no; the browser is redirected to its hosted page (`session.url`). Stripe finds
  sessions only by their own id, so the session id is our `gateway_ref`. Since API 2022-08-01 the
  PaymentIntent exists only once the buyer confirms; its id becomes the trade's gateway_trade_no.
- Webhooks: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body" with the endpoint secret>`,
  checked by `stripe.Webhook.construct_event` with a 300 s tolerance; any 2xx acknowledges.
- Refunds: POST /v1/refunds on the PaymentIntent, idempotent by our refund number.
- Reconciliation: the day's balance transactions (gross `amount`, Stripe's `fee`, `net`), with
  their source charge or refund expanded to find our numbers.
- Amounts are integers in the currency's minor unit both here and at Stripe; currency codes are
  lower-case there.

Sandbox mode points the client at the local Stripe ({SITE_URL}/sandbox/stripe/), which serves the
same endpoints.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import requests
import stripe
from django.conf import settings

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
PRODUCTION_API_BASE = "https://api.stripe.com"
# Stripe's own default; a webhook older than this is refused (its signature covers the timestamp).
WEBHOOK_TOLERANCE_SECONDS = 300
REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PROCESSING,
    "requires_action": RefundStatus.PROCESSING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
PAID_SESSION_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a StripeObject (a dict) or of a plain dict."""
    try:
        value = obj[name]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _id(value: Any) -> str:
    """An id field that may have been expanded into its object."""
    return value if isinstance(value, str) else _get(value, "id", "")


def _amount(obj: Any, name: str) -> int:
    value = _get(obj, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise GatewayResponseInvalid(f"stripe: {name} is not an integer amount: {value!r}", code="BAD_RESPONSE")
    return value


def _when(unix: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC) if isinstance(unix, int) else None


class StripeGateway(Gateway):
    channel = "stripe"
    display_name = "Stripe"
    methods = (PaymentMethod("checkout", "Card · Stripe Checkout"),)
    simulator_urls = "payments.simulators.stripe"
    secret_settings = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
    currencies = ("CNY", "USD", "EUR")
    notification_headers = ("HTTP_STRIPE_SIGNATURE",)

    def __init__(self) -> None:
        self.secret_key = settings.STRIPE_SECRET_KEY
        self.webhook_secret = settings.STRIPE_WEBHOOK_SECRET
        local = f"{settings.SITE_URL}/sandbox/stripe"
        self.api_base = (
            settings.STRIPE_API_BASE or (local if settings.PAYMENTS_SANDBOX else PRODUCTION_API_BASE)
        ).rstrip("/")
        self.timeout = settings.GATEWAY_TIMEOUT_SECONDS
        self.sandbox = settings.PAYMENTS_SANDBOX

    def configuration_problems(self) -> list[str]:
        problems = []
        if not self.secret_key.startswith(("sk_", "rk_")):
            problems.append("STRIPE_SECRET_KEY must be a secret (sk_…) or restricted (rk_…) key.")
        if not self.webhook_secret.startswith("whsec_"):
            problems.append("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_…).")
        return problems

    @property
    def _live(self) -> bool:
        return self.secret_key.startswith(("sk_live_", "rk_live_"))

    def _client(self) -> stripe.StripeClient:
        if not self.secret_key:
            raise GatewayConfigurationError("STRIPE_SECRET_KEY is not set", code="CONFIG")
        session = None
        if self.sandbox:
            # Proxy and CA variables are for the real Stripe; the local one is this very site.
            session = requests.Session()
            session.trust_env = False
        return stripe.StripeClient(
            self.secret_key,
            base_addresses={"api": self.api_base},
            # A lost reply is retried with the same idempotency key, which Stripe answers as before.
            max_network_retries=1,
            http_client=stripe.RequestsClient(timeout=self.timeout, session=session),
        )

    def _call(self, action: str, reference: str, call: Callable[[stripe.StripeClient], Any]) -> Any:
        """Run one API call; every library error leaves as one of our GatewayErrors."""
        log = {"gateway": self.channel, "action": action, "reference": reference}
        try:
            return call(self._client())
        except stripe.InvalidRequestError as exc:
            logger.info("stripe refused", extra={**log, "code": exc.code})
            if exc.code == "resource_missing":
                raise TradeNotFound(f"stripe {action}: {exc.user_message}", code=exc.code) from exc
            raise GatewayRejected(f"stripe {action}: {exc.user_message}", code=exc.code or "invalid_request") from exc
        except stripe.CardError as exc:
            raise GatewayRejected(f"stripe {action}: {exc.user_message}", code=exc.code or "card_error") from exc
        except stripe.IdempotencyError as exc:
            # The same key with other parameters: a bug of ours, never retried as is.
            logger.error("stripe idempotency conflict", extra=log)
            raise GatewayRejected(f"stripe {action}: {exc.user_message}", code="idempotency_error") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            logger.error("stripe refused our key", extra=log)
            raise GatewayConfigurationError(f"stripe {action}: {exc.user_message}", code="authentication") from exc
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            logger.warning("stripe unavailable", extra={**log, "error": repr(exc)[:300]})
            raise GatewayUnavailable(f"stripe {action}: {exc!r}"[:500], code="NETWORK") from exc
        except stripe.StripeError as exc:
            logger.warning("stripe failed", extra={**log, "error": repr(exc)[:300]})
            raise GatewayUnavailable(f"stripe {action}: {exc!r}"[:500], code="STRIPE_ERROR") from exc

    # --- Paying ---------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.currency_check(request.currency)
        if request.method != "checkout":
            raise GatewayRejected(f"stripe has no payment method {request.method!r}", code="UNKNOWN_METHOD")
        if request.gateway_ref:
            session = self._call(
                "checkout.sessions.retrieve",
                request.out_trade_no,
                lambda client: client.v1.checkout.sessions.retrieve(request.gateway_ref),
            )
            if _get(session, "status") == "open" and _get(session, "url"):
                return PaymentStart(kind=StartKind.REDIRECT, url=session["url"], gateway_ref=session["id"])
        metadata = {"out_trade_no": request.out_trade_no}
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "product_data": {"name": request.subject[:250] or request.out_trade_no},
                        "unit_amount": request.amount_fen,
                    },
                    "quantity": 1,
                }
            ],
            "client_reference_id": request.out_trade_no,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": request.return_url,
            "cancel_url": request.return_url,
            # No expires_at: Stripe wants it 30 min to 24 h ahead and the same parameters on every
            # retry of one idempotency key; the session lasts its default 24 h and our close expires
            # it when the order closes.
        }
        session = self._call(
            "checkout.sessions.create",
            request.out_trade_no,
            lambda client: client.v1.checkout.sessions.create(
                params, {"idempotency_key": f"knowpay-checkout-{request.out_trade_no}"}
            ),
        )
        if _get(session, "client_reference_id") != request.out_trade_no or not _get(session, "url"):
            raise GatewayResponseInvalid("stripe checkout.sessions.create: unexpected session", code="BAD_RESPONSE")
        return PaymentStart(kind=StartKind.REDIRECT, url=session["url"], gateway_ref=session["id"])

    def _session(self, out_trade_no: str, gateway_ref: str) -> Any:
        if not gateway_ref:
            # Stripe finds a session only by its id: without one it was never created for us.
            raise TradeNotFound(f"stripe: no Checkout Session known for {out_trade_no}", code="resource_missing")
        session = self._call(
            "checkout.sessions.retrieve",
            out_trade_no,
            lambda client: client.v1.checkout.sessions.retrieve(
                gateway_ref, {"expand": ["payment_intent.latest_charge"]}
            ),
        )
        if _get(session, "client_reference_id") != out_trade_no:
            raise GatewayResponseInvalid("stripe: the session belongs to another trade", code="BAD_RESPONSE")
        return session

    def _session_event(self, session: Any, *, notify_id: str = "", occurred: Any = None) -> PaymentEvent:
        status, payment_status = _get(session, "status"), _get(session, "payment_status")
        if status == "complete" and payment_status in ("paid", "no_payment_required"):
            trade_status = TradeStatus.PAID
        elif status == "expired":
            trade_status = TradeStatus.CLOSED
        elif status in ("open", "complete"):
            trade_status = TradeStatus.WAITING  # complete but unpaid: a delayed payment method is under way
        else:
            raise GatewayResponseInvalid(f"stripe: unknown session status {status!r}", code="BAD_RESPONSE")
        intent = _get(session, "payment_intent")
        charge = _get(intent, "latest_charge") if not isinstance(intent, str) else None
        paid_at = _when(_get(charge, "created")) or _when(occurred) if trade_status == TradeStatus.PAID else None
        return PaymentEvent(
            out_trade_no=_get(session, "client_reference_id", ""),
            status=trade_status,
            amount_fen=_amount(session, "amount_total"),
            gateway_trade_no=_id(intent),
            paid_at=paid_at,
            payer_ref=_get(_get(session, "customer_details", {}), "email", ""),
            raw_status=f"{status}/{payment_status}",
            notify_id=notify_id,
            currency=str(_get(session, "currency", "")).upper(),
        )

    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        return self._session_event(self._session(out_trade_no, gateway_ref))

    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        if not gateway_ref:
            return  # never created at Stripe
        try:
            self._call(
                "checkout.sessions.expire",
                out_trade_no,
                lambda client: client.v1.checkout.sessions.expire(gateway_ref),
            )
        except TradeNotFound:
            return
        except GatewayRejected as exc:
            # Only open sessions can be expired: it is complete (paid, or paying) or expired already.
            event = self.query_payment(out_trade_no, gateway_ref=gateway_ref)
            if event.status == TradeStatus.PAID:
                raise TradeAlreadyPaid(str(exc), code=exc.code) from exc
            if event.status == TradeStatus.WAITING:
                raise

    # --- Webhooks -------------------------------------------------------------------------------

    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent | RefundEvent:
        header = notification.headers.get("HTTP_STRIPE_SIGNATURE", "")
        try:
            event = stripe.Webhook.construct_event(
                notification.body, header, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            raise NotificationRejected(f"stripe webhook: {exc.user_message}", code="BAD_SIGNATURE") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise NotificationRejected("stripe webhook: body is not a JSON event", code="MALFORMED") from exc
        if bool(_get(event, "livemode", False)) != self._live:
            raise NotificationRejected("stripe webhook: from the other mode (live/test)", code="WRONG_MODE")
        kind, obj = _get(event, "type", ""), _get(_get(event, "data", {}), "object", {})
        try:
            if kind.startswith("checkout.session."):
                return self._session_event(obj, notify_id=event["id"], occurred=_get(event, "created"))
            if kind.startswith("refund."):
                return self._refund_event(obj)
        except GatewayResponseInvalid as exc:
            raise NotificationRejected(f"stripe webhook: {exc}", code="MALFORMED") from exc
        # The endpoint subscribes to checkout.session.* and refund.* only.
        raise NotificationRejected(f"stripe webhook: unexpected event type {kind!r}", code="UNEXPECTED_EVENT")

    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        # Stripe reads only the status: any 2xx stops the retries.
        if accepted:
            return NotifyReply(body='{"received": true}', content_type="application/json")
        return NotifyReply(body='{"received": false}', content_type="application/json", status=400)

    # --- Refunds --------------------------------------------------------------------------------

    def _refund_event(self, refund: Any) -> RefundEvent:
        metadata = _get(refund, "metadata", {})
        status = REFUND_STATUSES.get(_get(refund, "status", ""))
        if status is None or not _get(metadata, "out_refund_no"):
            raise GatewayResponseInvalid("stripe: a refund without our number or a known status", code="BAD_RESPONSE")
        return RefundEvent(
            out_trade_no=_get(metadata, "out_trade_no", ""),
            out_refund_no=metadata["out_refund_no"],
            status=status,
            refund_fen=_amount(refund, "amount"),
            gateway_refund_no=_get(refund, "id", ""),
            raw_status=refund["status"],
            currency=str(_get(refund, "currency", "")).upper(),
        )

    def refund(self, request: RefundRequest) -> RefundEvent:
        self.currency_check(request.currency)
        if not request.gateway_trade_no:
            raise GatewayRejected(f"stripe refund: {request.out_trade_no} was never paid", code="NOT_PAID")
        params = {
            "payment_intent": request.gateway_trade_no,
            "amount": request.refund_fen,
            "reason": "requested_by_customer",
            "metadata": {"out_trade_no": request.out_trade_no, "out_refund_no": request.out_refund_no},
        }
        try:
            refund = self._call(
                "refunds.create",
                request.out_refund_no,
                lambda client: client.v1.refunds.create(
                    params, {"idempotency_key": f"knowpay-refund-{request.out_refund_no}"}
                ),
            )
        except TradeNotFound as exc:
            raise GatewayRejected(str(exc), code=exc.code) from exc
        event = self._refund_event(refund)
        if (event.out_trade_no, event.out_refund_no) != (request.out_trade_no, request.out_refund_no):
            raise GatewayResponseInvalid("stripe refunds.create: reply about another refund", code="BAD_RESPONSE")
        return event

    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        try:
            if gateway_refund_no:
                found = self._call(
                    "refunds.retrieve", out_refund_no, lambda client: client.v1.refunds.retrieve(gateway_refund_no)
                )
            elif gateway_trade_no:
                refunds = self._call(
                    "refunds.list",
                    out_refund_no,
                    lambda client: client.v1.refunds.list({"payment_intent": gateway_trade_no, "limit": 100}),
                )
                found = next(
                    (r for r in refunds.auto_paging_iter() if _get(r["metadata"], "out_refund_no") == out_refund_no),
                    None,
                )
            else:
                found = None
        except TradeNotFound as exc:
            raise RefundNotFound(str(exc), code=exc.code) from exc
        if found is None:
            raise RefundNotFound(f"stripe: no refund {out_refund_no}", code="resource_missing")
        event = self._refund_event(found)
        if (event.out_trade_no, event.out_refund_no) != (out_trade_no, out_refund_no):
            raise GatewayResponseInvalid("stripe refunds: reply about another refund", code="BAD_RESPONSE")
        return event

    # --- Reconciliation -------------------------------------------------------------------------

    def fetch_statement(self, day: dt.date) -> Statement:
        start = dt.datetime.combine(day, dt.time(), tzinfo=BEIJING)
        params = {
            "created": {"gte": int(start.timestamp()), "lt": int((start + dt.timedelta(days=1)).timestamp())},
            "limit": 100,
            "expand": ["data.source", "data.source.payment_intent"],
        }
        page = self._call(
            "balance_transactions.list", day.isoformat(), lambda client: client.v1.balance_transactions.list(params)
        )
        entries = []
        try:
            for txn in page.auto_paging_iter():
                entry = self._statement_entry(txn)
                if entry is not None:
                    entries.append(entry)
        except stripe.StripeError as exc:
            raise GatewayUnavailable(f"stripe balance_transactions.list: {exc!r}"[:500], code="NETWORK") from exc
        return Statement(channel=self.channel, day=day, entries=tuple(entries))

    @staticmethod
    def _statement_entry(txn: Any) -> StatementEntry | None:
        kind = {"charge": StatementEntryKind.PAYMENT, "payment": StatementEntryKind.PAYMENT}.get(_get(txn, "type"))
        if _get(txn, "type") in ("refund", "payment_refund"):
            kind = StatementEntryKind.REFUND
        if kind is None:
            return None  # payouts, Stripe's own fees, adjustments: not a trade of ours
        source = _get(txn, "source")
        intent = _get(source, "payment_intent")
        out_trade_no = _get(_get(intent, "metadata", {}), "out_trade_no", "")
        if isinstance(source, str) or isinstance(intent, str) or not out_trade_no:
            raise GatewayResponseInvalid("stripe balance transaction: source not expanded or not ours", code="BAD_BILL")
        return StatementEntry(
            kind=kind,
            out_trade_no=out_trade_no,
            gateway_trade_no=_get(intent, "id", ""),
            amount_fen=abs(_amount(txn, "amount")),
            occurred_at=_when(_get(txn, "created")),
            out_refund_no=_get(_get(source, "metadata", {}), "out_refund_no", "")
            if kind == StatementEntryKind.REFUND
            else "",
            currency=str(_get(txn, "currency", "")).upper(),
            fee_fen=abs(_amount(txn, "fee")),
        )
