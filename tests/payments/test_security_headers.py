"""Every page we serve, the gateway simulators' included, works under our Content-Security-Policy:
scripts come from our origin or carry the response's nonce, and no markup needs inline handlers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from payments.gateways.base import PaymentStart, StartKind
from payments.gateways.sandbox import SandboxGateway
from payments.models import Order
from tests.factories import CourseFactory, LessonFactory, PaymentFactory, UserFactory
from tests.payments.browser import Browser

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
_JAVASCRIPT_URL = re.compile(r"""(?:href|action|src)\s*=\s*["']\s*javascript:""", re.I)


def policy_of(headers) -> dict[str, list[str]]:
    header = headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_runs_under_our_policy(headers, html: str, *, extra_script_origins: tuple[str, ...] = ()) -> None:
    policy = policy_of(headers)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    nonces = {source[len("'nonce-") : -1] for source in policy["script-src"] if source.startswith("'nonce-")}
    for attributes, body in _SCRIPT.findall(html):
        if 'type="application/json"' in attributes:
            continue  # data, not code
        src = re.search(r'src="([^"]*)"', attributes)
        if src:
            url = src.group(1)
            assert url.startswith("/") or url.startswith("?") or url.startswith(extra_script_origins), url
            assert not url.startswith("//"), url
        else:
            nonce = re.search(r'nonce="([^"]*)"', attributes)
            assert nonce, f"inline script without a nonce: {body[:80]!r}"
            assert nonce.group(1) in nonces
    assert not _INLINE_HANDLER.search(html), _INLINE_HANDLER.search(html).group(0)
    assert not _JAVASCRIPT_URL.search(html)


@pytest.mark.django_db
def test_every_response_carries_the_policy_headers(client):
    response = client.get("/")

    # A nonce is added to script-src only on pages that use one.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "payment=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.django_db
def test_learner_and_creator_pages_run_under_the_policy(client, creator, learner):
    course = CourseFactory(creator=creator, price_fen=1290)
    LessonFactory(course=course, position=1, is_preview=True)
    payment = PaymentFactory(order__course=course, order__learner=learner)
    pages = {
        None: ["/", f"/courses/{course.slug}/", f"/courses/{course.slug}/lessons/1/", "/accounts/login/"],
        learner: [f"/orders/{payment.order.order_no}/", f"/orders/{payment.order.order_no}/return/", "/orders/"],
        creator: [f"/studio/courses/{course.slug}/", "/studio/", "/earnings/"],
    }
    for user, urls in pages.items():
        if user:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_runs_under_our_policy(response, response.content.decode())


@pytest.mark.django_db
def test_the_studio_asks_before_archiving_without_an_inline_handler(client, creator):
    course = CourseFactory(creator=creator, price_fen=1290)
    LessonFactory(course=course, position=1)
    client.force_login(creator)

    page = client.get(f"/studio/courses/{course.slug}/").content.decode()

    assert 'data-confirm="Archive this course?' in page
    assert "/static/js/forms.js" in page


class FormGateway(SandboxGateway):
    """A gateway whose payment starts with an auto-submitting form, as some gateways' page pay does."""

    def start_payment(self, request):
        html = (
            f'<form id="gw" method="post" action="https://gateway.example.com/pay">'
            f'<input type="hidden" name="out_trade_no" value="{request.out_trade_no}"></form>'
            "<script>document.forms['gw'].submit();</script>"
        )
        return PaymentStart(kind=StartKind.FORM, html=html)


@pytest.mark.django_db
def test_a_gateway_form_is_submitted_by_our_own_script(client, learner, settings):
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "formpay": f"{__name__}.FormGateway"}
    settings.PAYMENTS_CHANNELS = [*settings.PAYMENTS_CHANNELS, "formpay"]
    order = PaymentFactory(order__learner=learner).order
    client.force_login(learner)

    response = client.post(f"/orders/{order.order_no}/pay/", {"method": "formpay:page"})

    page = response.content.decode()
    assert response.status_code == 200
    assert '<div data-autosubmit><form id="gw"' in page
    assert "/static/js/forms.js" in page
    # The gateway's own inline script is blocked by the policy; ours does its job.
    policy = policy_of(response)
    assert "'unsafe-inline'" not in policy["script-src"]


@pytest.mark.django_db
def test_admin_pages_run_under_the_policy(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    course = CourseFactory(price_fen=1290)
    for url in [
        reverse("admin:index"),
        reverse("admin:courses_course_changelist"),
        reverse("admin:courses_course_change", args=[course.pk]),
        reverse("admin:payments_order_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_runs_under_our_policy(response, response.content.decode())


@pytest.mark.django_db
def test_api_docs_load_swagger_ui_from_our_own_files(client, learner):
    client.force_login(learner)

    response = client.get("/api/docs/")

    assert_runs_under_our_policy(response, response.content.decode())
    assert policy_of(response)["script-src"] == ["'self'"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", ["alipay:page", "alipay:qr", "wechat:native", "sandbox:page"])
def test_checkout_qr_and_simulator_pages_run_under_the_policy(gateway_site, client, learner, method):
    course = CourseFactory(price_fen=1290)
    browser = Browser(gateway_site.url)
    browser.login_as(client, learner)
    checkout = browser.post(f"/courses/{course.slug}/buy/")
    pages = [checkout, browser.submit(checkout, "/pay/", method=method)]
    # On a QR page, the link that plays the phone scanning the code opens the simulator's page.
    scan_link = re.search(r'href="([^"]*/sandbox/[^"]*)"', pages[-1].text)
    if pages[-1].url.endswith("/qr/") and scan_link:
        pages.append(browser.get(scan_link.group(1).replace("&amp;", "&")))
    paid = browser.submit(pages[-1], "/pay/")
    pages.append(paid)

    for page in pages:
        assert page.status_code == 200, page.url
        assert_runs_under_our_policy(page.headers, page.text)
    assert Order.objects.get(learner=learner).status == Order.Status.PAID
