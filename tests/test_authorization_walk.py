"""The authorization walk: every URL pattern of the site (enumerated from the resolver) and every
method, as anonymous, two learners, two creators, view-only staff, finance staff and a superuser,
on the first learner's and creator's objects. Nothing private may reach someone it does not
belong to (leaks), no row may change unless the caller may change it (row snapshots before and
after), and nothing may answer with a server error.

Every request runs in a savepoint that is rolled back, so each starts from the same world. A URL
pattern added later without an entry in TARGETS fails `test_every_url_pattern_is_walked`.
Admin actions (POSTs to a changelist) are not walked here: which staff may run which action is
the admin permission tests' subject.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import CreatorProfile, User
from courses.models import Course, Enrollment, Lesson
from payments.models import (
    BlockedSubject,
    IdempotencyKey,
    InboxItem,
    LedgerEntry,
    Order,
    Payment,
    Payout,
    PayoutSchedule,
    Refund,
)
from payments.services.payouts import payout_request
from payments.services.refunds import refund_request
from payments.services.settlement import earnings_settle_due
from tests.factories import CourseFactory, CreatorFactory, LessonFactory, PaymentFactory, UserFactory
from tests.payments.ledger.helpers import sell

pytestmark = pytest.mark.django_db

IDENTITIES = [
    "anonymous",
    "learner_a",
    "learner_b",
    "creator_a",
    "creator_b",
    "view_staff",
    "finance_staff",
    "superuser",
]
METHODS = ["get", "post", "put", "patch", "delete"]
STAFF = {"view_staff", "finance_staff", "superuser"}


# --- The world ------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    kwargs: dict[str, dict] = field(default_factory=dict)
    # Private strings, each with the identities allowed to see it (outside the admin for staff).
    markers: dict[str, set[str]] = field(default_factory=dict)
    # Payment data shown to nobody in clear, not even to staff in the admin.
    secrets: dict[str, set[str]] = field(default_factory=dict)


@pytest.fixture
def world(settings) -> World:
    # Gateways are not reachable here: starting a payment fails fast and is shown as a message.
    settings.SITE_URL = "http://127.0.0.1:8149"
    settings.GATEWAY_TIMEOUT_SECONDS = 1
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/m")
    throttles = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": throttles}
    settings.AXES_ENABLED = False
    settings.REFUND_WINDOW_DAYS = 30  # sales are 8 days old, so that they are also settled

    creator_a, creator_b = CreatorFactory(username="creator_a"), CreatorFactory(username="creator_b")
    CreatorProfile.objects.filter(user=creator_a).update(
        payout_alipay_account="walk-account-a@alipay.example", payout_alipay_name="甲乙丙"
    )
    learner_a, learner_b = UserFactory(username="learner_a"), UserFactory(username="learner_b")
    view_staff = UserFactory(username="view_staff", is_staff=True)
    view_staff.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    # A finance team member as the staff roles document them (README "Staff roles").
    finance_staff = UserFactory(username="finance_staff", is_staff=True)
    finance_staff.groups.add(Group.objects.get(name="Finance"))
    superuser = UserFactory(username="superuser", is_staff=True, is_superuser=True)

    course_a = CourseFactory(creator=creator_a, slug="walk-course-a", price_fen=20000)
    lesson_a = LessonFactory(course=course_a, body="WALK-PAID-LESSON-A", is_preview=False)
    course_b = CourseFactory(creator=creator_b, slug="walk-course-b", price_fen=20000)
    LessonFactory(course=course_b, body="WALK-PAID-LESSON-B", is_preview=False)
    paid_a = sell(course_a, learner=learner_a, days_ago=8)
    Payment.objects.filter(pk=paid_a.pk).update(payer_ref="walk-payer-a")
    paid_b = sell(course_b, learner=learner_b, days_ago=8)
    earnings_settle_due()
    payout_a = payout_request(creator=creator_a, requested_by=creator_a, amount_fen=10000)
    payout_b = payout_request(creator=creator_b, requested_by=creator_b, amount_fen=10000)
    refund_a = refund_request(order=paid_a.order, learner=learner_a, amount_fen=100, reason="WALK-REASON-A")
    # A pending order of learner A, with a QR code to pay it.
    pending_a = PaymentFactory(
        order__learner=learner_a,
        order__course=CourseFactory(creator=creator_b, slug="walk-course-c"),
        start_data={"kind": "qr", "url": "", "html": "", "qr_content": "weixin://wxpay/bizpayurl?pr=walk"},
    )

    world = World(
        users={
            "anonymous": None,
            "learner_a": learner_a,
            "learner_b": learner_b,
            "creator_a": creator_a,
            "creator_b": creator_b,
            "view_staff": view_staff,
            "finance_staff": finance_staff,
            "superuser": superuser,
        }
    )
    world.markers = {
        # The creator sees their sale; staff who may view orders see its receipt too.
        paid_a.order.order_no: {"learner_a", "creator_a", *STAFF},
        paid_a.out_trade_no: {"learner_a", *STAFF},
        refund_a.refund_no: {"learner_a", *STAFF},
        "WALK-REASON-A": {"learner_a"},
        "bizpayurl?pr=walk": {"learner_a"},
        pending_a.order.order_no: {"learner_a"},
        pending_a.out_trade_no: {"learner_a"},
        payout_a.payout_no: {"creator_a", *STAFF},  # staff who may view payouts see its statement
        learner_a.email: {"learner_a"},
        creator_a.email: {"creator_a"},
        paid_b.order.order_no: {"learner_b", "creator_b"},
        payout_b.payout_no: {"creator_b"},
        learner_b.email: {"learner_b"},
        creator_b.email: {"creator_b"},
        # Paid lesson content: the enrolled learner and the creator (staff reading it is the
        # admin permission tests' subject).
        "WALK-PAID-LESSON-A": {"learner_a", "creator_a", *STAFF},
        "WALK-PAID-LESSON-B": {"learner_b", "creator_b", *STAFF},
    }
    world.secrets = {
        # Shown masked everywhere, to its owner too.
        "walk-account-a@alipay.example": set(),
        "walk-payer-a": set(),
    }
    order_a, pending = paid_a.order, pending_a.order
    world.kwargs = {
        "slug": {"slug": course_a.slug},
        "lesson": {"slug": course_a.slug, "lesson_id": lesson_a.pk},
        "position": {"slug": course_a.slug, "position": lesson_a.position},
        "order": {"order_no": order_a.order_no},
        "pending": {"order_no": pending.order_no},
        "qr": {"order_no": pending.order_no, "out_trade_no": pending_a.out_trade_no},
        "payout": {"payout_no": payout_a.payout_no},
        "channel": {"channel": "sandbox"},
        "signup_link": {"uidb64": "MQ", "token": "set-password"},
        "trade": {"trade_no": "T-WALK-1"},
        "token": {"token": "walk-token"},
        "code": {"code": "walk-code"},
        "action": {"action": "query"},
        "media": {"path": "covers/none.png"},
        "session": {"session_id": "cs_walk"},
        "refund_id": {"refund_id": "re_walk"},
        "order_id": {"order_id": "PAYPAL-WALK"},
        "capture_id": {"capture_id": "CAPTURE-WALK"},
        "name": {"name": "CERT-WALK"},
        "query_id": {"query_id": "Q-WALK"},
        "inbox_item": {"item_id": InboxItem.objects.filter(user=learner_a).order_by("pk").first().pk},
    }
    return world


# --- Every URL pattern and how to call it ---------------------------------------------------------

# URL name → (which kwargs of the world, a body that would change something if allowed).
TARGETS: dict[str, tuple[str | None, dict]] = {
    "accounts:signup": (
        None,
        {
            "username": "walker",
            "email": "walker@example.com",
            "password1": "walk-pass-1234",
            "password2": "walk-pass-1234",
        },
    ),
    "accounts:signup_confirm": ("signup_link", {}),
    "accounts:login": (None, {"username": "learner_a", "password": "wrong"}),
    "accounts:logout": (None, {}),
    "accounts:password_change": (None, {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
    "accounts:password_change_done": (None, {}),
    "accounts:password_reset": (None, {"email": "learner_a@example.com"}),
    "accounts:password_reset_done": (None, {}),
    "accounts:password_reset_confirm": (
        "signup_link",
        {"new_password1": "z-pass-1234", "new_password2": "z-pass-1234"},
    ),
    "accounts:password_reset_complete": (None, {}),
    "accounts:profile": (None, {}),
    "accounts:creator_create": (None, {"display_name": "Walker"}),
    "accounts:creator_edit": (None, {"display_name": "Walker", "payout_alipay_account": "", "payout_alipay_name": ""}),
    "api:me": (None, {}),
    "api:token-obtain": (None, {"username": "learner_a", "password": "wrong"}),
    "api:token-refresh": (None, {"refresh": "x"}),
    "api:token-revoke": (None, {"refresh": "x"}),
    "api:course-list": (None, {}),
    "api:course-detail": ("slug", {}),
    "api:course-enroll": ("slug", {}),
    "api:enrollment-list": (None, {}),
    "api:studio-course-list": (None, {"title": "Walk", "price_fen": 100}),
    "api:studio-course-detail": ("slug", {"title": "Hijacked", "price_fen": 1}),
    "api:studio-course-publish": ("slug", {}),
    "api:studio-course-unpublish": ("slug", {}),
    "api:studio-course-archive": ("slug", {}),
    "api:studio-lesson-list": ("slug", {"title": "Injected"}),
    "api:studio-lesson-detail": ("lesson", {"title": "Hijacked"}),
    "api:studio-lesson-move": ("lesson", {"direction": "down"}),
    "api:channels": (None, {}),
    "api:orders": (None, {"course": "walk-course-b"}),
    "api:order": ("order", {}),
    "api:order-pay": ("pending", {"channel": "sandbox", "method": "page"}),
    "api:order-cancel": ("pending", {}),
    "api:order-check": ("pending", {}),
    "api:order-refunds": ("order", {"amount_fen": 100}),
    "api:earnings": (None, {}),
    "api:earnings-sales": (None, {}),
    "api:earnings-payouts": (None, {"amount_fen": 10000}),
    "api:earnings-payout": ("payout", {}),
    "api-schema": (None, {}),
    "api-docs": (None, {}),
    "api-redoc": (None, {}),
    "payments:buy": ("slug", {}),
    "payments:order_list": (None, {}),
    "payments:order_detail": ("order", {}),
    "payments:order_pay": ("pending", {"method": "sandbox:page"}),
    "payments:order_qr": ("qr", {}),
    "payments:order_bridge": ("qr", {}),
    "payments:order_receipt": ("order", {}),
    "payments:order_receipt_pdf": ("order", {}),
    "payments:payer_authorized": ("channel", {"code": "walk-code", "state": "walk-state"}),
    "payments:order_return": ("order", {}),
    "payments:order_status": ("order", {}),
    "payments:order_cancel": ("pending", {}),
    "payments:order_check": ("pending", {}),
    "payments:order_refund": ("order", {"amount": "1.00", "reason": "walk"}),
    "payments:notify": ("channel", {}),
    "payments:notify_refund": ("channel", {}),
    "payments:earnings": (None, {}),
    "payments:earnings_sales_csv": (None, {}),
    "payments:earnings_payouts_csv": (None, {}),
    "payments:earnings_payout_request": (None, {"amount": "100.00"}),
    "payments:earnings_payout": ("payout", {}),
    "payments:earnings_payout_schedule": (None, {"frequency": "weekly", "threshold": "100.00"}),
    "payments:earnings_payout_cancel": ("payout", {}),
    "payments:earnings_payout_statement": ("payout", {}),
    "payments:earnings_payout_statement_pdf": ("payout", {}),
    "payments:inbox": (None, {}),
    "payments:inbox_read_all": (None, {}),
    "payments:inbox_read": ("inbox_item", {}),
    "payments:inbox_settings": (None, {"order_paid": "on"}),
    "courses:catalog": (None, {}),
    "courses:course_detail": ("slug", {}),
    "courses:enroll_free": ("slug", {}),
    "courses:lesson_detail": ("position", {}),
    "courses:my_learning": (None, {}),
    "courses:studio": (None, {}),
    "courses:studio_course_create": (None, {"title": "Walk", "price_yuan": "1.00"}),
    "courses:studio_course_edit": ("slug", {"title": "Hijacked", "price_yuan": "0.01"}),
    "courses:studio_course_publish": ("slug", {}),
    "courses:studio_course_unpublish": ("slug", {}),
    "courses:studio_course_archive": ("slug", {}),
    "courses:studio_lesson_create": ("slug", {"title": "Injected"}),
    "courses:studio_lesson_edit": ("lesson", {"title": "Hijacked", "body": "x"}),
    "courses:studio_lesson_delete": ("lesson", {}),
    "courses:studio_lesson_move": ("lesson", {"direction": "down"}),
    # The local gateway simulators (sandbox mode only): the gateway's own pages and API.
    "alipay-gateway": (None, {}),
    "alipay-cashier-pay": ("trade", {}),
    "alipay-cashier-cancel": ("trade", {}),
    "alipay-scan": ("token", {}),
    "alipay-scan-pay": ("token", {}),
    "alipay-scan-cancel": ("token", {}),
    "alipay-bill-download": (None, {}),
    "wechat-unifiedorder": (None, {}),
    "wechat-orderquery": (None, {}),
    "wechat-closeorder": (None, {}),
    "wechat-refund": (None, {}),
    "wechat-refundquery": (None, {}),
    "wechat-downloadbill": (None, {}),
    "wechat-scan": ("code", {}),
    "wechat-scan-pay": ("code", {}),
    "wechat-scan-cancel": ("code", {}),
    "sandbox-cashier": (None, {}),
    "sandbox-cashier-pay": ("trade", {}),
    "sandbox-cashier-cancel": ("trade", {}),
    "sandbox-api": ("action", {}),
    "alipay-wap-pay": ("trade", {}),
    "alipay-wap-quit": ("trade", {}),
    "wechat-mweb": (None, {}),
    "wechat-mweb-pay": (None, {}),
    "wechat-mweb-cancel": (None, {}),
    "wechat-oauth-authorize": (None, {}),
    "wechat-oauth-access-token": (None, {}),
    "wechat-jsbridge": (None, {}),
    "wechat-jsapi-prepare": (None, {}),
    "wechat-jsapi-pay": (None, {}),
    "stripe-sessions": (None, {}),
    "stripe-session": ("session", {}),
    "stripe-session-expire": ("session", {}),
    "stripe-refunds": (None, {}),
    "stripe-refund": ("refund_id", {}),
    "stripe-balance-transactions": (None, {}),
    "stripe-checkout-page": ("session", {}),
    "stripe-checkout-pay": ("session", {}),
    "stripe-checkout-cancel": ("session", {}),
    "paypal-token": (None, {}),
    "paypal-orders": (None, {}),
    "paypal-order": ("order_id", {}),
    "paypal-order-capture": ("order_id", {}),
    "paypal-capture-refund": ("capture_id", {}),
    "paypal-refund": ("refund_id", {}),
    "paypal-transactions": (None, {}),
    "paypal-verify-webhook": (None, {}),
    "paypal-cert": ("name", {}),
    "paypal-approve": (None, {}),
    "paypal-approve-submit": ("order_id", {}),
    "paypal-approve-cancel": ("order_id", {}),
    "unionpay-front": (None, {}),
    "unionpay-back": (None, {}),
    "unionpay-query": (None, {}),
    "unionpay-file": (None, {}),
    "unionpay-cashier-pay": ("query_id", {}),
    "unionpay-cashier-cancel": ("query_id", {}),
    "media": ("media", {}),
}


def _patterns(patterns=None, namespace: str = "", prefix: str = ""):
    """(name, route, pattern) of every URL pattern, admin included."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            # Unnamed: the admin's redirects to its named pages, and the media files of development.
            unnamed = f"{namespace}<unnamed>" if namespace else "media"
            name = f"{namespace}{entry.name}" if entry.name else unnamed
            yield name, prefix + str(entry.pattern), entry


