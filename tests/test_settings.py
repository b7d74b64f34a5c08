"""Production settings refuse what is only safe in development; defaults fail closed.

Each refusal is tested in a subprocess that starts from an environment without any of our variables.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.production import environment_without_ours, production_environment, run_python

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SECRET = "a-long-random-production-secret-0123456789-abcdefghijklmnop"
# What production must set besides the gateways: its own secret key and data-at-rest key (never
# the public development ones).
PRODUCTION_KEYS = {
    "DEBUG": "false",
    "SECRET_KEY": PRODUCTION_SECRET,
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LXByb2R1Y3Rpb24ta2V5LTAxMjM0NTY=",
}


def bare_environment(tmp_path, **env: str) -> dict[str, str]:
    """No variable of ours set, except `env`: what a fresh machine or a forgetful deployment has."""
    return {**environment_without_ours(), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **env}


def setting(name: str, env: dict[str, str]) -> str:
    result = run_python(["manage.py", "shell", "-c", f"from django.conf import settings; print(settings.{name})"], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_debug_is_off_by_default_so_the_public_secret_key_is_refused(tmp_path):
    result = run_python(["manage.py", "check"], bare_environment(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_debug_off_with_the_default_secret_key_refuses_to_start(tmp_path):
    result = run_python(["manage.py", "check"], bare_environment(tmp_path, DEBUG="false"))

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_sandbox_does_not_follow_debug(tmp_path):
    assert setting("PAYMENTS_SANDBOX", bare_environment(tmp_path, DEBUG="true")) == "False"


def test_production_without_an_encryption_key_refuses_to_start(tmp_path):
    env = bare_environment(tmp_path, DEBUG="false", SECRET_KEY=PRODUCTION_SECRET)

    result = run_python(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_with_the_public_development_key_refuses_to_start(tmp_path):
    env = bare_environment(
        tmp_path,
        DEBUG="false",
        SECRET_KEY=PRODUCTION_SECRET,
        FIELD_ENCRYPTION_KEYS="a25vd3BheS1wdWJsaWMtZGV2LWtleS1OT1QtU0FGRSE=",
    )

    result = run_python(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_without_gateway_settings_refuses_to_start_naming_them(tmp_path):
    result = run_python(["manage.py", "check"], bare_environment(tmp_path, **PRODUCTION_KEYS))

    assert result.returncode != 0
    assert "alipay: ALIPAY_APP_ID is not set." in result.stderr
    assert "wechat: WECHAT_MCH_ID is not set." in result.stderr


@pytest.mark.parametrize(
    "command",
    [["manage.py", "check"], ["-c", "import knowpay.wsgi"]],
    ids=["manage.py", "wsgi"],
)
def test_sandbox_with_debug_off_is_refused(tmp_path, command):
    env = bare_environment(tmp_path, PAYMENTS_SANDBOX="true", **PRODUCTION_KEYS)

    result = run_python(command, env)

    assert result.returncode != 0
    assert "payments.E006" in result.stderr


def test_public_demo_with_the_simulators_starts(tmp_path):
    env = bare_environment(tmp_path, PAYMENTS_SANDBOX="true", PAYMENTS_PUBLIC_DEMO="true", **PRODUCTION_KEYS)

    result = run_python(["-c", "import knowpay.wsgi"], env)

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
    # A setting, nothing is bound to every interface here.
    assert site_url_under(HOST="0.0.0.0", PORT="8102") == "http://127.0.0.1:8102"  # noqa: S104


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


def test_check_deploy_with_the_readme_production_variables_finds_nothing(tmp_path):
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_environment(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
