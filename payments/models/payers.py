from django.conf import settings
from django.db import models
from django.db.models import Q


class PayerOpenid(models.Model):
    """A learner's id at one of our apps at a gateway (WeChat's openid), for methods that need it.

    Learned only from the gateway's web authorisation (a one-time code exchanged server to server),
    never from the browser. Openids differ per app, so there is one per learner, channel and app id.
    """

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payer_openids")
    channel = models.CharField(max_length=20)
    app_id = models.CharField(max_length=64)
    openid = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "channel", "app_id"], name="payer_openid_one_per_app"),
            models.CheckConstraint(
                condition=~Q(openid="") & ~Q(app_id="") & ~Q(channel=""), name="payer_openid_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.app_id}:{self.openid}"