def _admin_url(world: World, name: str, route: str) -> str | None:
    """Admin URLs: every model's pages on an existing row of it."""
    if name in ("admin:view_on_site", "admin:<unnamed>"):
        return None  # redirects to pages walked under their own names
    if "<" not in route and "(" not in route:
        return reverse(name)
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "payments"})
    custom = {
        "admin:payments_order_refund": Order,
        "admin:payments_payout_bank": Payout,
        "admin:auth_user_password_change": User,
    }
    model = custom.get(name) or next(
        (m for m in admin.site._registry if name.startswith(f"admin:{m._meta.app_label}_{m._meta.model_name}_")), None
    )
    assert model is not None, f"no way to walk the admin URL {name} ({route})"
    row = model.objects.order_by("pk").first()
    if name.endswith("_simple_history"):  # one past version: (object id, history id)
        version = row.history.order_by("history_id").first() if row is not None else None
        return reverse(name, args=[row.pk if row else 1, version.history_id if version else 1])
    argument = re.search(r"<(?:\w+:)?(\w+)>", route).group(1)
    return reverse(name, kwargs={argument: row.pk if row is not None else 1})


# --- Snapshots and ownership ----------------------------------------------------------------------

SNAPSHOT_MODELS = [
    User,
    CreatorProfile,
    Course,
    Lesson,
    Enrollment,
    Order,
    Payment,
    Refund,
    Payout,
    LedgerEntry,
    IdempotencyKey,
    BlockedSubject,
    InboxItem,
    PayoutSchedule,
]
IGNORED_FIELDS = {"last_login", "updated_at"}


