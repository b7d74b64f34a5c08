import pytest
from django.urls import reverse

from accounts.models import User
from accounts.services import SignupError, user_signup
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


def test_mismatched_passwords_are_refused_and_the_typed_name_and_email_are_kept(client):
    response = client.post(SIGNUP, _form(password2="something-else-entirely"))

    assert response.status_code == 200
    assert response.context["form"].errors["password2"] == ["The two passwords differ."]
    assert 'value="meimei"' in response.text
    assert 'value="meimei@example.com"' in response.text
    assert not User.objects.filter(username="meimei").exists()


def test_a_username_taken_in_another_case_is_refused(client):
    UserFactory(username="MeiMei")

    response = client.post(SIGNUP, _form())

    assert response.context["form"].errors["username"] == ["That username is already taken."]
    assert User.objects.filter(username__iexact="meimei").count() == 1


def test_a_registered_email_is_refused(client):
    UserFactory(email="meimei@example.com")

    response = client.post(SIGNUP, _form(email="MEIMEI@example.com"))

    assert "An account with this e-mail address already exists." in response.context["form"].errors["email"]
    assert not User.objects.filter(username="meimei").exists()


def test_a_common_password_is_refused(client):
    response = client.post(SIGNUP, _form(password1="password", password2="password"))

    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(username="meimei").exists()


def test_signup_creates_the_account_and_logs_in(client):
    response = client.post(SIGNUP, _form())

    user = User.objects.get(username="meimei")
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:catalog")
    assert user.check_password("a-long-passphrase-9")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_follows_a_local_next_but_not_an_external_one(client):
    response = client.post(f"{SIGNUP}?next=https://evil.example/", _form())

    assert response["Location"] == reverse("courses:catalog")


def test_a_signed_in_user_is_sent_from_signup_to_the_profile(client, learner):
    client.force_login(learner)

    response = client.get(SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_user_signup_refuses_a_taken_email_with_a_code():
    UserFactory(email="taken@example.com")

    with pytest.raises(SignupError) as raised:
        user_signup(username="someone", email="taken@example.com", password="x-long-passphrase-1")

    assert raised.value.code == "email_taken"
    assert not User.objects.filter(username="someone").exists()


def test_user_signup_lowercases_the_email_domain():
    user = user_signup(username="someone", email="Someone@EXAMPLE.COM", password="x-long-passphrase-1")

    assert user.email == "Someone@example.com"


def test_after_a_form_error_the_signup_page_still_knows_where_the_learner_was_going(client):
    page = client.get(f"{SIGNUP}?next=/courses/python-101/")
    assert 'name="next" value="/courses/python-101/"' in page.text

    # The form posts to the bare sign-up URL, with `next` among its fields.
    response = client.post(SIGNUP, {**_form(password2="something-else-entirely"), "next": "/courses/python-101/"})

    assert 'name="next" value="/courses/python-101/"' in response.text
