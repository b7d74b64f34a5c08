"""Brokers that fail the way production brokers do, for tests of what the web process does then."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from knowpay import enqueue
from knowpay.celery import app as celery_app


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Publish tasks to `url` for real (not eagerly) with the app's configured timeouts, then restore.

    The write URL, because CELERY_BROKER_URL in the environment overrides the app's broker_url.
    """
    conf = celery_app.conf
    # The app keeps its broker connections in pools made for the URL of their time: new ones for
    # `url`, and the old ones back afterwards (kombu shares them process-wide, so never close them).
    saved = conf.get("broker_write_url"), conf.task_always_eager, celery_app._pool, celery_app.amqp._producer_pool
    conf.broker_write_url, conf.task_always_eager = url, False
    celery_app._pool = celery_app.amqp._producer_pool = None
    enqueue._paused_until = 0.0  # a broker that failed in another test is not this one
    try:
        yield
    finally:
        enqueue._paused_until = 0.0
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        conf.broker_write_url, conf.task_always_eager, celery_app._pool, celery_app.amqp._producer_pool = saved


@contextmanager
def stopped_broker() -> Iterator[str]:
    """A Redis URL whose port refuses connections (bound, never listening), as a stopped broker's does."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{bound.getsockname()[1]}/0"


@contextmanager
def hung_broker() -> Iterator[str]:
    """A Redis URL whose server accepts connections and reads, but never answers (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()
