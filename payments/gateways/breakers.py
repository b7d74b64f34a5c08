"""Circuit breakers, one per channel and operation, consulted by the contract boundary.

A gateway that stops answering would otherwise hold a web worker for GATEWAY_TIMEOUT_SECONDS on
every call. After GATEWAY_BREAKER_FAIL_MAX consecutive failures that say nothing about the
request (no answer, an answer we cannot trust, a contract violation; a refusal is a healthy
answer and counts as a success) the circuit opens: calls fail at once with GatewayCircuitOpen
(a GatewayUnavailable, so every caller already handles it) and no network call. After
GATEWAY_BREAKER_RESET_SECONDS the next call is let through as a trial (half-open): success closes
the circuit, failure opens it for another period.

The state is pybreaker's, shared through Redis (CircuitRedisStorage) when
GATEWAY_BREAKER_REDIS_URL is set, so every web and worker process agrees; each process keeps its
own otherwise. When that Redis cannot be reached, each process falls back to its own state (and
tries Redis again after REDIS_RETRY_SECONDS), so payments go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from functools import cache

import pybreaker
import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver

from payments.gateways.base import GatewayContractViolation, GatewayResponseInvalid, GatewayUnavailable

logger = logging.getLogger(__name__)

# Failures that count towards opening a circuit; anything else (a refusal, our own configuration)
# is an answer from a working gateway, or no question asked of it.
COUNTED_FAILURES = (GatewayUnavailable, GatewayResponseInvalid, GatewayContractViolation)
# After Redis failed, this process uses its own state this long before asking Redis again.
REDIS_RETRY_SECONDS = 30
# Redis must answer fast: it is asked before every gateway call.
REDIS_TIMEOUT_SECONDS = 0.5
KEY_PREFIX = "knowpay:breaker"


class _RedisHealth:
    """Whether the shared store may be asked now; after an error, not for REDIS_RETRY_SECONDS."""

    def __init__(self) -> None:
        self._down_until = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self) -> None:
        if self.usable():
            logger.warning(
                "circuit breaker store unreachable; each process keeps its own circuit state for now",
                extra={"retry_seconds": REDIS_RETRY_SECONDS},
            )
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS


class _ReportingRedis(redis.Redis):
    """A Redis client that tells `health` when a command fails (pybreaker swallows the error)."""

    health: _RedisHealth

    def execute_command(self, *args, **options):
        try:
            return super().execute_command(*args, **options)
        except redis.RedisError:
            self.health.failed()
            raise


class SharedOrLocalStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's CircuitRedisStorage while Redis answers, a CircuitMemoryStorage while it does not."""

    def __init__(self, *, namespace: str, client: _ReportingRedis | None) -> None:
        super().__init__("redis-or-memory")
        self._namespace = namespace
        self._client = client
        self._local = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._shared: pybreaker.CircuitRedisStorage | None = None

    @property
    def shared(self) -> bool:
        return self._store() is not self._local

    def _store(self) -> pybreaker.CircuitBreakerStorage:
        if self._client is None or not self._client.health.usable():
            return self._local
        if self._shared is None:
            try:
                self._shared = pybreaker.CircuitRedisStorage(
                    pybreaker.STATE_CLOSED, self._client, namespace=self._namespace
                )
            except redis.RedisError:
                return self._local
        return self._shared

    @property
    def state(self) -> str:
        return self._store().state

    @state.setter
    def state(self, state: str) -> None:
        self._store().state = state

    def increment_counter(self) -> None:
        self._store().increment_counter()

    def reset_counter(self) -> None:
        self._store().reset_counter()

    def increment_success_counter(self) -> None:
        self._store().increment_success_counter()

    def reset_success_counter(self) -> None:
        self._store().reset_success_counter()

    @property
    def counter(self) -> int:
        return self._store().counter

    @property
    def success_counter(self) -> int:
        return self._store().success_counter

    @property
    def opened_at(self) -> dt.datetime | None:
        return self._store().opened_at

    @opened_at.setter
    def opened_at(self, value: dt.datetime) -> None:
        self._store().opened_at = value


