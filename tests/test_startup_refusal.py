"""Web and worker processes refuse to start when real money would meet public test keys.

Each test starts the process as production does, in a subprocess with a production environment.
"""

import http.client
import subprocess
import sys
import time

import pytest

from tests.production import ROOT, TEST_KEYS, free_port, production_environment, run_python

TEST_ALIPAY_PUBLIC_KEY = str(TEST_KEYS / "TEST_ONLY_alipay_platform_public.pem")


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    # No control socket: its default path is shared by every gunicorn of this user.
    command = ["gunicorn", "knowpay.wsgi", "--workers", "1", "--no-control-socket", "--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def http_status(port: int, path: str) -> int | None:
    """The status of a GET, redirects not followed; None while nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def test_gunicorn_refuses_to_start_with_the_committed_alipay_public_key(tmp_path):
    env = production_environment(tmp_path, ALIPAY_PUBLIC_KEY=TEST_ALIPAY_PUBLIC_KEY)
    server = start_gunicorn(env, free_port())
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        server.kill()

    assert server.returncode != 0
    assert "payments.E001: ALIPAY_PUBLIC_KEY is TEST-ONLY key material" in output


def test_gunicorn_serves_with_keys_of_its_own(tmp_path):
    port = free_port()
    server = start_gunicorn(production_environment(tmp_path), port)
    try:
        deadline = time.monotonic() + 60
        status = None
        while status is None and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.3)
            # A page that needs no database: the notify endpoint answers GET with 405 (301 to HTTPS first).
            status = http_status(port, "/payments/notify/alipay/")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    assert status in (301, 405), output


def test_asgi_application_refuses_to_load_with_the_sandbox_channel_outside_sandbox_mode(tmp_path):
    env = production_environment(tmp_path, PAYMENTS_CHANNELS="alipay,wechat,sandbox")

    result = run_python(["-c", "import knowpay.asgi"], env)

    assert result.returncode != 0
    assert "payments.E002: The sandbox channel is enabled but PAYMENTS_SANDBOX is off." in result.stderr


@pytest.mark.parametrize("command", [["worker", "--pool=solo"], ["beat", "--schedule", "{tmp}/beat-schedule"]])
def test_celery_refuses_to_start_with_a_committed_key(tmp_path, command):
    env = production_environment(
        tmp_path,
        WECHAT_MCH_KEY=str(TEST_KEYS / "TEST_ONLY_wechat_mch_key.pem"),
        CELERY_BROKER_URL="memory://localhost/",
    )
    args = [part.format(tmp=tmp_path) for part in command]

    result = run_python(["-m", "celery", "-A", "knowpay", *args, "--loglevel=WARNING"], env, timeout=30)

    assert result.returncode != 0
    assert "payments.E001: WECHAT_MCH_KEY is TEST-ONLY key material" in result.stdout + result.stderr
