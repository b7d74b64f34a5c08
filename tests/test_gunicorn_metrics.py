"""With several gunicorn workers, /metrics is whole: each worker's requests are counted in every scrape."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
PORT = 8180
TOKEN = "gunicorn-metrics-test-token-0123"

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _get(path: str, **headers) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    conn.request("GET", path, headers={"Connection": "close", **headers})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def _healthz_count() -> float:
    text = _get("/metrics", Authorization=f"Bearer {TOKEN}").body.decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "knowpay_http_requests_total" and sample.labels.get("view") == "healthz":
                return sample.value
    return 0.0


def _workers(master: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


@pytest.fixture
def gunicorn(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "METRICS_TOKEN": TOKEN,
        "CELERY_BROKER_URL": "",
    }
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "knowpay.wsgi",
            "-c",
            "knowpay/gunicorn_conf.py",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _get("/healthz").status == 200 and len(_workers(server.pid)) == 2:
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_every_workers_requests_are_in_every_scrape(gunicorn):
    # A sync worker holding a half-sent request is busy: the next requests go to the other worker.
    held = socket.create_connection(("127.0.0.1", PORT))
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.5)
    before = _healthz_count()
    for _ in range(10):
        assert _get("/healthz").status == 200
    held.sendall(b"Connection: close\r\n\r\n")  # now the first worker answers too
    assert held.recv(1024).startswith(b"HTTP/1.1 200")
    held.close()

    counts = {_healthz_count() for _ in range(6)}

    assert counts == {before + 11}


def test_a_dead_workers_figures_stay_counted(gunicorn):
    for _ in range(5):
        _get("/healthz")
    before = _healthz_count()
    os.kill(_workers(gunicorn.pid)[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_workers(gunicorn.pid)) != 2:
        time.sleep(0.2)

    assert _healthz_count() == before