def _owner(row) -> int | None:
    """The user a row belongs to (None: only staff with the permission may change it)."""
    if isinstance(row, User):
        return row.pk
    for attribute in ("learner_id", "creator_id", "user_id"):
        if getattr(row, attribute, None):
            return getattr(row, attribute)
    if isinstance(row, Lesson):
        return row.course.creator_id
    if isinstance(row, Payment | Refund):
        return row.order.learner_id
    if isinstance(row, LedgerEntry) and row.payment_id:
        return row.payment.order.learner_id
    return None


def _fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.attname not in IGNORED_FIELDS]


def _snapshot() -> dict:
    """Every row's values, keyed by (model, pk): one query per table."""
    return {
        (model, values[0]): values
        for model in SNAPSHOT_MODELS
        for values in model.objects.values_list(*_fields(model)).iterator()
    }


def _unauthorised_changes(identity: str, user: User | None, before: dict, rows: dict, after: dict) -> list[str]:
    """Rows created, changed or deleted by a request that the caller may not create, change or delete.

    `rows` holds the instances of `before` (for the owner of a row that is gone); `after`'s new rows
    are loaded for theirs.
    """
    problems = []
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        model, pk = key
        if user is not None and user.is_superuser:
            continue
        if user is not None and user.is_staff:
            label = model._meta
            if any(
                user.has_perm(f"{label.app_label}.{verb}_{label.model_name}") for verb in ("add", "change", "delete")
            ):
                continue
        if identity == "anonymous" and model is User and old is None:
            continue  # signing up
        row = rows.get(key) or model.objects.get(pk=pk)
        if user is not None and _owner(row) == user.pk:
            continue
        problems.append(
            f"{model.__name__} #{pk} {'created' if old is None else 'deleted' if new is None else 'changed'}"
        )
    return problems