class GatewayBreaker(pybreaker.CircuitBreaker):
    """The breaker of one channel's operation; logs and counts the moments it opens and closes.

    `open` and `close` run only in the process that decided the change (a failure, a trial call,
    an operator's reset); other processes merely notice the shared state, and stay quiet.
    """

    def __init__(self, *, channel: str, operation: str, storage: SharedOrLocalStorage) -> None:
        super().__init__(
            fail_max=settings.GATEWAY_BREAKER_FAIL_MAX,
            reset_timeout=settings.GATEWAY_BREAKER_RESET_SECONDS,
            exclude=[lambda exc: not isinstance(exc, COUNTED_FAILURES)],
            state_storage=storage,
            name=f"{channel}.{operation}",
            # The failure that tripped the circuit leaves as itself; only later calls fail fast.
            throw_new_error_on_trip=False,
        )
        self.channel = channel
        self.operation = operation

    def open(self) -> bool:
        failures = self.fail_counter
        result = super().open()
        from knowpay.metrics import CIRCUIT_OPENED

        CIRCUIT_OPENED.labels(channel=self.channel, operation=self.operation).inc()
        logger.error(
            "gateway circuit opened: calls fail fast until a trial call succeeds",
            extra={
                "alert": "circuit_open",
                "channel": self.channel,
                "operation": self.operation,
                "failures": failures,
                "reset_seconds": self.reset_timeout,
            },
        )
        from payments.services.alerts import alert_raise  # the alerting builds on the gateways, not the reverse

        alert_raise(
            kind="circuit_open",
            incident_key=self.incident_key,
            subject=f"{self.channel} is not answering: {self.operation} calls fail fast",
            body=(
                f"{failures} calls in a row failed without an answer. Calls fail at once until a trial call, "
                f"due in {self.reset_timeout} s, succeeds. `manage.py gateway_circuits` shows the circuits."
            ),
        )
        return result

    def close(self) -> None:
        was_closed = self.current_state == pybreaker.STATE_CLOSED
        super().close()
        if not was_closed:
            logger.warning(
                "gateway circuit closed: the gateway answers again",
                extra={"channel": self.channel, "operation": self.operation},
            )
            from payments.services.alerts import alert_resolve

            try:
                alert_resolve(incident_key=self.incident_key)
            except DatabaseError:
                # The gateway answers; the incident is closed by staff or the next successful trial.
                logger.warning("could not resolve the circuit's alert", extra={"incident_key": self.incident_key})

    @property
    def incident_key(self) -> str:
        return f"circuit_open:{self.channel}.{self.operation}"

    def refusing(self) -> bool:
        """Whether a call now would fail fast (open, and the trial is not due yet)."""
        if self.current_state != pybreaker.STATE_OPEN:
            return False
        opened_at = self._state_storage.opened_at
        return bool(opened_at) and dt.datetime.now(dt.UTC) < opened_at + dt.timedelta(seconds=self.reset_timeout)


_lock = threading.Lock()


@cache
def _redis_client() -> _ReportingRedis | None:
    if not settings.GATEWAY_BREAKER_REDIS_URL:
        return None
    client = _ReportingRedis.from_url(
        settings.GATEWAY_BREAKER_REDIS_URL,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    client.health = _RedisHealth()
    return client


_breakers: dict[tuple[str, str], GatewayBreaker] = {}


def breaker_for(channel: str, operation: str) -> GatewayBreaker:
    """The breaker of `channel`'s `operation` in this process (its state may be shared)."""
    breaker = _breakers.get((channel, operation))
    if breaker is None:
        with _lock:  # one breaker per key, even when two threads ask first at once
            breaker = _breakers.get((channel, operation))
            if breaker is None:
                storage = SharedOrLocalStorage(namespace=f"{KEY_PREFIX}:{channel}:{operation}", client=_redis_client())
                breaker = _breakers[(channel, operation)] = GatewayBreaker(
                    channel=channel, operation=operation, storage=storage
                )
    return breaker


def breaker_states(channels: list[str], operations: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each channel's operations and the state of their circuits: closed, open or half-open."""
    return {channel: {op: breaker_for(channel, op).current_state for op in operations} for channel in channels}


def circuit_refusing(channel: str, operation: str) -> bool:
    return breaker_for(channel, operation).refusing()


def circuit_open_message(channel: str, operation: str) -> str:
    """What to tell a learner or creator: who is not answering, and what to do instead."""
    from payments.gateways import channel_display_name  # the registry imports this module

    name = channel_display_name(channel)
    if operation == "start_payment":
        others = [c for c in settings.PAYMENTS_CHANNELS if c != channel and not circuit_refusing(c, operation)]
        if others:
            return f"{name} is not answering. Try {channel_display_name(others[0])} or try again in a minute."
    return f"{name} is not answering. Please try again in a minute."


def breaker_store_check() -> str:
    """Readiness: the shared store answers (only asked when GATEWAY_BREAKER_REDIS_URL is set)."""
    client = _redis_client()
    client.ping()
    return "redis"


def breakers_reset() -> None:
    """Forget this process's breakers (tests, settings changes); shared state in Redis stays."""
    with _lock:
        _breakers.clear()
        _redis_client.cache_clear()


@receiver(setting_changed)
def _forget_breakers(setting, **kwargs) -> None:
    if setting.startswith("GATEWAY_BREAKER_"):
        breakers_reset()
