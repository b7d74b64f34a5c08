"""A gateway that stopped answering: 5 calls in a row, without and with the circuit breaker.

The gateway is a local server that accepts connections and never answers (a hung gateway), each
call bounded by GATEWAY_TIMEOUT_SECONDS (1 s here, 10 s by default in production).
Baseline: no breaker (a failure threshold no outage reaches): every call waits for its timeout.
Candidate: the breaker with GATEWAY_BREAKER_FAIL_MAX = 2: two calls wait, the other three fail fast.
Target: at most 0.5x the baseline's time (ideally N/5 = 0.4x).
"""

from __future__ import annotations

import contextlib
import socket
import threading

from harness import django_with_test_database, report, timed

CALLS = 5
FAIL_MAX = 2
PORT = 8183


def hung_gateway() -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", PORT))
    server.listen(64)
    held = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server


def main() -> None:
    with django_with_test_database():
        from django.conf import settings
        from django.test.utils import override_settings

        from payments.gateways import gateway_get
        from payments.gateways.base import GatewayUnavailable

        def five_calls() -> None:
            for number in range(CALLS):
                with contextlib.suppress(GatewayUnavailable):
                    gateway_get("sandbox").query_payment(f"KP-bench-{number}")

        server = hung_gateway()
        common = {"SANDBOX_SERVER_URL": f"http://127.0.0.1:{PORT}/", "GATEWAY_TIMEOUT_SECONDS": 1.0}
        try:
            with override_settings(**common, GATEWAY_BREAKER_FAIL_MAX=1000):
                without = timed(five_calls)
            with override_settings(**common, GATEWAY_BREAKER_FAIL_MAX=FAIL_MAX):
                with_breaker = timed(five_calls)
        finally:
            server.close()
        assert settings.GATEWAY_BREAKER_FAIL_MAX != FAIL_MAX
        ratio = with_breaker / without
        report(
            "dead gateway: 5 calls",
            baseline="no breaker (every call waits for its timeout)",
            baseline_value=without,
            candidate=f"breaker, {FAIL_MAX} failures open it",
            candidate_value=with_breaker,
            unit="s",
            target="<= 0.5x",
            met=ratio <= 0.5,
        )


if __name__ == "__main__":
    main()
