"""Outside the sandbox, a warning when nobody would be e-mailed about a payment anomaly."""

from payments.checks import check_alert_recipients


def test_no_alert_recipients_outside_the_sandbox_is_warned(settings):
    settings.PAYMENTS_SANDBOX = False
    settings.PAYMENTS_ALERT_EMAILS = []

    assert [w.id for w in check_alert_recipients()] == ["payments.W001"]


def test_alert_recipients_pass(settings):
    settings.PAYMENTS_SANDBOX = False
    settings.PAYMENTS_ALERT_EMAILS = ["ops@example.com"]

    assert check_alert_recipients() == []


def test_the_sandbox_needs_no_alert_recipients(settings):
    settings.PAYMENTS_SANDBOX = True
    settings.PAYMENTS_ALERT_EMAILS = []

    assert check_alert_recipients() == []
