"""Account business logic: signing up and becoming a creator."""

from django.contrib.auth.base_user import BaseUserManager
from django.db import IntegrityError, transaction

from accounts.models import CreatorProfile, User
from accounts.selectors import user_email_taken, user_username_taken
from knowpay.api import ServiceError


class SignupError(ServiceError):
    """The account cannot be created as asked; the message is fit to show the visitor."""


class CreatorProfileError(ServiceError):
    """The creator profile cannot be saved as asked; the message is fit to show the user."""


@transaction.atomic
def user_signup(*, username: str, email: str, password: str) -> User:
    """Create a learner account with a usable password.

    Raises:
        SignupError: the username or the e-mail address is already registered.
    """
    email = BaseUserManager.normalize_email(email)
    if user_username_taken(username=username):
        raise SignupError("That username is already taken.", code="username_taken")
    if user_email_taken(email=email):
        raise SignupError("An account with this e-mail address already exists.", code="email_taken")
    try:
        return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:
        # Someone signed up with the same name between our check and the insert.
        raise SignupError("That username or e-mail address was just taken.", code="account_taken") from exc


def _payout_check(*, payout_alipay_account: str, payout_alipay_name: str) -> None:
    # Alipay refuses a transfer whose real name does not match the account, so one without the other is useless.
    if bool(payout_alipay_account) != bool(payout_alipay_name):
        raise CreatorProfileError(
            "Enter both the Alipay account and the real name it is registered to, or neither.",
            code="payout_incomplete",
        )


@transaction.atomic
def creator_profile_create(
    *,
    user: User,
    display_name: str,
    bio: str = "",
    payout_alipay_account: str = "",
    payout_alipay_name: str = "",
) -> CreatorProfile:
    """Make `user` a creator.

    Raises:
        CreatorProfileError: the user already is a creator, or the payout details are half filled in.
    """
    _payout_check(payout_alipay_account=payout_alipay_account, payout_alipay_name=payout_alipay_name)
    if CreatorProfile.objects.filter(user=user).exists():
        raise CreatorProfileError("You already are a creator.", code="already_creator")
    try:
        return CreatorProfile.objects.create(
            user=user,
            display_name=display_name,
            bio=bio,
            payout_alipay_account=payout_alipay_account,
            payout_alipay_name=payout_alipay_name,
        )
    except IntegrityError as exc:
        # A double-submitted form: the first request created the profile.
        raise CreatorProfileError("You already are a creator.", code="already_creator") from exc


@transaction.atomic
def creator_profile_update(
    *,
    profile: CreatorProfile,
    display_name: str,
    bio: str,
    payout_alipay_account: str,
    payout_alipay_name: str,
) -> CreatorProfile:
    """Change how a creator appears and where their payouts go.

    Raises:
        CreatorProfileError: the payout details are half filled in.
    """
    _payout_check(payout_alipay_account=payout_alipay_account, payout_alipay_name=payout_alipay_name)
    profile.display_name = display_name
    profile.bio = bio
    profile.payout_alipay_account = payout_alipay_account
    profile.payout_alipay_name = payout_alipay_name
    profile.save(update_fields=["display_name", "bio", "payout_alipay_account", "payout_alipay_name", "updated_at"])
    return profile
