"""`make mutate`: a small mutation check of the money rules. Each mutant breaks one rule on purpose
(the fee split, the refund split, the amount match, exactly-once application, one sale per purchase,
a second gateway trade, reconciliation's checks, the fee booking); the tests that guard that rule
must then fail. A mutant that survives is a rule no test would notice breaking, and the command
exits non-zero naming it.

Each mutant is one exact text replacement in one file, applied in place and always restored
(also on Ctrl-C); it runs only the tests of its rule, stopping at the first failure. Kept apart
from `make test` because it runs the relevant tests once per mutant (about a minute in all).

    python tests/mutants.py            # every mutant
    python tests/mutants.py fee-trunc  # the named ones
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEDGER_TESTS = ["tests/payments/ledger/test_money.py", "tests/payments/ledger/test_postings.py"]
EVENT_TESTS = ["tests/payments/test_notify_processing.py", "tests/payments/test_notify_bad_input.py"]
REFUND_TESTS = ["tests/payments/test_refunds.py", "tests/payments/wechat/test_refund_notify.py"]
RECONCILIATION_TESTS = ["tests/payments/test_reconciliation_fees.py", "tests/payments/test_reconciliation.py"]


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    path: str
    original: str
    mutated: str
    tests: list[str]


MUTANTS = [
    Mutant(
        "fee-trunc",
        "fees round half up, not down",
        "payments/money.py",
        "    return (2 * numerator + denominator) // (2 * denominator)",
        "    return numerator // denominator",
        LEDGER_TESTS,
    ),
    Mutant(
        "fee-no-bps",
        "the fee is gross x bps / 10000",
        "payments/money.py",
        "    fee = _div_round_half_up(gross_fen * fee_bps, BPS_WHOLE)",
        "    fee = _div_round_half_up(gross_fen * fee_bps, BPS_WHOLE * 10)",
        LEDGER_TESTS,
    ),
    Mutant(
        "refund-per-part",
        "a refund's fee share is pro rata on the cumulative refund",
        "payments/money.py",
        "    before = _div_round_half_up(fee_fen * refunded_before_fen, gross_fen)",
        "    before = _div_round_half_up(fee_fen * refunded_before_fen, gross_fen) * 0",
        LEDGER_TESTS,
    ),
    Mutant(
        "refund-creator-whole",
        "the creator gives back the refund less the fee share",
        "payments/money.py",
        "creator_fen=refund_fen - (after - before))",
        "creator_fen=refund_fen)",
        LEDGER_TESTS,
    ),
    Mutant(
        "refund-from-available",
        "a held sale's refund comes out of the held earnings",
        "payments/services/ledger.py",
        "(accounts.pending if held else accounts.available, split.creator_fen)",
        "(accounts.available, split.creator_fen)",
        ["tests/payments/ledger/test_postings.py"],
    ),
    Mutant(
        "amount-ignored",
        "a payment applies only for our exact amount",
        "payments/services/events.py",
        "        if event.amount_fen != payment.amount_fen:",
        "        if False:",
        EVENT_TESTS,
    ),
    Mutant(
        "applied-twice",
        "a payment is applied exactly once",
        "payments/services/events.py",
        "    if payment.status == Payment.Status.SUCCEEDED:\n        if event.gateway_trade_no",
        "    if False:\n        if event.gateway_trade_no",
        EVENT_TESTS,
    ),
    Mutant(
        "duplicate-missed",
        "a second payment of a paid order is a duplicate",
        "payments/services/events.py",
        "    if order.status not in (Order.Status.PENDING, Order.Status.CLOSED):\n        return True",
        "    if order.status not in (Order.Status.PENDING, Order.Status.CLOSED):\n        return False",
        EVENT_TESTS,
    ),
    Mutant(
        "another-order-missed",
        "one sale per purchase: a paid order of the same learner and course makes a payment a duplicate",
        "payments/services/events.py",
        "    return (\n        bought_in_another_order\n        or",
        "    return (\n        False\n        or",
        ["tests/payments/test_one_purchase.py"],
    ),
    Mutant(
        "second-trade-absorbed",
        "another gateway trade for a paid attempt is an anomaly, never a replay",
        "payments/services/events.py",
        "and event.gateway_trade_no != payment.gateway_trade_no:",
        "and False:",
        ["tests/payments/test_second_gateway_trade.py"],
    ),
    Mutant(
        "refund-amount-ignored",
        "a refund applies only for our exact amount",
        "payments/services/refunds.py",
        "    if event.refund_fen != refund.amount_fen:",
        "    if False:",
        REFUND_TESTS,
    ),
    Mutant(
        "refund-applied-twice",
        "a refund is applied exactly once",
        "payments/services/refunds.py",
        "    if refund.status == Refund.Status.SUCCEEDED:\n        return RefundApplyResult(ApplyOutcome.ALREADY",
        "    if False:\n        return RefundApplyResult(ApplyOutcome.ALREADY",
        REFUND_TESTS,
    ),
    Mutant(
        "reconcile-amount-ignored",
        "reconciliation reports a different amount",
        "payments/services/reconciliation.py",
        "    if ours.amount_fen != entry.amount_fen:",
        "    if False:",
        RECONCILIATION_TESTS,
    ),
    Mutant(
        "gateway-fee-reversed",
        "a gateway fee is the platform's cost, out of clearing",
        "payments/services/ledger.py",
        "legs=[(fees, fee_fen), (clearing, -fee_fen)] if charged else",
        "legs=[(fees, -fee_fen), (clearing, fee_fen)] if charged else",
        RECONCILIATION_TESTS,
    ),
]


def _pytest(tests: list[str]) -> int:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    # Our own interpreter on our own test paths.
    return subprocess.run(command, cwd=ROOT, capture_output=True, check=False).returncode  # noqa: S603


def _run(mutant: Mutant) -> bool:
    """Apply, test, restore. True if the mutant was killed (its tests failed)."""
    path = ROOT / mutant.path
    source = path.read_text()
    if source.count(mutant.original) != 1:
        raise SystemExit(f"{mutant.name}: the text to mutate is not found once in {mutant.path}; update MUTANTS")
    path.write_text(source.replace(mutant.original, mutant.mutated))
    try:
        code = _pytest(mutant.tests)
    finally:
        path.write_text(source)
    if code not in (0, 1):
        raise SystemExit(f"{mutant.name}: pytest could not run (exit {code}): {mutant.tests}")
    return code == 1


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    if _pytest(sorted({test for mutant in chosen for test in mutant.tests})) != 0:
        print("The tests fail without any mutant: fix them first.")
        return 2
    started, survivors = time.monotonic(), []
    for mutant in chosen:
        killed = _run(mutant)
        print(f"{'killed  ' if killed else 'SURVIVED'} {mutant.name}: {mutant.rule}", flush=True)
        if not killed:
            survivors.append(mutant.name)
    print(f"{len(chosen) - len(survivors)} of {len(chosen)} mutants killed in {time.monotonic() - started:.0f} s")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
