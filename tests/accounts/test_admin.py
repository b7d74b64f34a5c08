import pytest
from django.urls import reverse

from accounts.models import User
from tests.admin_helpers import form_data, staff_with
from tests.factories import CreatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url_name",
    ["admin:accounts_user_changelist", "admin:accounts_user_add", "admin:accounts_creatorprofile_changelist"],
)
def test_account_admin_pages_open_for_staff(staff_client, url_name):
    CreatorFactory()

    response = staff_client.get(reverse(url_name), {"q": "user"} if url_name.endswith("changelist") else {})

    assert response.status_code == 200


def test_the_user_list_filters_creators(staff_client):
    creator = CreatorFactory()
    learner = UserFactory()

    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"creator_profile__isempty": "0"})

    usernames = [user.username for user in response.context["cl"].result_list]
    assert creator.username in usernames
    assert learner.username not in usernames


def test_staff_add_a_user_with_an_email(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "added",
            "email": "added@example.com",
            "usable_password": "true",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="added").email == "added@example.com"


def test_staff_who_may_change_users_cannot_make_anyone_a_superuser(client):
    editor = staff_with("accounts.view_user", "accounts.change_user")
    client.force_login(editor)
    url = reverse("admin:accounts_user_change", args=[editor.pk])
    data = form_data(client.get(url))

    client.post(url, {**data, "first_name": "Ed", "is_superuser": "on", "is_staff": "on"})

    editor.refresh_from_db()
    assert editor.first_name == "Ed"
    assert not editor.is_superuser


def test_a_superuser_can_make_someone_staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    someone = UserFactory()
    url = reverse("admin:accounts_user_change", args=[someone.pk])

    client.post(url, {**form_data(client.get(url)), "is_staff": "on"})

    assert User.objects.get(pk=someone.pk).is_staff
