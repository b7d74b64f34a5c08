"""Bearer tokens for non-browser clients beside the session; a password change revokes them."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = reverse("api:token-obtain")
REFRESH = reverse("api:token-refresh")
REVOKE = reverse("api:token-revoke")
ME = reverse("api:me")


def _tokens(user) -> dict:
    response = APIClient().post(TOKEN, {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def _bearer(access: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


def test_a_token_from_the_password_opens_the_api(learner):
    tokens = _tokens(learner)

    response = _bearer(tokens["access"]).get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == learner.username


def test_a_wrong_password_gets_no_token_and_a_401_in_the_envelope(learner):
    response = APIClient().post(TOKEN, {"username": learner.username, "password": "nope"}, format="json")

    assert response.status_code == 401
    assert set(response.json()) == {"error"}
    assert "access" not in response.json()


def test_no_credentials_is_401_and_a_forbidden_operation_is_403(learner):
    assert APIClient().get(reverse("api:earnings")).status_code == 401

    response = _bearer(_tokens(learner)["access"]).get(reverse("api:earnings"))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_garbled_token_is_401(learner):
    response = _bearer("not-a-token").get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_refresh_gives_new_tokens_and_the_old_refresh_token_stops_working(learner):
    tokens = _tokens(learner)

    renewed = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    again = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert renewed.status_code == 200
    assert _bearer(renewed.json()["access"]).get(ME).status_code == 200
    assert again.status_code == 401


def test_a_password_change_revokes_access_and_refresh_tokens(learner):
    tokens = _tokens(learner)
    learner.set_password("a-new-passphrase-after-a-leak")
    learner.save()

    assert _bearer(tokens["access"]).get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_a_password_change_through_the_page_revokes_tokens(client, learner):
    tokens = _tokens(learner)
    client.force_login(learner)

    client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "new-passphrase-42", "new_password2": "new-passphrase-42"},
    )

    assert _bearer(tokens["access"]).get(ME).status_code == 401


def test_revoking_a_refresh_token_logs_the_client_out(learner):
    tokens = _tokens(learner)

    assert APIClient().post(REVOKE, {"refresh": tokens["refresh"]}, format="json").status_code == 200

    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_an_inactive_account_gets_no_token():
    user = UserFactory(is_active=False)

    response = APIClient().post(TOKEN, {"username": user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 401
