"""The record of every outbound gateway call (written by the contract boundary, payments.gateways.boundary).

A record must outlive the business transaction around the call: support asks "what did the
gateway say, when" most often about the attempts that went wrong, whose transaction rolled back.

- Outside a transaction (how services call gateways: never while holding row locks) the row is
  inserted in autocommit mode, its own transaction, committed before the caller goes on.
- Inside one on PostgreSQL it is inserted through a short-lived second connection, committed at
  once whatever the caller's transaction does.
- Inside one on SQLite (the demo and the fast test run) it joins the caller's transaction: SQLite
  has one writer at a time, and a second connection would wait on the caller's own lock.

The atomic blocks that Django's TestCase wraps each test in do not count as a transaction here, as
they do not for Django's own `atomic(durable=True)` check.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import sql

from payments.models import GatewayCall

logger = logging.getLogger(__name__)


def _inside_business_transaction(connection) -> bool:
    return any(not block._from_testcase for block in connection.atomic_blocks)


def _insert_on_own_connection(call: GatewayCall) -> None:
    own = connections.create_connection(DEFAULT_DB_ALIAS)  # autocommit, like every new connection
    try:
        fields = [field for field in GatewayCall._meta.concrete_fields if not field.primary_key]
        query = sql.InsertQuery(GatewayCall)
        query.insert_values(fields, [call])
        query.get_compiler(connection=own).execute_sql()
    finally:
        own.close()


def gateway_call_record(**fields) -> None:
    """Store one GatewayCall, committed on its own.

    Never raises: the record serves support, and must not fail the payment or refund it describes;
    a record that cannot be written is logged with what it would have said.
    """
    call = GatewayCall(
        **{
            name: value[: GatewayCall._meta.get_field(name).max_length] if isinstance(value, str) else value
            for name, value in fields.items()
        }
    )
    connection = transaction.get_connection()
    try:
        if not _inside_business_transaction(connection):
            call.save()
        elif connection.vendor == "postgresql":
            _insert_on_own_connection(call)
        else:
            with transaction.atomic():  # a savepoint: a failed insert must not spoil the caller's transaction
                call.save()
    except Exception:
        logger.exception(
            "gateway call could not be recorded",
            extra={field: str(value) for field, value in fields.items()},
        )
