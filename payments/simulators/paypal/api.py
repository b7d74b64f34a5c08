"""The endpoints and pages of the local PayPal (see the package docstring for what they cover)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import json
import secrets
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from knowpay.money import CURRENCIES, MoneyFormatError, decimal_to_minor, minor_to_decimal
from payments.models import SimulatedRefund, SimulatedTrade
from payments.simulators.common import idempotent, notification_send, random_digits, sandbox_only
from payments.simulators.paypal.webhooks import CERT_NAME, cert_url, transmission_message, webhook_certificate

GATEWAY = "paypal"
UNIT = "/purchase_units/@reference_id=='default'/"
PATCHABLE = ("custom_id", "description", "invoice_id")
MESSAGES = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
}


def _now() -> str:
    return timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def paypal_fee(amount: int) -> int:
    """3.49 % (rounded half up) + 49 minor units, PayPal's standard rate for Checkout."""
    return (amount * 349 + 5000) // 10000 + 49


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def error(status: int, issue: str, description: str, **detail) -> HttpResponse:
    name, message = MESSAGES[status]
    return _json(
        {
            "name": name,
            "message": message,
            "debug_id": secrets.token_hex(7),
            "details": [{**detail, "issue": issue, "description": description}],
            "links": [
                {
                    "href": f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue}",
                    "rel": "information_link",
                }
            ],
        },
        status,
    )


def _token() -> str:
    """The access token this "PayPal" issues to our app (deterministic: nothing to remember)."""
    digest = hashlib.sha256(f"{settings.PAYPAL_CLIENT_ID}:{settings.PAYPAL_CLIENT_SECRET}".encode()).hexdigest()
    return f"A21AATESTONLY{digest[:40]}"


def endpoint(handler):
    """Bearer-token authentication, JSON bodies, PayPal-Request-Id on POST, one transaction."""

    @csrf_exempt
    @sandbox_only
    @functools.wraps(handler)
    def view(request, *args, **kwargs):
        if request.headers.get("Authorization") != f"Bearer {_token()}":
            return _json({"error": "invalid_token", "error_description": "Token signature verification failed"}, 401)
        try:
            body = json.loads(request.body) if request.body else {}
        except ValueError:
            return error(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
        with transaction.atomic():
            request_id = request.headers.get("PayPal-Request-Id", "")
            if request.method != "POST" or not request_id:
                return handler(request, body, *args, **kwargs)

            def answer():
                response = handler(request, body, *args, **kwargs)
                return response.status_code, response.content.decode()

            # PayPal answers a repeated request id with the first answer, whatever the new body.
            status, content = idempotent(
                gateway=GATEWAY, key=f"{request.path}:{request_id}", fingerprint="", answer=answer
            )
        return HttpResponse(content, status=status, content_type="application/json")

    return view


@csrf_exempt
@sandbox_only
def token(request):
    try:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, binascii.Error):
        scheme = client_id = secret = ""
    valid = (scheme, client_id, secret) == ("Basic", settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET)
    if request.method != "POST" or not valid or request.POST.get("grant_type") != "client_credentials":
        return _json({"error": "invalid_client", "error_description": "Client Authentication failed"}, 401)
    return _json(
        {
            "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/reporting/search/read",
            "access_token": _token(),
            "token_type": "Bearer",
            "app_id": "APP-TESTONLY0000000001",
            "expires_in": 32400,
            "nonce": f"{_now()}{secrets.token_hex(8)}",
        }
    )


# --- Orders -------------------------------------------------------------------------------------


def _orders():
    return SimulatedTrade.objects.select_for_update().filter(gateway=GATEWAY, merchant_id=settings.PAYPAL_CLIENT_ID)


def _money(currency: str, minor: int) -> dict:
    return {"currency_code": currency, "value": minor_to_decimal(minor, currency)}


def _links(trade: SimulatedTrade) -> list[dict]:
    base = f"{settings.SITE_URL}/sandbox/paypal/v2/checkout/orders/{trade.trade_no}"
    links = [{"href": base, "rel": "self", "method": "GET"}]
    if trade.extra["status"] in ("PAYER_ACTION_REQUIRED", "APPROVED"):
        approve = settings.SITE_URL + reverse("paypal-approve") + "?" + urlencode({"token": trade.trade_no})
        links.append({"href": approve, "rel": "payer-action", "method": "GET"})
    if trade.extra["status"] == "APPROVED":
        links.append({"href": f"{base}/capture", "rel": "capture", "method": "POST"})
    return links


