"""gunicorn settings, given as `gunicorn knowpay.wsgi -c knowpay/gunicorn_conf.py`: Prometheus multi-process mode.

Each worker is a process with its own counters; with PROMETHEUS_MULTIPROC_DIR every worker writes
its figures to files there and /metrics adds up all of them, so a scrape is whole whichever
worker answers. The directory must be empty when the server starts (figures of an earlier run
would be added in) and is private to this server. Without the variable a fresh one is made.
"""

import os
import tempfile
from pathlib import Path

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Set before any worker imports prometheus_client, which reads it once.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="knowpay-metrics-")


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    # A dead worker's live gauges leave the sums; its counters stay, as Prometheus expects.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
