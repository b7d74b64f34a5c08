from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import CreatorProfile, User


class CreatorProfileInline(admin.StackedInline):
    model = CreatorProfile
    can_delete = False
    extra = 0
    fields = ["display_name", "bio", "payout_alipay_account", "payout_alipay_name", "platform_fee_bps"]


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
class CreatorProfileAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "user",
        "payout_alipay_account",
        "payout_alipay_name",
        "platform_fee_bps",
        "created_at",
    ]
    list_filter = [("payout_alipay_account", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["display_name", "user__username", "user__email", "payout_alipay_account", "payout_alipay_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]
