"""Idempotency-Key for the API's money POSTs: the same key and request replay the first answer.

The key is claimed (inserted, unique per user) before the work starts, so of two concurrent
requests with one key only the first does the work; the other is told to retry (409) and then
gets the stored answer. A key used with another request (method, path or body) is refused (422).
Only successful answers are stored: a refused or failed request leaves the key free to retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from payments.models import IdempotencyKey


class IdempotencyInProgress(Exception):
    """The first request with this key has not finished."""


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request."""


@dataclass(frozen=True)
class IdempotencyClaim:
    record: IdempotencyKey | None  # this request does the work and then finishes the record
    replay_status: int | None = None
    replay_body: object = None


def idempotency_fingerprint(*, method: str, path: str, data) -> str:
    if hasattr(data, "lists"):  # a QueryDict from a form-encoded or multipart body
        data = dict(data.lists())
    canonical = json.dumps([method, path, data], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_claim(*, user: User, key: str, fingerprint: str) -> IdempotencyClaim:
    """Claim `key` for this request, or find the answer of the request that claimed it.

    Raises:
        IdempotencyInProgress: that request is still running.
        IdempotencyKeyReused: the key belongs to a different request.
    """
    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=cutoff).delete()  # expired: free again
    try:
        with transaction.atomic():
            return IdempotencyClaim(IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint))
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.get(user=user, key=key)
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.status != IdempotencyKey.Status.DONE:
        raise IdempotencyInProgress()
    return IdempotencyClaim(None, existing.response_status, existing.response_body)


def idempotency_key_finish(*, record: IdempotencyKey, status: int, body) -> None:
    """Store the answer to replay; an answer that is not a success frees the key instead."""
    if not 200 <= status < 300:
        idempotency_key_release(record=record)
        return
    record.status = IdempotencyKey.Status.DONE
    record.response_status = status
    record.response_body = json.loads(json.dumps(body, default=str))
    record.save(update_fields=["status", "response_status", "response_body", "updated_at"])


def idempotency_key_release(*, record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS).delete()


def idempotency_keys_expire(*, now: dt.datetime | None = None) -> int:
    """Forget keys older than IDEMPOTENCY_KEY_HOURS (periodic)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
