"""Production settings refuse what is only safe in development."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_off_with_the_default_secret_key_refuses_to_start():
    result = run_check(DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_production_without_gateway_settings_refuses_to_start_naming_them():
    result = run_check(DEBUG="false", SECRET_KEY="a-long-random-production-secret-0123456789")

    assert result.returncode != 0
    assert "alipay: ALIPAY_APP_ID is not set." in result.stderr
    assert "wechat: WECHAT_MCH_ID is not set." in result.stderr


def test_staging_with_a_secret_key_and_the_simulators_starts():
    result = run_check(DEBUG="false", SECRET_KEY="a-long-random-production-secret-0123456789", PAYMENTS_SANDBOX="true")

    assert result.returncode == 0, result.stderr


def site_url_under(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "PORT")}
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SITE_URL)"],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "knowpay.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_site_url_follows_the_port_the_demo_serves_on():
    assert site_url_under(HOST="127.0.0.1", PORT="8101") == "http://127.0.0.1:8101"


def test_site_url_of_a_server_on_every_interface_is_the_loopback_address():
    assert site_url_under(HOST="0.0.0.0", PORT="8102")  # noqa: S104 (a setting, nothing is bound) == "http://127.0.0.1:8102"


def test_an_explicit_site_url_wins_over_host_and_port():
    assert site_url_under(SITE_URL="https://pay.example.com/", PORT="8101") == "https://pay.example.com"


def test_make_run_passes_its_host_and_port_to_the_server_settings():
    make = shutil.which("make")
    assert make, "make is what the README tells newcomers to run"
    result = subprocess.run(  # noqa: S603 (make from PATH, fixed arguments)
        [make, "-n", "run", "PORT=8101"], cwd=ROOT, capture_output=True, text=True, check=True
    )

    serve = next(line for line in result.stdout.splitlines() if "runserver" in line)
    assert "PORT=8101" in serve
    assert "HOST=127.0.0.1" in serve
