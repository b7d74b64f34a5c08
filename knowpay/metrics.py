"""Prometheus metrics: what every process counts, and what is read from the database at scrape time.

Counters and histograms live in the process that observes the event. Under gunicorn with several
workers (and Celery workers on the same host) `PROMETHEUS_MULTIPROC_DIR` makes each process write
its figures to files there, and a scrape adds them up, so `/metrics` is whole whichever worker
answers (knowpay/gunicorn_conf.py clears the directory at start and marks dead workers). Gauges that are
facts of the database (backlogs, queues awaiting a person) are not kept by any process: collectors
registered with `scrape_collector_register` compute them when scraped, by cheap indexed queries.
"""

from __future__ import annotations

import os
import time

from django.db import connection, transaction
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# --- Web requests -------------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "knowpay_http_requests_total", "Requests answered, by route name, method and status.", ["view", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "knowpay_http_request_duration_seconds", "Time to answer a request, by route name.", ["view", "method"]
)
HTTP_DB_QUERIES = Histogram(
    "knowpay_http_request_db_queries",
    "Database queries made while answering a request, by route name (its _sum is the query count).",
    ["view"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)

# --- Payments -----------------------------------------------------------------------------------

NOTIFICATIONS = Counter(
    "knowpay_notifications_total",
    "Gateway notifications processed, by channel, kind (payment/refund) and outcome.",
    ["channel", "kind", "outcome"],
)
PAYMENTS_STARTED = Counter(
    "knowpay_payments_started_total", "Payments started at a gateway (the learner got its cashier).", ["channel"]
)
PAYMENTS_SUCCEEDED = Counter(
    "knowpay_payments_succeeded_total", "Payments that made an order paid (late ones included).", ["channel"]
)
PAYMENTS_DUPLICATED = Counter(
    "knowpay_payments_duplicated_total", "Second payments for an already paid order (refunded).", ["channel"]
)
REFUNDS = Counter("knowpay_refunds_total", "Refunds entering a state, by that state.", ["state"])
RECONCILIATION_RUNS = Counter(
    "knowpay_reconciliation_runs_total", "Reconciliation runs finished, by channel and status.", ["channel", "status"]
)

# --- Gateways -----------------------------------------------------------------------------------

GATEWAY_CALLS = Counter(
    "knowpay_gateway_calls_total",
    "Calls to gateways by channel, operation and outcome (ok, rejected, unavailable, circuit_open...).",
    ["channel", "operation", "outcome"],
)
GATEWAY_LATENCY = Histogram(
    "knowpay_gateway_call_duration_seconds",
    "Time a gateway took to answer (or fail), by channel and operation.",
    ["channel", "operation"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CIRCUIT_OPENED = Counter(
    "knowpay_gateway_circuit_opened_total", "Times a gateway operation's circuit opened.", ["channel", "operation"]
)

# --- Celery -------------------------------------------------------------------------------------

TASKS = Counter("knowpay_celery_tasks_total", "Celery task runs by task and outcome.", ["task", "outcome"])
TASK_DURATION = Histogram("knowpay_celery_task_duration_seconds", "Celery task run time, by task.", ["task"])


def count_after_commit(counter, **labels) -> None:
    """Count a business event once its transaction commits (never one that rolled back)."""
    transaction.on_commit(lambda: counter.labels(**labels).inc(), robust=True)


# --- Scrape -------------------------------------------------------------------------------------

_scrape_collectors: list[Collector] = []


def scrape_collector_register(collector: Collector) -> None:
    """Add a collector whose figures are computed at each scrape (from the database, a breaker store)."""
    if collector not in _scrape_collectors:
        _scrape_collectors.append(collector)


def metrics_exposition() -> bytes:
    """Every metric in the Prometheus text format: all processes' counters, then scrape-time gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    at_scrape = CollectorRegistry()
    for collector in _scrape_collectors:
        at_scrape.register(collector)
    return generate_latest(processes) + generate_latest(at_scrape)


class RequestMetricsMiddleware:
    """Counts and times each request by its route name (never the raw path: unbounded labels),
    with the number of database queries it made."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        view = _view_name(request)
        method = request.method if request.method in _METHODS else "other"
        HTTP_LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        HTTP_DB_QUERIES.labels(view=view).observe(queries)
        return response


# A client may send any method name; labels must stay a small, known set.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match._func_path
    return getattr(request, "metrics_view", "<unmatched>")
