"""The endpoints of the local Stripe (see the package docstring for what they cover)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import secrets
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from knowpay.money import CURRENCIES, minor_to_decimal
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.common import idempotent, notification_send, sandbox_only

GATEWAY = "stripe"
ACCOUNT = "acct_TESTONLYknowpay01"
API_VERSION = "2026-10-28.endive"
DECLINED_CARD = "4000000000000002"
_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")
STATUSES = {"waiting": "open", "paid": "complete", "closed": "expired"}


def _new_id(prefix: str) -> str:
    return (
        f"{prefix}_{'test_' if prefix == 'cs' else ''}{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}"
    )


def _unix(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def stripe_fee(amount: int) -> int:
    """2.9 % (rounded half up) + 30 minor units."""
    return (amount * 29 + 500) // 1000 + 30


# --- Requests and replies ---------------------------------------------------------------------


def parse_params(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's bracket notation (`line_items[0][price_data][currency]=usd`) as nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = [a or b for a, b in _KEY.findall(key)]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def _json(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def error(status: int, message: str, *, kind: str = "invalid_request_error", code: str = "", param: str = ""):
    body = {"type": kind, "message": message}
    if code:
        body["code"] = code
        body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        body["param"] = param
    return _json({"error": body}, status)


def _missing(kind: str, ident: str, param: str = "id") -> HttpResponse:
    return error(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def endpoint(handler):
    """Authenticate with the secret key, parse the parameters, and honour Idempotency-Key on POST."""

    @csrf_exempt
    @sandbox_only
    @functools.wraps(handler)
    def view(request, *args, **kwargs):
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {settings.STRIPE_SECRET_KEY}":
            shown = auth.removeprefix("Bearer ")[:8]
            return error(401, f"Invalid API Key provided: {shown}***")
        body = request.body.decode() if request.method == "POST" else request.META.get("QUERY_STRING", "")
        pairs = parse_qsl(body, keep_blank_values=True)
        params = parse_params(pairs)
        with transaction.atomic():
            if request.method != "POST":
                return handler(request, params, *args, **kwargs)
            fingerprint = hashlib.sha256(f"{request.path}?{body}".encode()).hexdigest()

            def answer():
                response = handler(request, params, *args, **kwargs)
                return response.status_code, response.content.decode()

            stored = idempotent(
                gateway=GATEWAY, key=request.headers.get("Idempotency-Key", ""), fingerprint=fingerprint, answer=answer
            )
        if stored is None:
            return error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                kind="idempotency_error",
            )
        return HttpResponse(stored[1], status=stored[0], content_type="application/json")

    return view


def _expands(params: dict) -> set[str]:
    expand = params.get("expand", [])
    return set(expand if isinstance(expand, list) else [expand])


# --- Objects ------------------------------------------------------------------------------------


def _sessions():
    return SimulatedTrade.objects.select_for_update().filter(gateway=GATEWAY, merchant_id=ACCOUNT)


def session_json(trade: SimulatedTrade, expand: set[str] = frozenset()) -> dict:
    extra = trade.extra
    intent = extra.get("payment_intent")
    # Expanding a nested path expands every object on the way, as Stripe does.
    if intent and any(path.split(".")[0] == "payment_intent" for path in expand):
        intent = intent_json(trade, expand_charge="payment_intent.latest_charge" in expand)
    status = STATUSES[trade.status]
    return {
        "id": trade.trade_no,
        "object": "checkout.session",
        "amount_subtotal": trade.amount_fen,
        "amount_total": trade.amount_fen,
        "cancel_url": extra["cancel_url"],
        "client_reference_id": extra["client_reference_id"] or None,
        "created": _unix(trade.created_at),
        "currency": extra["currency"],
        "customer_details": {"email": trade.buyer_id} if trade.buyer_id else None,
        "expires_at": _unix(trade.expires_at),
        "livemode": False,
        "metadata": extra["metadata"],
        "mode": "payment",
        "payment_intent": intent,
        "payment_status": "paid" if trade.status == SimulatedTrade.Status.PAID else "unpaid",
        "status": status,
        "success_url": trade.return_url,
        "url": settings.SITE_URL + reverse("stripe-checkout-page", args=[trade.trade_no]) if status == "open" else None,
    }


def intent_json(trade: SimulatedTrade, *, expand_charge: bool = False) -> dict:
    extra = trade.extra
    return {
        "id": extra["payment_intent"],
        "object": "payment_intent",
        "amount": trade.amount_fen,
        "amount_received": trade.amount_fen,
        "currency": extra["currency"],
        "created": _unix(trade.paid_at),
        "latest_charge": charge_json(trade) if expand_charge else extra["charge"],
        "livemode": False,
        "metadata": extra["intent_metadata"],
        "status": "succeeded",
    }


def charge_json(trade: SimulatedTrade, *, intent: dict | None = None) -> dict:
    extra = trade.extra
    return {
        "id": extra["charge"],
        "object": "charge",
        "amount": trade.amount_fen,
        "amount_refunded": trade.refunded_fen,
        "balance_transaction": extra["charge_txn"],
        "created": _unix(trade.paid_at),
        "currency": extra["currency"],
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent or extra["payment_intent"],
        "refunded": trade.refunded_fen == trade.amount_fen,
        "status": "succeeded",
    }


def refund_json(refund: SimulatedRefund, *, intent: dict | None = None) -> dict:
    trade = refund.trade
    details = trade.extra["refunds"][refund.refund_no]
    return {
        "id": refund.refund_no,
        "object": "refund",
        "amount": refund.amount_fen,
        "balance_transaction": details["txn"],
        "charge": trade.extra["charge"],
        "created": _unix(refund.succeeded_at),
        "currency": trade.extra["currency"],
        "metadata": details["metadata"],
        "payment_intent": intent or trade.extra["payment_intent"],
        "reason": details["reason"] or None,
        "status": "succeeded",
    }


# --- Checkout Sessions ----------------------------------------------------------------------------


@endpoint
def sessions_create(request, params):
    if request.method != "POST":
        return error(400, "Listing sessions is not supported by the local Stripe.")
    if params.get("mode") != "payment":
        return error(400, "The local Stripe supports mode=payment only.", param="mode")
    items = params.get("line_items")
    if not isinstance(items, list) or not items:
        return error(400, "Missing required param: line_items.", code="parameter_missing", param="line_items")
    currency, total, names = None, 0, []
    for n, item in enumerate(items):
        price = item.get("price_data", {}) if isinstance(item, dict) else {}
        try:
            unit_amount, quantity = int(price.get("unit_amount", "")), int(item.get("quantity", ""))
        except ValueError:
            return error(400, "Invalid integer.", code="parameter_invalid_integer", param=f"line_items[{n}]")
        item_currency = price.get("currency", "")
        if item_currency.upper() not in CURRENCIES or item_currency != item_currency.lower():
            return error(400, f"Invalid currency: {item_currency}.", param=f"line_items[{n}][price_data][currency]")
        if currency not in (None, item_currency):
            return error(400, "All line items must have the same currency.", param="line_items")
        if unit_amount <= 0 or quantity <= 0:
            return error(400, "Amounts must be positive.", code="amount_too_small", param=f"line_items[{n}]")
        currency, total = item_currency, total + unit_amount * quantity
        names.append(price.get("product_data", {}).get("name", ""))
    for name in ("success_url", "cancel_url"):
        if not params.get(name, "").startswith(("http://", "https://")):
            return error(400, f"Not a valid URL: {name}.", code="url_invalid", param=name)
    now = timezone.now()
    trade = SimulatedTrade.objects.create(
        gateway=GATEWAY,
        merchant_id=ACCOUNT,
        out_trade_no=(session_id := _new_id("cs")),
        trade_no=session_id,
        amount_fen=total,
        subject=", ".join(names)[:256],
        return_url=params["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)[:500],
        expires_at=now + dt.timedelta(hours=24),
        extra={
            "client_reference_id": params.get("client_reference_id", ""),
            "currency": currency,
            "cancel_url": params["cancel_url"],
            "metadata": params.get("metadata", {}),
            "intent_metadata": params.get("payment_intent_data", {}).get("metadata", {}),
            "refunds": {},
        },
    )
    return _json(session_json(trade))


def _session(session_id: str) -> SimulatedTrade | None:
    trade = _sessions().filter(trade_no=session_id).first()
    if trade and trade.status == SimulatedTrade.Status.WAITING and trade.expires_at <= timezone.now():
        _expire(trade)
    return trade


def _expire(trade: SimulatedTrade) -> None:
    trade.status = SimulatedTrade.Status.CLOSED
    trade.closed_at = timezone.now()
    trade.save(update_fields=["status", "closed_at"])
    _send_event("checkout.session.expired", session_json(trade))


@endpoint
def session_retrieve(request, params, session_id):
    trade = _session(session_id)
    if trade is None:
        return _missing("checkout.session", session_id, "session")
    return _json(session_json(trade, _expands(params)))


@endpoint
def session_expire(request, params, session_id):
    trade = _session(session_id)
    if trade is None:
        return _missing("checkout.session", session_id, "session")
    if trade.status != SimulatedTrade.Status.WAITING:
        return error(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status '
            f'of "{STATUSES[trade.status]}".',
        )
    _expire(trade)
    return _json(session_json(trade))


# --- Refunds --------------------------------------------------------------------------------------


def _intent_trade(intent_id: str) -> SimulatedTrade | None:
    return _sessions().filter(extra__payment_intent=intent_id).first() if intent_id else None


@endpoint
def refunds(request, params):
    if request.method == "GET":
        trade = _intent_trade(params.get("payment_intent", ""))
        found = list(trade.refunds.order_by("-created_at")) if trade else []
        return _json(
            {"object": "list", "data": [refund_json(r) for r in found], "has_more": False, "url": "/v1/refunds"}
        )
    intent_id = params.get("payment_intent", "")
    trade = _intent_trade(intent_id)
    if trade is None:
        return _missing("payment_intent", intent_id, "payment_intent")
    try:
        amount = int(params.get("amount", trade.amount_fen - trade.refunded_fen))
    except ValueError:
        return error(400, "Invalid integer.", code="parameter_invalid_integer", param="amount")
    if trade.refunded_fen == trade.amount_fen:
        return error(400, f"Charge {trade.extra['charge']} has already been refunded.", code="charge_already_refunded")
    if amount <= 0 or trade.refunded_fen + amount > trade.amount_fen:
        left = minor_to_decimal(trade.amount_fen - trade.refunded_fen, trade.extra["currency"].upper())
        return error(
            400,
            f"Refund amount ({minor_to_decimal(amount, trade.extra['currency'].upper())}) is greater than unrefunded "
            f"amount on charge ({left})",
            code="amount_too_large",
            param="amount",
        )
    now = timezone.now()
    metadata = params.get("metadata", {})
    refund_id = _new_id("re")
    refund = SimulatedRefund.objects.create(
        trade=trade,
        out_refund_no=metadata.get("out_refund_no") or refund_id,
        refund_no=refund_id,
        amount_fen=amount,
        status=SimulatedRefund.Status.SUCCEEDED,
        succeeded_at=now,
    )
    trade.refunded_fen += amount
    trade.extra["refunds"][refund_id] = {
        "metadata": metadata,
        "reason": params.get("reason", ""),
        "txn": _new_id("txn"),
    }
    trade.save(update_fields=["refunded_fen", "extra"])
    body = refund_json(refund)
    _send_event("refund.created", body)
    return _json(body)


@endpoint
def refund_retrieve(request, params, refund_id):
    refund = SimulatedRefund.objects.filter(trade__gateway=GATEWAY, refund_no=refund_id).select_related("trade").first()
    if refund is None:
        return _missing("refund", refund_id, "refund")
    return _json(refund_json(refund))


# --- Balance transactions -------------------------------------------------------------------------


@endpoint
def balance_transactions(request, params):
    created = params.get("created", {})
    try:
        since = dt.datetime.fromtimestamp(int(created.get("gte", 0)), tz=dt.UTC)
        until = dt.datetime.fromtimestamp(int(created.get("lt", 2**31)), tz=dt.UTC)
    except (ValueError, AttributeError):
        return error(400, "Invalid created range.", param="created")
    expand = _expands(params)
    intent_expanded = "data.source.payment_intent" in expand
    source_expanded = intent_expanded or "data.source" in expand
    rows = []
    paid = SimulatedTrade.objects.filter(gateway=GATEWAY, merchant_id=ACCOUNT, paid_at__gte=since, paid_at__lt=until)
    for trade in paid:
        currency, fee = trade.extra["currency"], trade.extra["fee"]
        source = trade.extra["charge"]
        if source_expanded:
            source = charge_json(trade, intent=intent_json(trade) if intent_expanded else None)
        rows.append(_txn(trade.extra["charge_txn"], trade.paid_at, trade.amount_fen, fee, currency, "charge", source))
    refunded = SimulatedRefund.objects.filter(
        trade__gateway=GATEWAY, trade__merchant_id=ACCOUNT, succeeded_at__gte=since, succeeded_at__lt=until
    ).select_related("trade")
    for refund in refunded:
        trade = refund.trade
        source = refund.refund_no
        if source_expanded:
            source = refund_json(refund, intent=intent_json(trade) if intent_expanded else None)
        txn = trade.extra["refunds"][refund.refund_no]["txn"]
        rows.append(_txn(txn, refund.succeeded_at, -refund.amount_fen, 0, trade.extra["currency"], "refund", source))
    rows.sort(key=lambda row: row["created"], reverse=True)
    return _json({"object": "list", "data": rows, "has_more": False, "url": "/v1/balance_transactions"})


def _txn(txn_id, moment, amount, fee, currency, kind, source) -> dict:
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": _unix(moment + dt.timedelta(days=2)),
        "created": _unix(moment),
        "currency": currency,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [{"amount": fee, "currency": currency, "type": "stripe_fee", "description": "Stripe fees"}]
        if fee
        else [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "available",
        "type": kind,
    }


# --- Webhooks -------------------------------------------------------------------------------------


def _send_event(kind: str, obj: dict) -> None:
    event = {
        "id": _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(timezone.now().timestamp()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    notification_send(
        gateway=GATEWAY,
        url=settings.SITE_URL + reverse("payments:notify", kwargs={"channel": GATEWAY}),
        body=json.dumps(event),
        content_type="application/json; charset=utf-8",
    )


# --- The hosted Checkout page -----------------------------------------------------------------------


def _page(request, trade: SimulatedTrade, message: str = "", status: int = 200):
    currency = trade.extra["currency"].upper()
    context = {
        "trade": trade,
        "session_status": STATUSES[trade.status],
        "amount": f"{minor_to_decimal(trade.amount_fen, currency)} {currency}",
        "message": message,
    }
    return render(request, "simulators/stripe/checkout.html", context, status=status)


@sandbox_only
def checkout_page(request, session_id):
    with transaction.atomic():
        trade = _session(session_id)
    if trade is None:
        return HttpResponse("This Checkout Session does not exist.", status=404)
    return _page(request, trade)


@sandbox_only
def checkout_pay(request, session_id):
    if request.method != "POST":
        return HttpResponse(status=405)
    with transaction.atomic():
        trade = _session(session_id)
        if trade is None:
            return HttpResponse("This Checkout Session does not exist.", status=404)
        if trade.status != SimulatedTrade.Status.WAITING:
            return _page(request, trade, "This Checkout Session is no longer open.", status=400)
        card = "".join(request.POST.get("card_number", "").split())
        if card == DECLINED_CARD:
            return _page(request, trade, "Your card was declined.", status=402)
        if card != "4242424242424242":
            return _page(request, trade, "Your card number is invalid. Use a test card.", status=400)
        trade.status = SimulatedTrade.Status.PAID
        trade.paid_at = timezone.now()
        trade.buyer_id = request.POST.get("email", "") or "buyer@example.com"
        trade.extra.update(
            payment_intent=_new_id("pi"),
            charge=_new_id("ch"),
            charge_txn=_new_id("txn"),
            fee=stripe_fee(trade.amount_fen),
        )
        trade.save(update_fields=["status", "paid_at", "buyer_id", "extra"])
        _send_event("checkout.session.completed", session_json(trade))
    return HttpResponseRedirect(trade.return_url)


@sandbox_only
def checkout_cancel(request, session_id):
    # Like the "back" arrow on Stripe's page: the session stays open until it expires.
    trade = SimulatedTrade.objects.filter(gateway=GATEWAY, trade_no=session_id).first()
    if trade is None:
        return HttpResponse("This Checkout Session does not exist.", status=404)
    return HttpResponseRedirect(trade.extra["cancel_url"])
