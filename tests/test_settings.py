"""Production settings refuse what is only safe in development."""

import os
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
