"""Log-in lockout (django-axes), password reset by e-mail through the outbox, rate-limited log-in."""

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from payments.models import OutboxMessage
from tests.factories import UserFactory
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
TOKEN = reverse("api:token-obtain")


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    # These tests are about the lockout; the per-minute rate limit is tested on its own below.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1000/m"}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "1000/min"},
    }


def _login(client, user, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": user.username, "password": password}, REMOTE_ADDR=ip)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_fifty_wrong_passwords_lock_the_account_and_the_address_until_the_cool_off(client, settings):
    victim, neighbour = UserFactory(), UserFactory()

    replies = [_login(client, victim, f"guess-{i}").status_code for i in range(50)]

    assert replies[0] == 200  # the form again, with its error
    assert replies[-1] == 429
    # The right password no longer logs in: not from the same address (account and address locked) ...
    assert _login(client, victim, PASSWORD).status_code == 429
    assert not _logged_in(client)
    # ... nor the account from another address, nor another account from the same address.
    assert _login(client, victim, PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, neighbour, PASSWORD).status_code == 429
    assert not _logged_in(client)

    # After the cool-off, the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1))
    response = _login(client, victim, PASSWORD, ip="10.9.9.9")
    assert response.status_code == 302
    assert _logged_in(client)


def test_the_lockout_is_a_clear_page_with_retry_after(client, settings):
    user = UserFactory()
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, user, f"guess-{i}")

    response = _login(client, user, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed log-ins" in response.text
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_failures_below_the_limit_do_not_lock(client, settings):
    user = UserFactory()
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, user, f"guess-{i}")

    assert _login(client, user, PASSWORD).status_code == 302


def test_token_log_in_counts_towards_the_same_lockout_and_says_so(settings):
    user = UserFactory()
    api = APIClient(REMOTE_ADDR="10.0.0.2")
    replies = [api.post(TOKEN, {"username": user.username, "password": f"guess-{i}"}) for i in range(10)]
    assert replies[0].status_code == 401
    assert replies[0].json()["error"]["code"] == "no_active_account"

    response = api.post(TOKEN, {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "access" not in response.json()


def test_a_username_longer_than_any_account_is_counted_not_a_server_error(client):
    # On PostgreSQL axes' 255-character column refused such a name: every one of these was a 500.
    junk = "9" * 1000
    api = APIClient(REMOTE_ADDR="10.0.0.3")

    page = client.post(LOGIN, {"username": junk, "password": "x"}, REMOTE_ADDR="10.0.0.3")
    token = api.post(TOKEN, {"username": junk, "password": "x"})

    assert (page.status_code, token.status_code) == (200, 401)
    assert AccessAttempt.objects.get().username == junk[:150]


def test_log_in_is_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/m"}
    user = UserFactory()

    replies = [_login(client, user, "wrong") for _ in range(4)]

    assert [reply.status_code for reply in replies] == [200, 200, 200, 429]
    assert "Too many requests" in replies[-1].text
    assert int(replies[-1]["Retry-After"]) > 0


def test_password_reset_mails_a_link_through_the_outbox_that_sets_a_new_password(client, settings, committed):
    settings.SITE_URL = "http://testserver"
    user = UserFactory(email="reset-me@example.com")

    response = committed(client.post, reverse("accounts:password_reset"), {"email": "RESET-ME@example.com"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert OutboxMessage.objects.get().topic == "password_reset"
    assert [message.to for message in mail.outbox] == [["reset-me@example.com"]]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase-7", "new_password2": "a-brand-new-passphrase-7"},
    )
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase-7")


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, committed):
    response = committed(client.post, reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_a_sent_reset_link_is_not_kept_in_the_outbox_nor_shown_to_staff(client, settings, committed):
    settings.SITE_URL = "http://testserver"
    UserFactory(email="reset-me@example.com")
    committed(client.post, reverse("accounts:password_reset"), {"email": "reset-me@example.com"})
    token = re.search(r"/accounts/password/reset/[^/]+/([^/]+)/", mail.outbox[0].body).group(1)

    message = OutboxMessage.objects.get()
    assert message.sent_at is not None
    assert token not in str(message.payload)
    assert token not in message.dedupe_key
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:payments_outboxmessage_change", args=[message.pk])).text
    assert token not in page
    assert "reset-me@example.com" in page
