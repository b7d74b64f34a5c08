"""Shared API plumbing: one error envelope for every error, and input fields stricter than DRF's.

Every error leaves the API as `{"error": {"code": ..., "message": ..., "fields": {...}}}`: a
refused business rule, a validation error (with `fields` naming each bad input), a missing or
refused credential, an unknown URL, a throttled request and a server error alike.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


class ServiceError(Exception):
    """A business rule refused the request; `message` is fit to show the user.

    Services raise subclasses of this; views show the message, the API answers 400 (or `status`).
    """

    status = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """{"amount_fen": ["..."], "lines.0.title": ["..."]} from DRF's nested error detail."""
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for name, value in detail.items():
            fields.update(_field_errors(value, f"{prefix}{name}."))
        return fields
    if isinstance(detail, list) and detail and all(isinstance(item, (dict, list)) for item in detail):
        fields = {}
        for index, value in enumerate(detail):
            fields.update(_field_errors(value, f"{prefix}{index}."))
        return fields
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix.rstrip(".") or "non_field_errors": messages}


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message), status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: handler500 answers it in the envelope
    if isinstance(exc, ValidationError):
        fields = _field_errors(exc.detail)
        first = next(iter(fields.values()))[0] if fields else "Invalid input."
        message = first if list(fields) == ["non_field_errors"] else "Some of the input is not valid."
        response.data = error_body("invalid", message, {} if list(fields) == ["non_field_errors"] else fields)
        return response
    # DRF answered {"detail": ErrorDetail(code=...)} (Http404 and PermissionDenied converted to its own);
    # simplejwt's token errors add "code" beside it.
    data = response.data if isinstance(response.data, dict) else {"detail": response.data}
    detail = data.get("detail", "")
    code = data.get("code") or getattr(detail, "code", None) or getattr(exc, "default_code", None) or "error"
    response.data = error_body(str(code), str(detail))
    return response


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; try again shortly."
    default_code = "idempotency_in_progress"


class Unprocessable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_key_reused"


# --- Django-level answers for /api/ URLs (no view matched, or a view crashed) ---------------------


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)
    return defaults.server_error(request)


# --- Input fields ---------------------------------------------------------------------------------

_ASCII_INTEGER = re.compile(r"\A[0-9]{1,18}\Z")


class AsciiIntegerField(serializers.IntegerField):
    """An integer written with ASCII digits only, as the HTML forms accept it.

    DRF's IntegerField takes whatever Python's int() takes: full-width and other Unicode digits,
    underscores ("1_000"), surrounding spaces, "12.0". Amounts are either a JSON integer or a
    string of at most 18 ASCII digits (so never above 2^63).
    """

    default_error_messages = {"invalid": "Enter a whole number written with the digits 0-9."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            value = data
        elif isinstance(data, str) and _ASCII_INTEGER.match(data):
            value = int(data)
        else:
            self.fail("invalid")
        return super().to_internal_value(value)


# --- OpenAPI: the error envelope on every operation ------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Machine-readable, e.g. `invalid`, `not_found`."},
                "message": {"type": "string", "description": "Fit to show the user."},
                "fields": {
                    "type": "object",
                    "description": "For invalid input: each bad field with its messages.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input, or a business rule refused the request.",
    "401": "No valid credentials (send a bearer token or a session cookie).",
    "403": "Signed in, but not allowed.",
    "404": "No such object among the caller's own.",
    "409": "The same Idempotency-Key is still being processed.",
    "422": "The Idempotency-Key was used with a different request.",
    "429": "Too many requests; see Retry-After.",
    "502": "The payment gateway failed.",
}


def error_responses_hook(result, generator, request, public):
    """drf-spectacular postprocessing: document the error envelope for the errors each operation can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["401", "403", "429"]
            if method in ("post", "put", "patch", "delete"):
                codes.append("400")
            if "{" in path:
                codes.append("404")
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                codes += ["409", "422"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": _ERROR_DESCRIPTIONS[code], "content": reference})
            if "502" in responses:
                responses["502"] = {"description": _ERROR_DESCRIPTIONS["502"], "content": reference}
    return result
