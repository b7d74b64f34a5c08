"""Idempotency-Key records of the API's money POSTs (payments.services.idempotency)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class IdempotencyKey(models.Model):
    """One client's key: the request it was first used with, and the answer to replay.

    Inserted before the work starts, so a concurrent duplicate finds it (unique per user and key)
    and waits for nothing: it is told to retry, and later gets the stored answer.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of method, path and body: another request under the same key is refused (422).
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(response_status__isnull=False), name="idempotency_done_has_answer"
            ),
        ]

    def __str__(self) -> str:
        return self.key
