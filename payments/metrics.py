"""Payments' figures computed at each scrape (knowpay.metrics) and its readiness checks (knowpay.health).

Each scrape costs four small indexed queries, whatever the size of the tables: the unsent outbox
(a partial index), payouts awaiting review (status index), and the findings of each channel's
latest reconciliation run (unique channel+day index).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from knowpay.health import CheckFailed, ReadinessCheck
from payments.gateways import breakers
from payments.gateways.boundary import OPERATIONS
from payments.models import OutboxMessage, Payout, ReconciliationItem, ReconciliationRun

CIRCUIT_STATE_VALUES = {"closed": 0, "half-open": 1, "open": 2}


def _age_seconds(oldest) -> float:
    return max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0


class PaymentsCollector:
    """Gauges read from the database and the breakers when /metrics is scraped."""

    def collect(self):
        outbox = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(
            count=Count("pk"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily("knowpay_outbox_backlog", "Messages not sent yet.", value=outbox["count"])
        yield GaugeMetricFamily(
            "knowpay_outbox_oldest_age_seconds",
            "Age of the oldest message not sent yet (0 when none).",
            value=_age_seconds(outbox["oldest"]),
        )

        review = Payout.objects.filter(status=Payout.Status.REQUESTED).aggregate(
            count=Count("pk"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily(
            "knowpay_payouts_awaiting_review", "Payouts requested and not yet decided by staff.", value=review["count"]
        )
        yield GaugeMetricFamily(
            "knowpay_payouts_awaiting_review_oldest_age_seconds",
            "Age of the oldest payout awaiting review (0 when none).",
            value=_age_seconds(review["oldest"]),
        )

        discrepancies = GaugeMetricFamily(
            "knowpay_reconciliation_discrepancies",
            "Findings of each channel's latest completed reconciliation run, by class (repaired included).",
            labels=["channel", "kind"],
        )
        latest_day = (
            ReconciliationRun.objects.filter(channel=OuterRef("run__channel"))
            .filter(status__in=[ReconciliationRun.Status.BALANCED, ReconciliationRun.Status.DISCREPANCIES])
            .values("channel")
            .annotate(day=Max("day"))
            .values("day")
        )
        counted = (
            ReconciliationItem.objects.filter(run__day=Subquery(latest_day))
            .values_list("run__channel", "kind")
            .annotate(n=Count("pk"))
            .order_by()
        )
        found = {(channel, kind): n for channel, kind, n in counted}
        channels = sorted({channel for channel, _ in found} | set(settings.PAYMENTS_CHANNELS))
        for channel in channels:
            for kind in ReconciliationItem.Kind.values:
                discrepancies.add_metric([channel, kind], found.get((channel, kind), 0))
        yield discrepancies

        circuits = GaugeMetricFamily(
            "knowpay_gateway_circuit_state",
            "Circuit of each gateway operation: 0 closed, 1 half-open, 2 open (shared state, or this process's).",
            labels=["channel", "operation"],
        )
        for channel, states in breakers.breaker_states(settings.PAYMENTS_CHANNELS, OPERATIONS).items():
            for operation, state in states.items():
                circuits.add_metric([channel, operation], CIRCUIT_STATE_VALUES.get(state, 2))
        yield circuits


def _circuits_check(channel: str):
    def run() -> str:
        states = breakers.breaker_states([channel], OPERATIONS)[channel]
        open_ones = sorted(op for op, state in states.items() if state != "closed")
        if open_ones:
            raise CheckFailed("circuit not closed: " + ", ".join(f"{op} {states[op]}" for op in open_ones))
        return "closed"

    return run


def readiness_checks() -> list[ReadinessCheck]:
    """The breakers' shared store (when configured) and each offered channel's circuits; none critical:
    with them failing the web still serves (own breaker state, other channels)."""
    checks = []
    if settings.GATEWAY_BREAKER_REDIS_URL:
        checks.append(ReadinessCheck("breaker_store", breakers.breaker_store_check, critical=False))
    for channel in settings.PAYMENTS_CHANNELS:
        checks.append(ReadinessCheck(f"gateway:{channel}", _circuits_check(channel), critical=False))
    return checks
