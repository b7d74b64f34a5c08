"""Django admin for payments: money records are read-only; every action calls a service."""

from payments.admin import alerts, core, ledger  # noqa: F401
