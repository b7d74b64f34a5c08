from django.db import models
from django.db.models import Q


class SweepFailure(models.Model):
    """A row a periodic sweep could not process: retried with backoff while the sweep goes on with the
    others, shown to staff until it succeeds (then it is deleted)."""

    sweep = models.CharField(max_length=40)
    # The row the sweep works on, e.g. ("payments.order", 42).
    model_label = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField()

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "object_id"], name="sweep_failure_one_per_row"),
            models.CheckConstraint(condition=Q(attempts__gte=1), name="sweep_failure_attempted"),
        ]

    def __str__(self) -> str:
        return f"{self.sweep} {self.model_label} #{self.object_id} ({self.attempts}x)"
