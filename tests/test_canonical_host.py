"""The demo answers on one host: another name for the same server is sent there, so the session
cookie set on one name is the one the gateways' return URLs (under SITE_URL) arrive with."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo_site(settings):
    settings.PAYMENTS_SANDBOX = True
    settings.SITE_URL = "http://127.0.0.1:8000"


def test_localhost_is_redirected_to_the_site_urls_host_keeping_path_and_query(client):
    response = client.get("/courses/?q=python", HTTP_HOST="localhost:8000")

    assert response.status_code == 302
    assert response["Location"] == "http://127.0.0.1:8000/courses/?q=python"


def test_the_site_urls_own_host_is_served(client):
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 200


def test_another_port_is_another_server_and_is_served(client):
    assert client.get("/", HTTP_HOST="localhost:9000").status_code == 200


def test_a_host_that_is_not_a_loopback_name_is_served(client, settings):
    # A phone on the network reaches the demo by the computer's address; 127.0.0.1 would be the phone.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "192.168.1.20"]

    assert client.get("/", HTTP_HOST="192.168.1.20:8000").status_code == 200


def test_a_post_is_not_redirected(client):
    response = client.post("/accounts/login/", {"username": "x", "password": "y"}, HTTP_HOST="localhost:8000")

    assert response.status_code == 200


def test_outside_sandbox_mode_nothing_is_redirected(client, settings):
    settings.PAYMENTS_SANDBOX = False

    assert client.get("/", HTTP_HOST="localhost:8000").status_code == 200
