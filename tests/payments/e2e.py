"""What every channel's end-to-end test checks after the money moved."""

import io

from django.core.management import call_command


def assert_ledger_check_green() -> None:
    out = io.StringIO()
    call_command("ledger_check", stdout=out, stderr=io.StringIO())
    assert "Ledger OK" in out.getvalue()
