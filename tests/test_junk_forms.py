"""Junk posted to every HTML form, as the role that may use it: never a server error, nothing changed.

Runs on whichever database the suite runs on (SQLite and PostgreSQL, which refuses NUL bytes).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from payments.models import Payout, Refund
from payments.services.payouts import payout_request
from payments.services.refunds import refund_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, CreatorFactory, LessonFactory, UserFactory
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db

JUNK = {
    "nul": "\x00",
    "nul inside": "12\x00.00",
    "thousands of digits": "9" * 5000,
    "above 2^63 fen": "92233720368547758.08",
    "huge exponent": "1e400",
    "negative": "-1",
    "not a number": "NaN",
    "long string": "x" * 20000,
    "unicode digits": "\uff11\uff12.\uff13\uff14",
    "arabic digits": "\u0661\u0662",
    "year 9999": "9999-12-31",
    "empty": "",
}

# Junk that no field accepts: with it in every field, a form must refuse and change nothing.
REFUSED_EVERYWHERE = {"nul", "nul inside", "long string"}
# Forms whose every field is free text (a lesson, a bank reference) may take numeric-looking junk as
# valid text; every other form must refuse every kind of junk.
FREE_TEXT_ONLY = {
    "/studio/courses/{slug}/lessons/new/",
    "/studio/courses/{slug}/lessons/{lesson}/",
    "/admin/payments/payout/{payout_pk}/bank/",
}

# (role, method, path, fields): every HTML form a person can submit, with the fields it reads.
FORMS = [
    ("anonymous", "post", "/accounts/signup/", ["username", "email", "password1", "password2"]),
    ("anonymous", "post", "/accounts/login/", ["username", "password"]),
    ("anonymous", "get", "/", ["q", "page"]),
    ("learner", "post", "/accounts/password/", ["old_password", "new_password1", "new_password2"]),
    (
        "learner",
        "post",
        "/accounts/creator/new/",
        ["display_name", "bio", "payout_alipay_account", "payout_alipay_name"],
    ),
    ("learner", "post", "/orders/{order}/pay/", ["method"]),
    ("learner", "post", "/orders/{order}/refund/", ["amount", "reason"]),
    (
        "creator",
        "post",
        "/accounts/creator/edit/",
        ["display_name", "bio", "payout_alipay_account", "payout_alipay_name"],
    ),
    ("creator", "post", "/studio/new/", ["title", "slug", "summary", "description", "price_yuan"]),
    ("creator", "post", "/studio/courses/{slug}/", ["title", "slug", "summary", "description", "price_yuan"]),
    ("creator", "post", "/studio/courses/{slug}/lessons/new/", ["title", "body", "is_preview"]),
    ("creator", "post", "/studio/courses/{slug}/lessons/{lesson}/", ["title", "body", "is_preview"]),
    ("creator", "post", "/studio/courses/{slug}/lessons/{lesson}/move/", ["direction"]),
    ("creator", "post", "/earnings/payouts/", ["amount"]),
    ("creator", "get", "/earnings/", ["start", "end"]),
    ("staff", "post", "/admin/payments/order/{order_pk}/refund/", ["amount", "reason"]),
    ("staff", "post", "/admin/payments/refund/{refund_pk}/decide/", ["decision", "note"]),
    ("staff", "post", "/admin/payments/payout/{payout_pk}/bank/", ["reference", "note"]),
    ("staff", "post", "/admin/courses/course/{course_pk}/change/", ["creator", "title", "slug", "price_fen"]),
    ("staff", "get", "/admin/payments/order/", ["q", "status__exact", "queue"]),
    ("staff", "get", "/admin/courses/course/", ["q", "created_at__year", "created_at__month"]),
]
# Paths with junk in them, where a number or a slug is expected.
PATHS = [
    ("learner", "/orders/{junk}/"),
    ("learner", "/orders/{junk}/pay/"),
    ("learner", "/orders/{junk}/status/"),
    ("anonymous", "/courses/{junk}/"),
    ("creator", "/earnings/payouts/{junk}/"),
    ("staff", "/admin/payments/order/{junk}/change/"),
]


@pytest.fixture
def world(settings):
    """A learner with a paid order and a requested refund, a creator with a course, a lesson and a
    requested payout, and a superuser."""
    settings.PAYOUT_MIN_FEN = 100
    settings.REFUND_WINDOW_DAYS = 30
    creator = CreatorFactory()
    course = CourseFactory(creator=creator, price_fen=20000, slug="junk-course")
    lesson = LessonFactory(course=course, position=1)
    payment = sell(course, days_ago=settings.SETTLEMENT_HOLD_DAYS + 1)
    earnings_settle_due()
    order = payment.order
    refund = refund_request(order=order, learner=order.learner, reason="junk test")
    payout = payout_request(creator=creator, requested_by=creator, amount_fen=5000)
    people = {"learner": order.learner, "creator": creator, "staff": UserFactory(is_staff=True, is_superuser=True)}
    names = {
        "order": order.order_no,
        "order_pk": order.pk,
        "slug": course.slug,
        "course_pk": course.pk,
        "lesson": lesson.pk,
        "refund_pk": refund.pk,
        "payout_pk": payout.pk,
    }
    return people, names


def snapshot() -> dict[str, list]:
    """Every row of our apps, so any change shows (log-in times and sessions aside)."""
    rows = {}
    for label in ("accounts", "courses", "payments"):
        for model in apps.get_app_config(label).get_models():
            exclude = {"last_login", "updated_at"}
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
            rows[model._meta.label] = sorted(map(repr, model.objects.values_list(*fields)))
    return rows


def login(client, people, role):
    if role != "anonymous":
        client.force_login(people[role])


@pytest.mark.parametrize(("role", "method", "path", "fields"), FORMS, ids=[f"{f[1]} {f[2]}" for f in FORMS])
def test_junk_in_every_field_is_refused_without_an_error_or_a_change(client, world, role, method, path, fields):
    people, names = world
    login(client, people, role)
    url = path.format(**names)
    before = snapshot()

    errors, changes = {}, []
    for kind, junk in JUNK.items():
        for data in (dict.fromkeys(fields, junk), {name: [junk, junk] for name in fields}):
            response = getattr(client, method)(url, data)
            if response.status_code >= 500:
                errors[kind] = response.status_code
        after = snapshot()
        if (path not in FREE_TEXT_ONLY or kind in REFUSED_EVERYWHERE) and after != before:
            changes.append(kind)
        before = after

    assert errors == {}
    assert changes == []


@pytest.mark.parametrize(("role", "path"), PATHS, ids=[p[1] for p in PATHS])
def test_junk_in_paths_is_not_found(client, world, role, path):
    people, _ = world
    login(client, people, role)

    statuses = {kind: client.get(path.format(junk=junk)).status_code for kind, junk in JUNK.items() if junk}

    assert {kind: status for kind, status in statuses.items() if status >= 500} == {}


def test_a_payout_above_the_largest_amount_is_refused_before_anything_is_written(client, world):
    people, _ = world
    client.force_login(people["creator"])
    payouts = Payout.objects.count()

    response = client.post("/earnings/payouts/", {"amount": "92233720368547758.08"}, follow=True)

    assert response.status_code == 200
    assert Payout.objects.count() == payouts


def test_a_refund_reason_over_its_length_is_refused_with_a_message(client, world):
    people, names = world
    Refund.objects.filter(pk=names["refund_pk"]).update(status=Refund.Status.REJECTED, decided_at=timezone.now())
    client.force_login(people["learner"])

    response = client.post(f"/orders/{names['order']}/refund/", {"reason": "x" * 301}, follow=True)

    assert "at most 300 characters" in response.content.decode()
    assert Refund.objects.filter(order__order_no=names["order"]).count() == 1


def test_an_earnings_period_at_the_end_of_the_calendar_shows_the_default_period(client, world):
    people, _ = world
    client.force_login(people["creator"])

    response = client.get("/earnings/", {"start": "9999-12-30", "end": "9999-12-31"})

    assert response.status_code == 200
    assert response.context["end"] <= timezone.localdate() + dt.timedelta(days=1)
