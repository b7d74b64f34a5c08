"""Production settings refuse what is only safe in development; defaults fail closed.

Each refusal is tested in a subprocess that starts from an environment without any of our variables.
"""

import pytest

from tests.production import environment_without_ours, production_environment, run_python

PRODUCTION_SECRET = "a-long-random-production-secret-0123456789-abcdefghijklmnop"


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


def test_production_without_gateway_settings_refuses_to_start_naming_them(tmp_path):
    result = run_python(["manage.py", "check"], bare_environment(tmp_path, SECRET_KEY=PRODUCTION_SECRET))

    assert result.returncode != 0
    assert "alipay: ALIPAY_APP_ID is not set." in result.stderr
    assert "wechat: WECHAT_MCH_ID is not set." in result.stderr


@pytest.mark.parametrize(
    "command",
    [["manage.py", "check"], ["-c", "import knowpay.wsgi"]],
    ids=["manage.py", "wsgi"],
)
def test_sandbox_with_debug_off_is_refused(tmp_path, command):
    env = bare_environment(tmp_path, DEBUG="false", SECRET_KEY=PRODUCTION_SECRET, PAYMENTS_SANDBOX="true")

    result = run_python(command, env)

    assert result.returncode != 0
    assert "payments.E005" in result.stderr


def test_public_demo_with_the_simulators_starts(tmp_path):
    env = bare_environment(
        tmp_path, DEBUG="false", SECRET_KEY=PRODUCTION_SECRET, PAYMENTS_SANDBOX="true", PAYMENTS_PUBLIC_DEMO="true"
    )

    result = run_python(["-c", "import knowpay.wsgi"], env)

    assert result.returncode == 0, result.stderr


def test_check_deploy_with_the_readme_production_variables_finds_nothing(tmp_path):
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_environment(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
