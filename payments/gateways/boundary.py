"""The contract boundary: every gateway handed out by `gateway_get` is wrapped here.

Each outbound operation (start, query, close, complete, refund, refund query, bill, transfer) goes through
`GuardedGateway._invoke`, the one place where:

- anything a gateway module raises that is not a GatewayError (a KeyError on a bill missing a
  column, a bug) becomes a GatewayContractViolation, the original chained and logged with
  structured `extra`; so callers only ever handle the typed family of base.py;
- the call is recorded (channel, operation, our ids, outcome, the gateway's code, duration, error)
  as a GatewayCall row, committed on its own (payments.services.gateway_calls);
- the circuit breaker of the channel's operation (payments.gateways.breakers) refuses the call
  before it is made when the gateway has failed repeatedly, and counts how each call ended;
- its outcome and duration are counted in the Prometheus metrics.

Parsing a notification is guarded the same way (a GatewayContractViolation, not a rejection: the
sender may be right and our module wrong, so the notification is recorded failed and sent again)
but not recorded as a call: the raw notification is its own record. A new channel gets all this
by being registered.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

import pybreaker

from knowpay.metrics import GATEWAY_CALLS, GATEWAY_LATENCY
from knowpay.money import minor_to_decimal
from payments.gateways import breakers
from payments.gateways.base import (
    Gateway,
    GatewayCircuitOpen,
    GatewayConfigurationError,
    GatewayContractViolation,
    GatewayError,
    GatewayNotSupported,
    GatewayRejected,
    GatewayResponseInvalid,
    GatewayUnavailable,
    IncomingNotification,
    PaymentEvent,
    PaymentStart,
    RefundEvent,
    Statement,
    TransferResult,
)

logger = logging.getLogger(__name__)

# The outbound operations of the contract, recorded one row per call.
OPERATIONS = (
    "start_payment",
    "query_payment",
    "close_payment",
    "complete_payment",
    "refund",
    "query_refund",
    "fetch_statement",
    "transfer",
)


def call_outcome(error: GatewayError | None) -> str:
    """How a call ended, as GatewayCall.Outcome values; the most specific class wins."""
    if error is None:
        return "ok"
    for kind, outcome in (
        (GatewayCircuitOpen, "circuit_open"),
        (GatewayContractViolation, "contract_violation"),
        (GatewayRejected, "rejected"),
        (GatewayUnavailable, "unavailable"),
        (GatewayResponseInvalid, "invalid"),
        (GatewayConfigurationError, "configuration"),
        (GatewayNotSupported, "not_supported"),
    ):
        if isinstance(error, kind):
            return outcome
    return "error"


def _our_ids(operation: str, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Our identifiers in a call's arguments: out_trade_no, out_refund_no, payout_no, bill_day."""
    bound = inspect.signature(getattr(Gateway, operation)).bind(None, *args, **kwargs).arguments
    request = bound.get("request")
    ids: dict[str, Any] = {}
    out_trade_no = bound.get("out_trade_no") or getattr(request, "out_trade_no", "")
    if out_trade_no:
        ids["out_trade_no"] = out_trade_no
    out_refund_no = bound.get("out_refund_no") or getattr(request, "out_refund_no", "")
    if out_refund_no:
        ids["out_refund_no"] = out_refund_no
    if operation == "transfer":
        ids["payout_no"] = request.out_biz_no
    if isinstance(bound.get("day"), dt.date):
        ids["bill_day"] = bound["day"]
    return ids


def _summary(result: object) -> str:
    """What the gateway said, in a line for support; never a URL, form or QR content (they are signed)."""
    if isinstance(result, PaymentStart):
        return f"start: {result.kind.value}"
    if isinstance(result, PaymentEvent):
        amount = f"{minor_to_decimal(result.amount_fen, result.currency)} {result.currency}"
        return f"{result.status.value} {amount} {result.raw_status} {result.gateway_trade_no}".strip()
    if isinstance(result, RefundEvent):
        amount = f"{minor_to_decimal(result.refund_fen, result.currency)} {result.currency}"
        return f"{result.status.value} {amount} {result.raw_status} {result.gateway_refund_no}".strip()
    if isinstance(result, Statement):
        return f"{len(result.entries)} bill entries"
    if isinstance(result, TransferResult):
        return f"{'succeeded' if result.succeeded else 'in progress'} {result.transfer_no}"
    return "done"


