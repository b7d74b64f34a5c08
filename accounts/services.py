"""Account business logic: signing up, becoming a creator, changing where payouts go."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import CreatorProfile, User
from knowpay.api import ServiceError
from knowpay.crypto import mask
from knowpay.mail import mail_enqueue


class SignupError(ServiceError):
    """The account cannot be created as asked; the message is fit to show the visitor."""


class CreatorProfileError(ServiceError):
    """The creator profile cannot be saved as asked; the message is fit to show the user."""


class SignupTokenGenerator(PasswordResetTokenGenerator):
    """One-time links that activate a new account; never valid as password-reset links."""

    key_salt = "accounts.services.SignupTokenGenerator"


signup_token_generator = SignupTokenGenerator()


def _hour_stamp() -> str:
    # At most one "someone tried to sign up" e-mail per account and hour, however often it is tried.
    return f"{timezone.now():%Y%m%d%H}"


@transaction.atomic
def user_signup(*, username: str, email: str, password: str, next_url: str = "") -> User | None:
    """Start a sign-up. The caller answers the same whatever happened, so nobody can learn from it
    which usernames or e-mail addresses are registered; the mailbox owner learns what happened:

    - a new username and address: an inactive account, and an e-mail whose link activates it;
    - an address registered (and confirmed) already: its owner is told, with a log-in link;
    - a username in use by someone else: the address is asked to choose another.

    An account never confirmed is taken over by a new sign-up with its address: only the person who
    reads that mailbox can activate it. `next_url` (a path on this site the caller checked) is
    where the link sends the learner once active. Returns the inactive account, or None.
    """
    email = BaseUserManager.normalize_email(email)
    # Hashing takes most of the time of a sign-up: done whatever the outcome, so that the answer's
    # timing does not tell either.
    password_hash = make_password(password)
    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is not None and (existing.is_active or existing.last_login is not None):
        mail_enqueue(
            topic="signup_existing",
            key=f"signup_existing:{existing.pk}:{_hour_stamp()}",
            to=existing.email,
            subject="Someone tried to sign up with your e-mail address",
            template="accounts/email/signup_existing.txt",
            context={"username": existing.username, "site_url": settings.SITE_URL},
        )
        return None
    holder = User.objects.filter(username__iexact=username).exclude(pk=getattr(existing, "pk", None)).first()
    if holder is not None:
        mail_enqueue(
            topic="signup_username_taken",
            key=f"signup_username_taken:{email.lower()}:{username.lower()}:{_hour_stamp()}"[:120],
            to=email,
            subject="Choose another username for KnowPay",
            template="accounts/email/signup_username_taken.txt",
            context={"username": username, "site_url": settings.SITE_URL},
        )
        return None
    try:
        with transaction.atomic():
            if existing is None:
                user = User.objects.create(username=username, email=email, password=password_hash, is_active=False)
            else:
                user = existing
                user.username = username
                user.password = password_hash
                user.save(update_fields=["username", "password"])
    except IntegrityError:
        # Someone took the name between our look and the insert: as if it had been taken before.
        return None
    token = signup_token_generator.make_token(user)
    path = reverse(
        "accounts:signup_confirm", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token}
    )
    if next_url:
        path += "?" + urlencode({"next": next_url})
    mail_enqueue(
        topic="signup_confirm",
        # The key names the link without containing it: keys are shown to staff.
        key=f"signup_confirm:{user.pk}:{hashlib.sha256(token.encode()).hexdigest()[:24]}",
        to=user.email,
        subject="Confirm your KnowPay account",
        template="accounts/email/signup_confirm.txt",
        context={"username": user.username, "confirm_url": settings.SITE_URL + path},
        secret=True,
    )
    return user


def user_signup_confirm(*, user: User, token: str) -> User:
    """Activate an account from its e-mailed link. Raises SignupError for a wrong or used link."""
    if user.is_active or not signup_token_generator.check_token(user, token):
        raise SignupError("This link is invalid or was used already.", code="bad_link")
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


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
        with transaction.atomic():
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
    password: str = "",
) -> CreatorProfile:
    """Change how a creator appears and where their payouts go.

    Changing the payout account or name needs the creator's password; the address on file is told
    of the change, and payouts are held for a while after it (payments.services.risk).

    Raises:
        CreatorProfileError: the payout details are half filled in, or changed without the right password.
    """
    _payout_check(payout_alipay_account=payout_alipay_account, payout_alipay_name=payout_alipay_name)
    profile = CreatorProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    old_account = profile.payout_alipay_account
    payout_changed = (old_account, profile.payout_alipay_name) != (payout_alipay_account, payout_alipay_name)
    if payout_changed and not profile.user.check_password(password):
        raise CreatorProfileError(
            "Enter your current password to change where your payouts go.", code="password_required"
        )
    profile.display_name = display_name
    profile.bio = bio
    fields = ["display_name", "bio", "updated_at"]
    if payout_changed:
        profile.payout_alipay_account = payout_alipay_account
        profile.payout_alipay_name = payout_alipay_name
        profile.payout_changed_at = timezone.now()
        fields += ["payout_alipay_account", "payout_alipay_name", "payout_changed_at"]
    profile.save(update_fields=fields)
    if payout_changed:
        mail_enqueue(
            topic="payout_account_changed",
            key=f"payout_account_changed:{profile.pk}:{profile.payout_changed_at.timestamp()}",
            to=profile.user.email,
            subject="Your payout account was changed",
            template="accounts/email/payout_account_changed.txt",
            context={
                "username": profile.user.username,
                "old_account": mask(old_account) or "(none)",
                "new_account": mask(payout_alipay_account) or "(none)",
                "changed_at": f"{timezone.localtime(profile.payout_changed_at):%Y-%m-%d %H:%M}",
                "hold_hours": settings.RISK_PAYOUT_ACCOUNT_COOLDOWN_HOURS,
            },
        )
    return profile
