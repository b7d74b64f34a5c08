from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from knowpay.crypto import EncryptedCharField


class User(AbstractUser):
    """A person on the platform: a learner, and a creator once they have a CreatorProfile."""

    email = models.EmailField("email address", unique=True)

    REQUIRED_FIELDS = ["email"]

    @property
    def is_creator(self) -> bool:
        return hasattr(self, "creator_profile")


class CreatorProfile(models.Model):
    """What makes a user a creator: how they appear on their courses, and where payouts go."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="creator_profile")
    display_name = models.CharField(max_length=80)
    bio = models.TextField(blank=True)
    # Alipay transfers need the payee's login id (phone or e-mail) and their real name to match.
    # Both are encrypted at rest (FIELD_ENCRYPTION_KEYS) and shown masked.
    payout_alipay_account = EncryptedCharField(max_length=100, blank=True)
    payout_alipay_name = EncryptedCharField(max_length=60, blank=True)
    # When the payout account or name last changed: payouts are held for a while after (risk rules).
    payout_changed_at = models.DateTimeField(null=True, blank=True)
    # Basis points of each sale kept by the platform; empty means the PLATFORM_FEE_BPS default.
    platform_fee_bps = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Every change with its old and new values, and who made it (shown in admin).
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(platform_fee_bps__isnull=True) | Q(platform_fee_bps__lte=10000),
                name="creator_fee_bps_at_most_100_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name
