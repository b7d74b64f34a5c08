"""The one contract every payment gateway implements, with its typed results and errors.

A gateway module turns our intent into its protocol and its replies back into these dataclasses.
Amounts are integers in the minor unit of their `currency` (ISO 4217; fen for CNY, cents for USD)
on both sides of this interface, whatever the field is called (`amount_fen`, `refund_fen`);
decimal strings exist only inside a module, converted by knowpay.money. Nothing outside a gateway
module imports its SDK.
"""

from __future__ import annotations

import datetime as dt
import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

# --- Errors ---------------------------------------------------------------------------------


class GatewayError(Exception):
    """Base of every gateway failure.

    `code` is machine-readable (ours or the gateway's, e.g. "ACQ.TRADE_NOT_EXIST");
    `user_message` is fit to show a learner or creator; `str(error)` is for the log.
    """

    default_user_message = "The payment service could not complete this request. Please try again."

    def __init__(self, message: str, *, code: str = "", user_message: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.user_message = user_message or self.default_user_message


class GatewayUnavailable(GatewayError):
    """Network error, timeout, or a non-200 reply: the outcome is unknown, try again later."""

    default_user_message = "The payment service is not answering right now. Please try again in a moment."


class GatewayCircuitOpen(GatewayUnavailable):
    """Not asked at all: this operation of the gateway failed repeatedly and its circuit is open
    (payments.gateways.breakers). Handled like no answer; `user_message` names a way out."""

    default_user_message = "The payment service is not answering. Please try again in a minute."

    def __init__(self, message: str, *, code: str = "CIRCUIT_OPEN", user_message: str | None = None) -> None:
        super().__init__(message, code=code, user_message=user_message)


class GatewayResponseInvalid(GatewayError):
    """A reply we cannot trust: bad signature, wrong shape, unparseable. Treated like no reply."""

    default_user_message = "The payment service sent an answer we could not verify. Please try again."


class GatewayRejected(GatewayError):
    """The gateway answered, verifiably, that it will not do this (with its own code)."""


class TradeNotFound(GatewayRejected):
    """The gateway has no trade with this out_trade_no (e.g. the buyer never opened the cashier)."""

    default_user_message = "The payment service has no record of this payment yet."


class RefundNotFound(GatewayRejected):
    """The gateway has no refund with this out_refund_no (it never arrived there)."""

    default_user_message = "The payment service has no record of this refund."


class TradeAlreadyPaid(GatewayRejected):
    """A close was refused because the trade was paid: process it as paid."""

    default_user_message = "This payment has already been made."


class NotificationRejected(GatewayError):
    """An incoming notification failed verification or a check; it changes nothing."""

    default_user_message = "Invalid notification."


class GatewayNotSupported(GatewayError):
    """This gateway does not offer the operation (e.g. transfers)."""

    default_user_message = "This payment method does not support that operation."


class GatewayConfigurationError(GatewayError):
    """Missing or unusable settings (keys, ids)."""


class GatewayContractViolation(GatewayError):
    """A gateway module raised something other than a GatewayError (a KeyError on a bill missing a
    column, a bug): the contract boundary turns it into this, the original chained as `__cause__`.

    The outcome at the gateway is unknown, as with GatewayUnavailable: callers retry, never fail
    the payment or refund on it.
    """

    def __init__(self, message: str, *, code: str = "CONTRACT_VIOLATION", user_message: str | None = None) -> None:
        super().__init__(message, code=code, user_message=user_message)


class PayerAuthorizationFailed(GatewayRejected):
    """The gateway refused the code its web authorisation gave: used before, expired, or forged."""

    default_user_message = (
        "WeChat could not confirm who you are: that sign-in link was already used or has expired. Please try again."
    )


# --- What goes in ---------------------------------------------------------------------------


class Device(enum.StrEnum):
    """Where the learner's browser runs, which decides the ways to pay that work there."""

    DESKTOP = "desktop"  # a computer
    PHONE = "phone"  # a phone's (or tablet's) browser, outside WeChat
    WECHAT = "wechat"  # WeChat's in-app browser (user agent "MicroMessenger")


EVERY_DEVICE = frozenset(Device)


@dataclass(frozen=True)
class PaymentMethod:
    """One way to pay at a gateway, as offered at checkout (e.g. alipay/page, alipay/qr)."""

    code: str
    label: str
    # Where it works; checkout offers it only there. A QR code works everywhere.
    devices: frozenset[Device] = EVERY_DEVICE
    # The gateway must be told who pays (PaymentRequest.payer_openid): their id at our app there,
    # learned through the gateway's web authorisation (payer_authorize_url, payer_openid).
    needs_payer_openid: bool = False

    def suits(self, device: Device) -> bool:
        return device in self.devices


@dataclass(frozen=True)
class PaymentRequest:
    out_trade_no: str
    amount_fen: int
    subject: str
    method: str
    notify_url: str
    return_url: str
    expires_at: dt.datetime
    client_ip: str
    product_id: str = ""
    currency: str = "CNY"
    # The gateway_ref of this attempt's previous start, if any, so a gateway that assigns its own
    # trade id (PayPal order, Stripe Checkout Session) resumes that trade instead of opening another.
    gateway_ref: str = ""
    # Where a phone cashier sends the payer who gives up (Alipay WAP's quit_url): our order page.
    quit_url: str = ""
    # The payer's id at our app, for methods that need it (WeChat JSAPI's openid).
    payer_openid: str = ""


@dataclass(frozen=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str
    refund_fen: int
    total_fen: int
    reason: str
    notify_url: str
    currency: str = "CNY"
    # The paid trade's number at the gateway (PaymentEvent.gateway_trade_no), for gateways that
    # refund by their own id (a PayPal capture, a Stripe PaymentIntent, UnionPay's queryId).
    gateway_trade_no: str = ""


@dataclass(frozen=True)
class TransferRequest:
    out_biz_no: str
    amount_fen: int
    payee_account: str
    payee_name: str
    remark: str


@dataclass(frozen=True)
class IncomingNotification:
    """The raw HTTP request a gateway sent to a notify URL."""

    kind: str  # "payment" or "refund"
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


# --- What comes out -------------------------------------------------------------------------


class StartKind(enum.StrEnum):
    REDIRECT = "redirect"  # send the browser to `url`
    FORM = "form"  # render `html`, an auto-submitting form
    QR = "qr"  # show `qr_content` as a QR code on our page
    # Our page hands `bridge_params` to the app the page runs in (WeChat's getBrandWCPayRequest).
    BRIDGE = "bridge"


@dataclass(frozen=True)
class PaymentStart:
    kind: StartKind
    url: str = ""
    html: str = ""
    qr_content: str = ""
    # The gateway's own reference for the trade, for gateways that cannot find a trade by our
    # out_trade_no (a PayPal order id, a Stripe Checkout Session id, UnionPay's txnTime). Kept with
    # the attempt and handed back to query_payment and close_payment. Opaque to the core.
    gateway_ref: str = ""
    bridge_params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind.value,
            "url": self.url,
            "html": self.html,
            "qr_content": self.qr_content,
            "gateway_ref": self.gateway_ref,
            "bridge_params": dict(self.bridge_params),
        }

    @classmethod
    def from_dict(cls, data: dict) -> PaymentStart:
        return cls(
            kind=StartKind(data["kind"]),
            url=data.get("url", ""),
            html=data.get("html", ""),
            qr_content=data.get("qr_content", ""),
            gateway_ref=data.get("gateway_ref", ""),
            bridge_params=dict(data.get("bridge_params") or {}),
        )


class TradeStatus(enum.StrEnum):
    WAITING = "waiting"  # created, not paid (yet)
    PAID = "paid"  # money received
    CLOSED = "closed"  # closed unpaid (or, at some gateways, fully refunded after payment)


@dataclass(frozen=True)
class PaymentEvent:
    """A verified statement by the gateway about one trade (from a notification or a query)."""

    out_trade_no: str
    status: TradeStatus
    amount_fen: int
    gateway_trade_no: str = ""
    paid_at: dt.datetime | None = None
    payer_ref: str = ""
    # The gateway's own status word, e.g. TRADE_SUCCESS, for the record.
    raw_status: str = ""
    # Identifies this notification at the gateway across its resends (Alipay notify_id), if any.
    notify_id: str = ""
    # The currency the gateway reported `amount_fen` in.
    currency: str = "CNY"


class RefundStatus(enum.StrEnum):
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class RefundEvent:
    """A verified statement by the gateway about one refund (refund notification or query)."""

    out_trade_no: str
    out_refund_no: str
    status: RefundStatus
    refund_fen: int
    gateway_refund_no: str = ""
    raw_status: str = ""
    currency: str = "CNY"


@dataclass(frozen=True)
class NotifyReply:
    """The HTTP answer a gateway expects to a notification."""

    body: str
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200


@dataclass(frozen=True)
class TransferResult:
    out_biz_no: str
    transfer_no: str
    succeeded: bool


class StatementEntryKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class StatementEntry:
    kind: StatementEntryKind
    out_trade_no: str
    gateway_trade_no: str
    amount_fen: int  # always positive; `kind` says the direction
    occurred_at: dt.datetime
    out_refund_no: str = ""
    currency: str = "CNY"
    # The gateway's fee on this entry in the same currency, never negative (0 if its report has
    # none); like the amount, `kind` says the direction: on a payment what the gateway kept, on a
    # refund what it gave back of that payment's fee.
    fee_fen: int = 0


@dataclass(frozen=True)
class Statement:
    """A gateway's daily bill, parsed: what it says moved on `day`."""

    channel: str
    day: dt.date
    entries: tuple[StatementEntry, ...]


# --- The contract ---------------------------------------------------------------------------


class Gateway(ABC):
    """A payment channel. One module per channel; registered in settings.PAYMENT_GATEWAYS.

    Every method that talks to the gateway raises only GatewayError subclasses: an SDK exception
    never escapes a gateway module.
    """

    channel: ClassVar[str]
    display_name: ClassVar[str]
    methods: ClassVar[tuple[PaymentMethod, ...]]
    # Dotted path of the URLconf of this channel's local simulator, mounted in sandbox mode.
    simulator_urls: ClassVar[str | None] = None
    # ISO 4217 codes this channel takes payments in; start_payment refuses any other.
    currencies: ClassVar[tuple[str, ...]] = ("CNY",)
    # Request headers (Django META names) its notifications are verified with, kept with the raw body.
    notification_headers: ClassVar[tuple[str, ...]] = ()
    # The shortest time a new trade may be open at this gateway (WeChat Pay refuses a time_expire
    # under 5 minutes away): checkout gives an order at least this long for an attempt.
    min_payment_window: ClassVar[dt.timedelta] = dt.timedelta(0)
    # Settings holding the keys and secrets this channel signs or verifies with: outside sandbox mode
    # the process refuses to start when one holds committed TEST-ONLY material (payments.safety).
    secret_settings: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """Create (or re-create, idempotently for the same out_trade_no) a trade.

        Returns: what the browser needs to pay. Raises: GatewayRejected, GatewayUnavailable.
        """

    @abstractmethod
    def parse_notification(self, notification: IncomingNotification) -> PaymentEvent | RefundEvent:
        """Verify an incoming notification and turn it into a verified event.

        Checks the signature and that it is addressed to us (app id, merchant id); amounts and
        out_trade_no are checked by the caller against our records.
        Raises: NotificationRejected with the reason.
        """

    @abstractmethod
    def notification_reply(self, *, accepted: bool, message: str = "") -> NotifyReply:
        """The reply in the gateway's dialect: acknowledge, or ask it to send again later."""

    @abstractmethod
    def query_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent:
        """Ask the gateway what became of a trade (`gateway_ref`: from its PaymentStart, if any).

        Raises: TradeNotFound, GatewayUnavailable.
        """

    @abstractmethod
    def close_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> None:
        """Close an unpaid trade so it can no longer be paid.

        A trade the gateway never created counts as closed. Raises: TradeAlreadyPaid if it was paid.
        """

    def complete_payment(self, out_trade_no: str, *, gateway_ref: str = "") -> PaymentEvent | None:
        """The buyer is back from the gateway's page: finish what they approved there, if the
        merchant must (PayPal captures an approved order), and report the trade.

        None for gateways where paying needs no step of ours: their notification or a query tells.
        Raises: GatewayRejected (e.g. the capture was declined: the trade stays unpaid), GatewayUnavailable.
        """
        return None

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundEvent:
        """Refund part or all of a paid trade; idempotent for the same out_refund_no.

        Returns the refund's state: SUCCEEDED when the gateway confirms at once, PROCESSING when a
        refund notification or query will tell later.
        """

    @abstractmethod
    def query_refund(
        self, out_trade_no: str, out_refund_no: str, *, gateway_trade_no: str = "", gateway_refund_no: str = ""
    ) -> RefundEvent:
        """Ask the gateway what became of a refund (its numbers there, when we know them, help
        gateways that look refunds up by their own ids). Raises: RefundNotFound, GatewayUnavailable."""

    @abstractmethod
    def fetch_statement(self, day: dt.date) -> Statement:
        """Download and parse the gateway's bill for `day` (a past day)."""

    def configuration_problems(self) -> list[str]:
        """What is wrong with this channel's settings, found without calling the gateway.

        Run by the system checks at start-up, so a broken key stops the deploy rather than the
        first learner's payment.
        """
        return []

    def transfer(self, request: TransferRequest) -> TransferResult:
        """Pay money out to a person's account at this gateway (creator payouts)."""
        raise GatewayNotSupported(f"{self.channel} does not support transfers", code="NOT_SUPPORTED")

    def currency_check(self, currency: str) -> None:
        """Raise GatewayRejected unless this channel takes `currency`."""
        if currency not in self.currencies:
            raise GatewayRejected(
                f"{self.channel} does not take payments in {currency!r}",
                code="UNSUPPORTED_CURRENCY",
                user_message="This payment method does not take payments in this currency.",
            )

    @property
    def supports_transfer(self) -> bool:
        return type(self).transfer is not Gateway.transfer

    # --- Who pays (methods with needs_payer_openid) ---------------------------------------------

    @property
    def payer_app_id(self) -> str:
        """The app a payer's openid belongs to: openids are per app, so they are stored per app id."""
        return ""

    def payer_authorize_url(self, *, redirect_uri: str, state: str) -> str:
        """Where to send the payer's browser for the gateway's silent web authorisation.

        The gateway sends it back to `redirect_uri` with a one-time `code` and our `state`.
        """
        raise GatewayNotSupported(f"{self.channel} does not identify payers", code="NOT_SUPPORTED")

    def payer_openid(self, *, code: str) -> str:
        """Exchange the authorisation's code for the payer's openid at `payer_app_id`.

        Raises: PayerAuthorizationFailed for a code used before, expired or forged;
        GatewayUnavailable, GatewayConfigurationError.
        """
        raise GatewayNotSupported(f"{self.channel} does not identify payers", code="NOT_SUPPORTED")

    def method(self, code: str) -> PaymentMethod | None:
        return next((m for m in self.methods if m.code == code), None)
