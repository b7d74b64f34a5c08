"""Helpers for the operating tests: metric samples, closed ports, a server that never answers."""

from __future__ import annotations

import contextlib
import socket
import threading

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from knowpay.metrics import metrics_exposition


def sample(name: str, **labels: str) -> float:
    """The current value of a counter or histogram sample in this process (0 before the first event)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(name: str, **labels: str) -> float | None:
    """A value as /metrics exposes it now (scrape-time gauges included), or None if absent."""
    for family in text_string_to_metric_families(metrics_exposition().decode()):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return metric.value
    return None


def closed_port() -> int:
    """A loopback port nothing listens on (just released by the kernel)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def black_hole(port: int):
    """A TCP server on `port` that accepts connections and never answers; yields a list of the
    connections it accepted."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        server.close()


@contextlib.contextmanager
def hang_up_server(port: int):
    """A TCP server on `port` that accepts and at once closes every connection (a gateway that is
    down behind its load balancer); yields a list with one entry per connection made."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    server.settimeout(0.2)
    connections: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            connections.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield connections
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()