def capture_json(trade: SimulatedTrade) -> dict:
    extra, capture = trade.extra, trade.extra["capture"]
    currency = extra["currency"]
    status = capture["status"]
    if status == "COMPLETED" and trade.refunded_fen:
        status = "REFUNDED" if trade.refunded_fen == trade.amount_fen else "PARTIALLY_REFUNDED"
    body = {
        "id": capture["id"],
        "status": status,
        "amount": _money(currency, trade.amount_fen),
        "final_capture": True,
        "invoice_id": extra["invoice_id"],
        "custom_id": extra["custom_id"],
        "create_time": capture["time"],
        "update_time": capture["time"],
        "supplementary_data": {"related_ids": {"order_id": trade.trade_no}},
    }
    if capture["status"] == "COMPLETED":
        body["seller_receivable_breakdown"] = {
            "gross_amount": _money(currency, trade.amount_fen),
            "paypal_fee": _money(currency, capture["fee"]),
            "net_amount": _money(currency, trade.amount_fen - capture["fee"]),
        }
    else:
        body["status_details"] = {"reason": "DECLINED"}
    return body


def order_json(trade: SimulatedTrade) -> dict:
    extra = trade.extra
    unit = {
        "reference_id": "default",
        "amount": _money(extra["currency"], trade.amount_fen),
        "invoice_id": extra["invoice_id"],
        "custom_id": extra["custom_id"],
        "description": extra["description"],
    }
    if extra.get("capture"):
        unit["payments"] = {"captures": [capture_json(trade)]}
    body = {
        "id": trade.trade_no,
        "intent": "CAPTURE",
        "status": extra["status"],
        "purchase_units": [unit],
        "create_time": _iso(trade.created_at),
        "update_time": extra["update_time"],
        "links": _links(trade),
    }
    if extra.get("payer"):
        body["payer"] = {key: value for key, value in extra["payer"].items() if key != "declines"}
        body["payment_source"] = {"paypal": {"email_address": extra["payer"]["email_address"]}}
    return body


@endpoint
def orders_create(request, body):
    if request.method != "POST":
        raise Http404
    if body.get("intent") != "CAPTURE":
        return error(422, "UNSUPPORTED_INTENT", "The local PayPal takes intent CAPTURE only.", field="/intent")
    units = body.get("purchase_units")
    if not isinstance(units, list) or len(units) != 1:
        return error(
            400, "MISSING_REQUIRED_PARAMETER", "Exactly one purchase unit is supported.", field="/purchase_units"
        )
    unit = units[0]
    amount = unit.get("amount", {})
    currency = amount.get("currency_code", "")
    if currency not in CURRENCIES:
        return error(
            422,
            "CURRENCY_NOT_SUPPORTED",
            "Currency code is not supported.",
            field="/purchase_units/@reference_id=='default'/amount/currency_code",
        )
    try:
        minor = decimal_to_minor(str(amount.get("value", "")), currency)
    except MoneyFormatError:
        return error(400, "INVALID_PARAMETER_VALUE", "The value of a field is invalid.", field=f"{UNIT}amount/value")
    if minor <= 0:
        return error(422, "AMOUNT_MUST_BE_POSITIVE", "The amount must be positive.", field=f"{UNIT}amount/value")
    context = body.get("payment_source", {}).get("paypal", {}).get("experience_context", {})
    if not str(context.get("return_url", "")).startswith(("http://", "https://")):
        return error(
            422,
            "MISSING_RETURN_URL",
            "return_url is required for a redirect.",
            field="/payment_source/paypal/experience_context/return_url",
        )
    order_id = f"{random_digits(1)}{secrets.token_hex(8).upper()}"[:17]
    trade = SimulatedTrade.objects.create(
        gateway=GATEWAY,
        merchant_id=settings.PAYPAL_CLIENT_ID,
        out_trade_no=order_id,
        trade_no=order_id,
        amount_fen=minor,
        subject=str(unit.get("description", ""))[:256],
        return_url=context["return_url"][:500],
        # An order nobody approves expires; PayPal documents 3 hours to redirect the payer.
        expires_at=timezone.now() + dt.timedelta(hours=3),
        extra={
            "status": "PAYER_ACTION_REQUIRED",
            "currency": currency,
            "invoice_id": str(unit.get("invoice_id", "")),
            "custom_id": str(unit.get("custom_id", "")),
            "description": str(unit.get("description", "")),
            "cancel_url": context.get("cancel_url", context["return_url"]),
            "update_time": _now(),
        },
    )
    return _json(order_json(trade), 201)


