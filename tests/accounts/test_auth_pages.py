import pytest
from django.urls import reverse

from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def test_wrong_password_is_refused_and_the_username_is_kept(client, learner):
    response = client.post(reverse("accounts:login"), {"username": learner.username, "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert f'value="{learner.username}"' in response.text
    assert "_auth_user_id" not in client.session


def test_login_sends_the_user_to_the_catalog(client, learner):
    response = client.post(reverse("accounts:login"), {"username": learner.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("courses:catalog")
    assert client.session["_auth_user_id"] == str(learner.pk)


def test_logout_by_get_is_refused(client, learner):
    client.force_login(learner)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(learner.pk)


def test_logout_by_post_logs_out(client, learner):
    client.force_login(learner)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_with_a_wrong_old_password_is_refused(client, learner):
    client.force_login(learner)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": "new-passphrase-42", "new_password2": "new-passphrase-42"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    learner.refresh_from_db()
    assert learner.check_password(PASSWORD)


def test_password_change_sets_the_new_password_and_shows_the_done_page(client, learner):
    client.force_login(learner)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "new-passphrase-42", "new_password2": "new-passphrase-42"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("accounts:password_change_done")
    assert "Your password has been changed" in response.text
    learner.refresh_from_db()
    assert learner.check_password("new-passphrase-42")


@pytest.mark.parametrize("name", ["profile", "password_change", "creator_create", "creator_edit"])
def test_account_pages_need_a_login(client, name):
    response = client.get(reverse(f"accounts:{name}"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