class GuardedGateway:
    """A gateway as the rest of the system sees it: the same contract, enforced and recorded.

    Attributes that are not operations (channel, methods, display_name, supports_transfer...) are
    the wrapped gateway's own.
    """

    def __init__(self, gateway: Gateway, *, record: Callable[..., None]) -> None:
        self._gateway = gateway
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gateway, name)

    def __repr__(self) -> str:
        return f"<GuardedGateway {self._gateway.channel}>"

    @property
    def wrapped(self) -> Gateway:
        return self._gateway

    def _invoke(self, operation: str, *args, **kwargs):
        channel = self._gateway.channel
        ids = _our_ids(operation, args, kwargs)
        started_at, clock = dt.datetime.now(dt.UTC), time.monotonic()
        result, error = None, None
        try:
            with breakers.breaker_for(channel, operation).calling():
                result = self._call_module(operation, ids, *args, **kwargs)
        except pybreaker.CircuitBreakerError:
            error = GatewayCircuitOpen(
                f"{channel} {operation}: circuit open after repeated failures; not called",
                user_message=breakers.circuit_open_message(channel, operation),
            )
            raise error from None
        except GatewayError as exc:
            error = exc
            raise
        finally:
            seconds = time.monotonic() - clock
            outcome = call_outcome(error)
            GATEWAY_CALLS.labels(channel=channel, operation=operation, outcome=outcome).inc()
            if outcome != "circuit_open":
                GATEWAY_LATENCY.labels(channel=channel, operation=operation).observe(seconds)
            self._record(
                channel=channel,
                operation=operation,
                started_at=started_at,
                duration_ms=round(seconds * 1000),
                outcome=outcome,
                code=error.code if error else "",
                result=_summary(result) if error is None else "",
                error=f"{type(error).__name__}: {error}" if error else "",
                **ids,
            )
        return result

    def _call_module(self, operation: str, ids: dict, *args, **kwargs):
        """The module's own call; anything outside the error family leaves as a contract violation."""
        channel = self._gateway.channel
        try:
            return getattr(self._gateway, operation)(*args, **kwargs)
        except GatewayError:
            raise
        except Exception as exc:
            logger.error(
                "gateway module raised outside its contract",
                extra={"channel": channel, "operation": operation, "error_type": type(exc).__name__, **ids},
                exc_info=True,
            )
            raise GatewayContractViolation(f"{channel} {operation}: {type(exc).__name__}: {exc}"[:500]) from exc

    def start_payment(self, request):
        return self._invoke("start_payment", request)

    def query_payment(self, out_trade_no, *, gateway_ref=""):
        return self._invoke("query_payment", out_trade_no, gateway_ref=gateway_ref)

    def close_payment(self, out_trade_no, *, gateway_ref=""):
        return self._invoke("close_payment", out_trade_no, gateway_ref=gateway_ref)

    def complete_payment(self, out_trade_no, *, gateway_ref=""):
        return self._invoke("complete_payment", out_trade_no, gateway_ref=gateway_ref)

    def refund(self, request):
        return self._invoke("refund", request)

    def query_refund(self, out_trade_no, out_refund_no, *, gateway_trade_no="", gateway_refund_no=""):
        return self._invoke(
            "query_refund",
            out_trade_no,
            out_refund_no,
            gateway_trade_no=gateway_trade_no,
            gateway_refund_no=gateway_refund_no,
        )

    def fetch_statement(self, day):
        return self._invoke("fetch_statement", day)

    def transfer(self, request):
        return self._invoke("transfer", request)

    def parse_notification(self, notification: IncomingNotification):
        try:
            return self._gateway.parse_notification(notification)
        except GatewayError:
            raise
        except Exception as exc:
            channel = self._gateway.channel
            logger.error(
                "gateway module raised outside its contract",
                extra={"channel": channel, "operation": "parse_notification", "error_type": type(exc).__name__},
                exc_info=True,
            )
            raise GatewayContractViolation(f"{channel} parse_notification: {type(exc).__name__}: {exc}"[:500]) from exc
