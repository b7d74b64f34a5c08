"""Input validation for the account pages; saving is left to accounts.services."""

import hashlib
import re

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse

from accounts.models import CreatorProfile, User
from knowpay.mail import mail_enqueue

_MAINLAND_MOBILE = re.compile(r"\A1\d{10}\Z")


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    # No "already taken" errors here: whether a username or address is registered is never shown
    # (accounts.services.user_signup tells the mailbox owner instead).

    def clean(self) -> dict:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", ValidationError("The two passwords differ.", code="password_mismatch"))
        elif password1:
            # An unsaved user lets the similarity validator compare the password with the name and e-mail.
            candidate = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class CreatorProfileForm(forms.ModelForm):
    """Validates against the model's own limits; accounts.services writes the profile.

    On the edit page, `password` is asked for: a change of the payout account or name needs it.
    """

    password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change the payout account or name.",
    )

    class Meta:
        model = CreatorProfile
        fields = ["display_name", "bio", "payout_alipay_account", "payout_alipay_name"]
        labels = {
            "display_name": "Display name",
            "bio": "About you",
            "payout_alipay_account": "Alipay account for payouts",
            "payout_alipay_name": "Real name on that Alipay account",
        }
        help_texts = {
            "display_name": "Shown on your courses.",
            "payout_alipay_account": "The mobile number or e-mail address you log in to Alipay with.",
            "payout_alipay_name": "Alipay only pays out when this matches the account holder's name.",
        }

    def clean_payout_alipay_account(self) -> str:
        account = self.cleaned_data["payout_alipay_account"].strip()
        if not account or _MAINLAND_MOBILE.match(account):
            return account
        try:
            validate_email(account)
        except ValidationError:
            raise ValidationError(
                "Enter an 11-digit mobile number or an e-mail address.", code="invalid_alipay_account"
            ) from None
        return account


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's password reset, with the e-mail sent through the outbox like every other message."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        user = context["user"]
        path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        mail_enqueue(
            topic="password_reset",
            # The key names the link without containing it: keys are shown to staff.
            key=f"password_reset:{user.pk}:{hashlib.sha256(context['token'].encode()).hexdigest()[:24]}",
            to=to_email,
            subject="Reset your KnowPay password",
            template="accounts/email/password_reset.txt",
            context={"username": user.get_username(), "reset_url": settings.SITE_URL + path},
            secret=True,
        )