@endpoint
def order(request, body, order_id):
    trade = _orders().filter(trade_no=order_id).first()
    if trade is None:
        return error(
            404,
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist. Please check the resource ID and try again.",
            field="order_id",
            value=order_id,
            location="path",
        )
    if request.method == "GET":
        return _json(order_json(trade))
    if request.method != "PATCH":
        raise Http404
    if trade.extra["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
        return error(422, "ORDER_ALREADY_COMPLETED", "The order cannot be patched after it is completed.")
    if not isinstance(body, list):
        return error(400, "MALFORMED_REQUEST_JSON", "A PATCH body is a list of operations.")
    for operation in body:
        target = str(operation.get("path", "")).removeprefix(UNIT)
        if operation.get("op") not in ("replace", "add") or target not in PATCHABLE:
            return error(422, "NOT_PATCHABLE", "Cannot be patched.", field=operation.get("path", ""))
        trade.extra[target] = str(operation.get("value", ""))
    trade.extra["update_time"] = _now()
    trade.save(update_fields=["extra"])
    return HttpResponse(status=204)


@endpoint
def order_capture(request, body, order_id):
    if request.method != "POST":
        raise Http404
    trade = _orders().filter(trade_no=order_id).first()
    if trade is None:
        return error(
            404,
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
            field="order_id",
            value=order_id,
            location="path",
        )
    status = trade.extra["status"]
    if status == "COMPLETED":
        return error(
            422,
            "ORDER_ALREADY_CAPTURED",
            "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
        )
    if status != "APPROVED":
        return error(
            422,
            "ORDER_NOT_APPROVED",
            "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url "
            "returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in "
            "the request.",
        )
    if trade.extra["payer"].get("declines"):
        # Their card is refused; PayPal sends them back to choose another way (the order needs approval again).
        trade.extra.update(status="PAYER_ACTION_REQUIRED", payer={}, update_time=_now())
        trade.save(update_fields=["extra"])
        return error(
            422,
            "INSTRUMENT_DECLINED",
            "The instrument presented was either declined by the processor or bank, or it can't be used for this "
            "payment.",
        )
    invoice_id = trade.extra["invoice_id"]
    if (
        invoice_id
        and _orders()
        .filter(extra__invoice_id=invoice_id, status=SimulatedTrade.Status.PAID)
        .exclude(pk=trade.pk)
        .exists()
    ):
        return error(
            422,
            "DUPLICATE_INVOICE_ID",
            "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting "
            "requires that Invoice ID be unique for each transaction.",
        )
    now = timezone.now()
    trade.status = SimulatedTrade.Status.PAID
    trade.paid_at = now
    trade.buyer_id = trade.extra["payer"]["payer_id"]
    trade.extra.update(
        status="COMPLETED",
        update_time=_iso(now),
        capture={
            "id": f"{random_digits(1)}{secrets.token_hex(8).upper()}"[:17],
            "status": "COMPLETED",
            "time": _iso(now),
            "fee": paypal_fee(trade.amount_fen),
        },
        refunds={},
    )
    trade.save(update_fields=["status", "paid_at", "buyer_id", "extra"])
    _send_event("PAYMENT.CAPTURE.COMPLETED", "capture", capture_json(trade))
    return _json(order_json(trade), 201)


# --- Refunds ------------------------------------------------------------------------------------


def refund_json(refund: SimulatedRefund) -> dict:
    trade = refund.trade
    details = trade.extra["refunds"][refund.refund_no]
    currency = trade.extra["currency"]
    return {
        "id": refund.refund_no,
        "status": "COMPLETED",
        "amount": _money(currency, refund.amount_fen),
        "invoice_id": details["invoice_id"],
        "custom_id": details["custom_id"],
        "note_to_payer": details["note"],
        "seller_payable_breakdown": {
            "gross_amount": _money(currency, refund.amount_fen),
            "paypal_fee": _money(currency, 0),
            "net_amount": _money(currency, refund.amount_fen),
            "total_refunded_amount": _money(currency, trade.refunded_fen),
        },
        "create_time": _iso(refund.succeeded_at),
        "update_time": _iso(refund.succeeded_at),
        "links": [
            {
                "href": f"{settings.SITE_URL}/sandbox/paypal/v2/payments/refunds/{refund.refund_no}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{settings.SITE_URL}/sandbox/paypal/v2/payments/captures/{trade.extra['capture']['id']}",
                "rel": "up",
                "method": "GET",
            },
        ],
    }


@endpoint
def capture_refund(request, body, capture_id):
    if request.method != "POST":
        raise Http404
    trade = _orders().filter(extra__capture__id=capture_id, status=SimulatedTrade.Status.PAID).first()
    if trade is None:
        return error(
            404,
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
            field="capture_id",
            value=capture_id,
            location="path",
        )
    currency = trade.extra["currency"]
    left = trade.amount_fen - trade.refunded_fen
    if left == 0:
        return error(422, "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
    amount = body.get("amount")
    try:
        minor = decimal_to_minor(str(amount.get("value", "")), currency) if amount else left
    except MoneyFormatError:
        return error(400, "INVALID_PARAMETER_VALUE", "The value of a field is invalid.", field="/amount/value")
    if amount and amount.get("currency_code") != currency:
        return error(
            422,
            "REFUND_CURRENCY_MISMATCH",
            "Refund must be in the same currency as the capture.",
            field="/amount/currency_code",
        )
    if minor <= 0 or minor > left:
        return error(
            422,
            "REFUND_AMOUNT_EXCEEDED",
            "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
        )
    now = timezone.now()
    refund_id = f"{random_digits(1)}{secrets.token_hex(8).upper()}"[:17]
    refund = SimulatedRefund.objects.create(
        trade=trade,
        out_refund_no=str(body.get("custom_id") or refund_id)[:64],
        refund_no=refund_id,
        amount_fen=minor,
        status=SimulatedRefund.Status.SUCCEEDED,
        succeeded_at=now,
    )
    trade.refunded_fen += minor
    trade.extra["refunds"][refund_id] = {
        "invoice_id": str(body.get("invoice_id", "")),
        "custom_id": str(body.get("custom_id", "")),
        "note": str(body.get("note_to_payer", "")),
    }
    trade.save(update_fields=["refunded_fen", "extra"])
    reply = refund_json(refund)
    _send_event("PAYMENT.CAPTURE.REFUNDED", "refund", reply)
    return _json(reply, 201)


@endpoint
def refund_get(request, body, refund_id):
    refund = SimulatedRefund.objects.filter(trade__gateway=GATEWAY, refund_no=refund_id).select_related("trade").first()
    if refund is None:
        return error(
            404,
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
            field="refund_id",
            value=refund_id,
            location="path",
        )
    return _json(refund_json(refund))


# --- Transaction Search -------------------------------------------------------------------------


@endpoint
def transactions(request, body):
    try:
        since = dt.datetime.fromisoformat(request.GET["start_date"])
        until = dt.datetime.fromisoformat(request.GET["end_date"])
    except (KeyError, ValueError):
        return error(400, "INVALID_REQUEST", "start_date and end_date are required ISO 8601 times.")
    if until - since > dt.timedelta(days=31):
        return error(400, "INVALID_REQUEST", "Date range is greater than 31 days.")
    rows = []
    paid = SimulatedTrade.objects.filter(
        gateway=GATEWAY, merchant_id=settings.PAYPAL_CLIENT_ID, paid_at__gte=since, paid_at__lt=until
    )
    for trade in paid:
        currency, capture = trade.extra["currency"], trade.extra["capture"]
        rows.append(
            _transaction(
                capture["id"],
                "",
                "T0006",
                trade.paid_at,
                _money(currency, trade.amount_fen),
                _money(currency, -capture["fee"]),
                trade.extra["invoice_id"],
                trade.extra["custom_id"],
            )
        )
    refunds = SimulatedRefund.objects.filter(
        trade__gateway=GATEWAY,
        trade__merchant_id=settings.PAYPAL_CLIENT_ID,
        succeeded_at__gte=since,
        succeeded_at__lt=until,
    ).select_related("trade")
    for refund in refunds:
        trade = refund.trade
        details, currency = trade.extra["refunds"][refund.refund_no], trade.extra["currency"]
        rows.append(
            _transaction(
                refund.refund_no,
                trade.extra["capture"]["id"],
                "T1107",
                refund.succeeded_at,
                _money(currency, -refund.amount_fen),
                None,
                details["invoice_id"],
                details["custom_id"],
            )
        )
    page_size = int(request.GET.get("page_size", 100))
    page = int(request.GET.get("page", 1))
    pages = max(1, -(-len(rows) // page_size))
    return _json(
        {
            "transaction_details": rows[(page - 1) * page_size : page * page_size],
            "account_number": "TESTONLY0001",
            "start_date": request.GET["start_date"],
            "end_date": request.GET["end_date"],
            "last_refreshed_datetime": _now(),
            "page": page,
            "total_items": len(rows),
            "total_pages": pages,
        }
    )


def _transaction(transaction_id, reference, code, moment, amount, fee, invoice_id, custom) -> dict:
    info = {
        "transaction_id": transaction_id,
        "transaction_event_code": code,
        "transaction_initiation_date": _iso(moment),
        "transaction_updated_date": _iso(moment),
        "transaction_amount": amount,
        "transaction_status": "S",
        "invoice_id": invoice_id,
        "custom_field": custom,
    }
    if reference:
        info["paypal_reference_id"] = reference
        info["paypal_reference_id_type"] = "TXN"
    if fee is not None:
        info["fee_amount"] = fee
    return {"transaction_info": info}


# --- Webhooks -----------------------------------------------------------------------------------


def _send_event(event_type: str, resource_type: str, resource: dict) -> None:
    event = {
        "id": f"WH-{secrets.token_hex(10).upper()}",
        "event_version": "1.0",
        "create_time": _now(),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": event_type.replace(".", " ").lower(),
        "resource": resource,
    }
    notification_send(
        gateway=GATEWAY,
        url=settings.SITE_URL + reverse("payments:notify", kwargs={"channel": GATEWAY}),
        body=json.dumps(event),
        content_type="application/json",
    )


@endpoint
def verify_webhook(request, body):
    """FAILURE unless the transmission signature is ours, over this event, for this webhook id."""
    fields = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
    if (
        request.method != "POST"
        or not all(isinstance(body.get(name), str) for name in fields)
        or not isinstance(body.get("webhook_event"), dict)
    ):
        return error(400, "MISSING_REQUIRED_PARAMETER", "A required field is missing.")
    # The event as this PayPal serialised it when sending; the caller's copy must be the same object.
    message = transmission_message(
        body["transmission_id"],
        body["transmission_time"],
        body["webhook_id"],
        json.dumps(body["webhook_event"]).encode(),
    )
    verified = (
        body["auth_algo"] == "SHA256withRSA"
        and body["cert_url"] == cert_url()
        and body["webhook_id"] == settings.PAYPAL_WEBHOOK_ID
    )
    if verified:
        try:
            webhook_certificate().public_key().verify(
                base64.b64decode(body["transmission_sig"], validate=True), message, padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, binascii.Error, ValueError):
            verified = False
    return _json({"verification_status": "SUCCESS" if verified else "FAILURE"})


@sandbox_only
def cert(request, name):
    if name != CERT_NAME:
        raise Http404
    return HttpResponse(
        webhook_certificate().public_bytes(serialization.Encoding.PEM), content_type="application/x-pem-file"
    )


# --- The payer's pages ----------------------------------------------------------------------------


def _page_trade(order_id: str) -> SimulatedTrade:
    trade = SimulatedTrade.objects.filter(gateway=GATEWAY, trade_no=order_id).first()
    if trade is None:
        raise Http404("No such order.")
    return trade


@sandbox_only
def approve_page(request):
    trade = _page_trade(request.GET.get("token", ""))
    currency = trade.extra["currency"]
    open_for_approval = trade.extra["status"] == "PAYER_ACTION_REQUIRED" and trade.expires_at > timezone.now()
    context = {
        "trade": trade,
        "amount": f"{minor_to_decimal(trade.amount_fen, currency)} {currency}",
        "open": open_for_approval,
        "status": trade.extra["status"],
    }
    return render(request, "simulators/paypal/approve.html", context)


@sandbox_only
def approve(request, order_id):
    if request.method != "POST":
        raise Http404
    with transaction.atomic():
        trade = _orders().filter(trade_no=order_id).first()
        if trade is None or trade.extra["status"] != "PAYER_ACTION_REQUIRED" or trade.expires_at <= timezone.now():
            return HttpResponse("This order cannot be approved.", status=400)
        payer_id = f"TESTBUYER{random_digits(4)}"
        trade.extra.update(
            status="APPROVED",
            update_time=_now(),
            payer={
                "payer_id": payer_id,
                "email_address": "buyer@example.com",
                "name": {"given_name": "Test", "surname": "Buyer"},
                "declines": request.POST.get("funding") == "declining-card",
            },
        )
        trade.save(update_fields=["extra"])
        _send_event("CHECKOUT.ORDER.APPROVED", "checkout-order", order_json(trade))
    separator = "&" if "?" in trade.return_url else "?"
    return HttpResponseRedirect(f"{trade.return_url}{separator}{urlencode({'token': order_id, 'PayerID': payer_id})}")


@sandbox_only
def approve_cancel(request, order_id):
    trade = _page_trade(order_id)
    separator = "&" if "?" in trade.extra["cancel_url"] else "?"
    return HttpResponseRedirect(f"{trade.extra['cancel_url']}{separator}{urlencode({'token': order_id})}")
