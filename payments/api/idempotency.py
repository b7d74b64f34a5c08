"""The Idempotency-Key header on the API's money POSTs (payments.services.idempotency does the work)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from knowpay.api import Conflict, Unprocessable
from payments.services.idempotency import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    idempotency_fingerprint,
    idempotency_key_claim,
    idempotency_key_finish,
    idempotency_key_release,
)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique value per intended operation (e.g. a UUID). Sending the same key with the same body "
        "replays the first answer instead of acting again; the same key with another body is refused "
        "(422); while the first is still running, 409."
    ),
)


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Make an APIView's POST honour Idempotency-Key (optional: without it, every call acts)."""

    @wraps(method)
    def wrapper(view, request: Request, *args, **kwargs) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return method(view, request, *args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
            raise ValidationError({"Idempotency-Key": ["Use 1 to 255 printable ASCII characters."]})
        fingerprint = idempotency_fingerprint(method=request.method, path=request.path, data=request.data)
        try:
            claim = idempotency_key_claim(user=request.user, key=key, fingerprint=fingerprint)
        except IdempotencyKeyReused:
            raise Unprocessable() from None
        except IdempotencyInProgress:
            raise Conflict() from None
        if claim.record is None:
            return Response(claim.replay_body, status=claim.replay_status, headers={"Idempotent-Replayed": "true"})
        try:
            response = method(view, request, *args, **kwargs)
        except BaseException:
            idempotency_key_release(record=claim.record)
            raise
        idempotency_key_finish(record=claim.record, status=response.status_code, body=response.data)
        return response

    return wrapper