# --- Calling ------------------------------------------------------------------------------------


def _clients(world: World) -> dict[str, Client]:
    clients = {}
    for identity, user in world.users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients[identity] = client
    return clients


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", errors="replace") + " " + response.get("Location", "")


def _leaks(world: World, identity: str, url: str, text: str) -> list[str]:
    """Private strings in a reply that the caller may not see; what the caller itself sent in the URL
    (echoed by a 404 page or a log-in redirect) reveals nothing."""
    in_admin = url.startswith("/admin/") and identity in STAFF
    found = [
        marker
        for marker, allowed in world.markers.items()
        if marker in text and identity not in allowed and not in_admin and marker not in url
    ]
    found += [secret for secret, allowed in world.secrets.items() if secret in text and identity not in allowed]
    return found


def _walk(world: World, urls: list[tuple[str, str, dict]], methods: list[str]) -> list[str]:
    clients = _clients(world)
    before = _snapshot()
    rows = {(model, row.pk): row for model in SNAPSHOT_MODELS for row in model.objects.all()}
    problems = []
    for identity in IDENTITIES:
        client, user = clients[identity], world.users[identity]
        for name, url, body in urls:
            for method in methods:
                # The rollback restores the session's row; the cookie must come back too (a log-out
                # or a log-in replaces it), so every request is made as this identity.
                cookies = copy.deepcopy(client.cookies)
                with transaction.atomic():
                    if url.startswith("/api/"):
                        data = json.dumps(body) if method != "get" else None
                        response = client.generic(method.upper(), url, data or "", content_type="application/json")
                    elif method == "get":
                        response = client.get(url)
                    else:
                        response = getattr(client, method)(url, body if method == "post" else "")
                    # Owners of new rows are looked up before the rollback takes the rows away.
                    changes = _unauthorised_changes(identity, user, before, rows, _snapshot())
                    transaction.set_rollback(True)
                client.cookies = cookies
                where = f"{identity} {method.upper()} {url} ({name})"
                # 502 is the documented answer when a gateway cannot be reached (none can, here).
                if response.status_code >= 500 and response.status_code != 502:
                    problems.append(f"{where}: server error {response.status_code}")
                problems += [f"{where}: leaks {marker!r}" for marker in _leaks(world, identity, url, _text(response))]
                problems += [f"{where}: {change}" for change in changes]
    return problems


