"""Sign-up never tells whether a username or an e-mail address is registered: every valid sign-up
gets the same page, and the mailbox owner learns by e-mail what happened."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.services import user_signup
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("accounts:signup")


def _form(**overrides):
    return {
        "username": "meimei",
        "email": "meimei@example.com",
        "password1": "a-long-passphrase-9",
        "password2": "a-long-passphrase-9",
        **overrides,
    }


def _confirm_link(message) -> str:
    return re.search(r"https?://\S+/signup/confirm/\S+/", message.body).group(0).split("testserver", 1)[-1]


def _page_without_names(response) -> str:
    # The page echoes the typed address; everything else must be identical.
    return response.text.replace("meimei@example.com", "").replace("MEIMEI@example.com", "")


def test_mismatched_passwords_are_refused_and_the_typed_name_and_email_are_kept(client):
    response = client.post(SIGNUP, _form(password2="something-else-entirely"))

    assert response.status_code == 200
    assert response.context["form"].errors["password2"] == ["The two passwords differ."]
    assert 'value="meimei"' in response.text
    assert 'value="meimei@example.com"' in response.text
    assert not User.objects.filter(username="meimei").exists()


def test_a_common_password_is_refused(client):
    response = client.post(SIGNUP, _form(password1="password", password2="password"))

    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(username="meimei").exists()


def test_a_taken_username_a_taken_email_and_a_free_pair_get_the_same_page(client):
    free = client.post(SIGNUP, _form())
    User.objects.filter(username="meimei").delete()
    UserFactory(username="MeiMei", email="someone-else@example.com")
    taken_name = client.post(SIGNUP, _form())
    UserFactory(username="other", email="meimei@example.com")
    taken_email = client.post(SIGNUP, _form(username="fresh-name"))

    assert free.status_code == taken_name.status_code == taken_email.status_code == 200
    assert _page_without_names(free) == _page_without_names(taken_name) == _page_without_names(taken_email)


def test_a_free_signup_creates_an_inactive_account_and_mails_a_confirmation_link(client, settings, committed):
    settings.SITE_URL = "http://testserver"

    committed(client.post, SIGNUP, _form())

    user = User.objects.get(username="meimei")
    assert not user.is_active
    assert user.check_password("a-long-passphrase-9")
    assert "_auth_user_id" not in client.session
    assert [message.to for message in mail.outbox] == [["meimei@example.com"]]
    assert "/signup/confirm/" in mail.outbox[0].body


def test_the_confirmation_link_activates_the_account_and_logs_in_once(client, settings, committed):
    settings.SITE_URL = "http://testserver"
    committed(client.post, SIGNUP, _form())
    link = _confirm_link(mail.outbox[0])

    assert client.get(link).status_code == 200  # a button, so a mail scanner changes nothing
    assert not User.objects.get(username="meimei").is_active
    response = client.post(link)

    user = User.objects.get(username="meimei")
    assert user.is_active
    assert response["Location"] == reverse("courses:catalog")
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    client.post(link)
    assert "_auth_user_id" not in client.session


def test_a_registered_email_gets_a_message_to_its_owner_and_no_account_is_made(client, committed):
    owner = UserFactory(username="owner", email="meimei@example.com")

    committed(client.post, SIGNUP, _form(email="MEIMEI@example.com"))

    assert not User.objects.filter(username="meimei").exists()
    assert [message.to for message in mail.outbox] == [[owner.email]]
    assert "You already" in mail.outbox[0].body
    assert "username owner" in mail.outbox[0].body


def test_a_username_taken_in_another_case_makes_no_account_and_tells_the_address(client, committed):
    UserFactory(username="MeiMei", email="someone-else@example.com")

    committed(client.post, SIGNUP, _form())

    assert User.objects.filter(username__iexact="meimei").count() == 1
    assert [message.to for message in mail.outbox] == [["meimei@example.com"]]
    assert "in use already" in mail.outbox[0].body


def test_repeated_attempts_on_a_registered_address_mail_its_owner_once_an_hour(client, committed):
    UserFactory(email="meimei@example.com")

    for _ in range(3):
        committed(client.post, SIGNUP, _form())

    assert len(mail.outbox) == 1


def test_an_unconfirmed_account_is_taken_over_by_whoever_confirms_the_address(client, settings, committed):
    settings.SITE_URL = "http://testserver"
    committed(user_signup, username="squatter", email="meimei@example.com", password="squatters-passphrase-1")

    committed(client.post, SIGNUP, _form())

    user = User.objects.get(email="meimei@example.com")
    assert (user.username, user.is_active) == ("meimei", False)
    assert user.check_password("a-long-passphrase-9")
    client.post(_confirm_link(mail.outbox[-1]))
    assert User.objects.get(pk=user.pk).is_active


def test_signup_is_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "2/h"}

    replies = [client.post(SIGNUP, _form(username=f"meimei{i}", email=f"m{i}@example.com")) for i in range(3)]

    assert [reply.status_code for reply in replies] == [200, 200, 429]
    assert int(replies[-1]["Retry-After"]) > 0
    assert User.objects.count() == 2


def test_a_signed_in_user_is_sent_from_signup_to_the_profile(client, learner):
    client.force_login(learner)

    response = client.get(SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_user_signup_lowercases_the_email_domain():
    user = user_signup(username="someone", email="Someone@EXAMPLE.COM", password="x-long-passphrase-1")

    assert user.email == "Someone@example.com"


def test_after_a_form_error_the_signup_page_still_knows_where_the_learner_was_going(client):
    page = client.get(f"{SIGNUP}?next=/courses/python-101/")
    assert 'name="next" value="/courses/python-101/"' in page.text

    # The form posts to the bare sign-up URL, with `next` among its fields.
    response = client.post(SIGNUP, {**_form(password2="something-else-entirely"), "next": "/courses/python-101/"})

    assert 'name="next" value="/courses/python-101/"' in response.text
