import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ME = reverse("api:me")


@pytest.fixture
def api():
    return APIClient()


def test_me_refuses_anonymous_callers(api):
    response = api.get(ME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_describes_a_learner(api, learner):
    api.force_authenticate(learner)

    body = api.get(ME).json()

    assert body["username"] == learner.username
    assert body["is_creator"] is False
    assert body["creator_profile"] is None


def test_me_describes_a_creator(api, creator):
    api.force_authenticate(creator)

    body = api.get(ME).json()

    assert body["is_creator"] is True
    assert body["creator_profile"]["display_name"] == creator.creator_profile.display_name
    assert body["creator_profile"]["has_payout_account"] is True
