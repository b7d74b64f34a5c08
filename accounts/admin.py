from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import CreatorProfile, User
from knowpay.crypto import mask
from knowpay.history import HistoryAdmin


class MaskedPayoutFields:
    """The payout identity is encrypted at rest and only ever shown masked; creators change it
    themselves (with their password, and an e-mail to them), never through admin."""

    @admin.display(description="Payout Alipay account")
    def payout_account(self, profile: CreatorProfile) -> str:
        return mask(profile.payout_alipay_account) or "-"

    @admin.display(description="Real name on it")
    def payout_name(self, profile: CreatorProfile) -> str:
        return mask(profile.payout_alipay_name, keep=1) or "-"


class CreatorProfileInline(MaskedPayoutFields, admin.StackedInline):
    model = CreatorProfile
    can_delete = False
    extra = 0
    fields = ["display_name", "bio", "payout_account", "payout_name", "payout_changed_at", "platform_fee_bps"]
    readonly_fields = ["payout_account", "payout_name", "payout_changed_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_creator", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", ("creator_profile", admin.EmptyFieldListFilter)]
    search_fields = ["username", "email", "first_name", "last_name", "creator_profile__display_name"]
    list_select_related = ["creator_profile"]
    # E-mail is unique and required on our user, so it is asked for when staff add someone.
    add_fieldsets = (
        (None, {"classes": ["wide"], "fields": ["username", "email", "usable_password", "password1", "password2"]}),
    )

    def get_readonly_fields(self, request, obj=None):
        # change_user edits people's details; who is staff and what they may do only a superuser decides,
        # or anyone who may change users could make themselves a superuser.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def get_inlines(self, request, obj):
        # The profile belongs to an existing user; the add page only creates the account.
        return [CreatorProfileInline] if obj else []

    @admin.display(boolean=True, description="Creator")
    def is_creator(self, user: User) -> bool:
        return user.is_creator


@admin.register(CreatorProfile)
class CreatorProfileAdmin(MaskedPayoutFields, HistoryAdmin):
    list_display = ["display_name", "user", "payout_account", "payout_changed_at", "platform_fee_bps", "created_at"]
    list_filter = [("payout_alipay_account", admin.EmptyFieldListFilter), "payout_changed_at", "created_at"]
    # Encrypted columns cannot be searched.
    search_fields = ["display_name", "user__username", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    fields = [
        "user",
        "display_name",
        "bio",
        "payout_account",
        "payout_name",
        "payout_changed_at",
        "platform_fee_bps",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["payout_account", "payout_name", "payout_changed_at", "created_at", "updated_at"]
