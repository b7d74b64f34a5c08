"""Changing where payouts go needs the password, tells the address on file, and is kept in history."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import CreatorProfile
from tests.factories import UserFactory
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db

EDIT = reverse("accounts:creator_edit")


def _form(profile, **overrides):
    return {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "payout_alipay_account": profile.payout_alipay_account,
        "payout_alipay_name": profile.payout_alipay_name,
        **overrides,
    }


def test_changing_the_payout_account_without_the_password_is_refused(client, creator):
    profile = creator.creator_profile
    before = profile.payout_alipay_account
    client.force_login(creator)

    response = client.post(EDIT, _form(profile, payout_alipay_account="13900139000"))

    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [
        "Enter your current password to change where your payouts go."
    ]
    profile.refresh_from_db()
    assert profile.payout_alipay_account == before
    assert profile.payout_changed_at is None


def test_a_wrong_password_is_refused_too(client, creator):
    client.force_login(creator)

    client.post(EDIT, _form(creator.creator_profile, payout_alipay_name="王五", password="not-my-password"))

    assert CreatorProfile.objects.get(user=creator).payout_alipay_name == "张三"


def test_with_the_password_the_change_is_saved_and_the_address_on_file_is_told(client, creator, committed):
    profile = creator.creator_profile
    old = profile.payout_alipay_account
    client.force_login(creator)

    response = committed(client.post, EDIT, _form(profile, payout_alipay_account="13900139000", password=PASSWORD))

    assert response["Location"] == reverse("accounts:profile")
    profile.refresh_from_db()
    assert profile.payout_alipay_account == "13900139000"
    assert profile.payout_changed_at is not None
    assert [message.to for message in mail.outbox] == [[creator.email]]
    body = mail.outbox[0].body
    assert "13*******00" in body  # masked, never the account itself
    assert "13900139000" not in body
    assert old not in body


def test_other_profile_fields_change_without_the_password(client, creator):
    client.force_login(creator)

    client.post(EDIT, _form(creator.creator_profile, display_name="New Name"))

    profile = CreatorProfile.objects.get(user=creator)
    assert profile.display_name == "New Name"
    assert profile.payout_changed_at is None
    assert mail.outbox == []


def test_the_change_is_kept_in_the_history_with_old_and_new_values_and_who_made_it(client, creator):
    profile = creator.creator_profile
    old = profile.payout_alipay_account
    client.force_login(creator)

    client.post(EDIT, _form(profile, payout_alipay_account="13900139000", password=PASSWORD))

    latest, previous = profile.history.order_by("-history_date")[:2]
    change = {c.field: (c.old, c.new) for c in latest.diff_against(previous).changes}
    assert change["payout_alipay_account"] == (old, "13900139000")
    assert latest.history_user == creator


def test_admin_history_shows_the_change_masked(client, creator):
    profile = creator.creator_profile
    client.force_login(creator)
    client.post(EDIT, _form(profile, payout_alipay_account="13900139000", password=PASSWORD))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:accounts_creatorprofile_history", args=[profile.pk]))

    assert page.status_code == 200
    assert "13*******00" in page.text
    assert "13900139000" not in page.text


def test_the_edit_page_shows_the_payout_account_only_masked(client, creator):
    account = creator.creator_profile.payout_alipay_account
    client.force_login(creator)

    page = client.get(EDIT).text

    assert account not in page
    assert f"{account[:2]}{'*' * (len(account) - 4)}{account[-2:]}" in page


def test_leaving_the_payout_fields_empty_keeps_the_account(client, creator):
    before = creator.creator_profile.payout_alipay_account
    client.force_login(creator)

    response = client.post(
        EDIT, {"display_name": "Renamed", "bio": "", "payout_alipay_account": "", "payout_alipay_name": ""}
    )

    profile = CreatorProfile.objects.get(user=creator)
    assert response["Location"] == reverse("accounts:profile")
    assert (profile.display_name, profile.payout_alipay_account) == ("Renamed", before)
    assert profile.payout_changed_at is None
