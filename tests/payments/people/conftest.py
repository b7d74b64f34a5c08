# The payout fixtures of the ledger tests: staff, and a transfer gateway whose answers a test scripts.
from tests.payments.ledger.conftest import course_at, other_creator, staff, transfer_gateway  # noqa: F401
