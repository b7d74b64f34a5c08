"""A public demo runs with DEBUG off against the simulators: every page says so."""

import pytest

BANNER = "Sandbox mode: payments go to local gateway simulators"


@pytest.fixture
def public_demo(settings):
    settings.DEBUG = False
    settings.PAYMENTS_SANDBOX = True
    settings.PAYMENTS_PUBLIC_DEMO = True


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/"])
def test_public_demo_shows_the_sandbox_banner(db, client, public_demo, path):
    assert BANNER in client.get(path).content.decode()


def test_admin_pages_show_the_sandbox_banner_to_staff(admin_client, public_demo):
    assert BANNER in admin_client.get("/admin/payments/order/").content.decode()


def test_no_banner_outside_sandbox_mode(db, client, settings):
    settings.PAYMENTS_SANDBOX = False

    assert BANNER not in client.get("/admin/login/").content.decode()
