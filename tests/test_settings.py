"""Production settings refuse what is only safe in development."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "FIELD_ENCRYPTION_KEYS")}
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


# A Fernet key of this test's own (never the public development key).
PRODUCTION_KEYS = {
    "SECRET_KEY": "a-long-random-production-secret-0123456789",
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LXByb2R1Y3Rpb24ta2V5LTAxMjM0NTY=",
}


def test_production_without_an_encryption_key_refuses_to_start():
    result = run_check(DEBUG="false", SECRET_KEY=PRODUCTION_KEYS["SECRET_KEY"], PAYMENTS_SANDBOX="true")

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_with_the_public_development_key_refuses_to_start():
    result = run_check(
        DEBUG="false",
        SECRET_KEY=PRODUCTION_KEYS["SECRET_KEY"],
        FIELD_ENCRYPTION_KEYS="a25vd3BheS1wdWJsaWMtZGV2LWtleS1OT1QtU0FGRSE=",
        PAYMENTS_SANDBOX="true",
    )

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_without_gateway_settings_refuses_to_start_naming_them():
    result = run_check(DEBUG="false", **PRODUCTION_KEYS)

    assert result.returncode != 0
    assert "alipay: ALIPAY_APP_ID is not set." in result.stderr
    assert "wechat: WECHAT_MCH_ID is not set." in result.stderr


def test_staging_with_a_secret_key_and_the_simulators_starts():
    result = run_check(DEBUG="false", PAYMENTS_SANDBOX="true", **PRODUCTION_KEYS)

    assert result.returncode == 0, result.stderr