# --- The tests ----------------------------------------------------------------------------------


def test_every_url_pattern_is_walked():
    names = {name for name, _, _ in _patterns() if not name.startswith("admin:")}

    assert names - set(TARGETS) == set(), "add these URL patterns to TARGETS"
    # Media files are served by Django only with DEBUG on.
    assert set(TARGETS) - names - {"media"} == set(), "these TARGETS no longer exist"


def test_site_and_api_leak_nothing_and_change_nothing_without_permission(world):
    urls = []
    for name, _, _ in _patterns():
        if name.startswith("admin:"):
            continue
        kwargs_key, body = TARGETS[name]
        kwargs = world.kwargs[kwargs_key] if kwargs_key else {}
        url = "/media/covers/none.png" if name == "media" else reverse(name, kwargs=kwargs)
        urls.append((name, url, body))

    problems = _walk(world, urls, METHODS)

    assert problems == [], "\n".join(problems)


def test_admin_leaks_nothing_and_changes_nothing_without_permission(world):
    urls = []
    for name, route, _ in _patterns():
        if not name.startswith("admin:"):
            continue
        url = _admin_url(world, name, route)
        if url is not None:
            # A delete page's POST confirms the deletion: the strongest change to try.
            urls.append((name, url, {"post": "yes"} if name.endswith("_delete") else {}))

    problems = _walk(world, urls, ["get", "post"])

    assert problems == [], "\n".join(problems)
