"""The ledger's invariants in PostgreSQL itself, so no code path (raw SQL, a shell, a bug) can break them.

- Entries, lines and payout allocations are append-only: UPDATE and DELETE raise.
- Every entry balances: a deferred constraint trigger checks at commit that each entry written in
  the transaction has two or more lines summing to zero.

SQLite has no such triggers here; there the models' save/delete guards and `ledger_check` remain.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION payments_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only; post a reversing entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER payments_ledgerentry_append_only BEFORE UPDATE OR DELETE ON payments_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_refuse_change();
CREATE TRIGGER payments_ledgerline_append_only BEFORE UPDATE OR DELETE ON payments_ledgerline
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_refuse_change();
CREATE TRIGGER payments_payoutallocation_append_only BEFORE UPDATE OR DELETE ON payments_payoutallocation
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_refuse_change();

CREATE FUNCTION payments_ledger_check_entry(checked_entry bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    line_count integer;
    total bigint;
BEGIN
    SELECT count(*), coalesce(sum(amount_fen), 0) INTO line_count, total
        FROM payments_ledgerline WHERE entry_id = checked_entry;
    IF line_count < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger entry % does not balance: % lines summing to % fen', checked_entry, line_count, total
            USING ERRCODE = 'check_violation';
    END IF;
END
$$;

CREATE FUNCTION payments_ledgerentry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM payments_ledger_check_entry(NEW.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION payments_ledgerline_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM payments_ledger_check_entry(NEW.entry_id);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER payments_ledgerentry_balanced AFTER INSERT ON payments_ledgerentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_ledgerentry_balanced();
CREATE CONSTRAINT TRIGGER payments_ledgerline_balanced AFTER INSERT ON payments_ledgerline
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_ledgerline_balanced();
"""

BACKWARD = """
DROP TRIGGER payments_ledgerline_balanced ON payments_ledgerline;
DROP TRIGGER payments_ledgerentry_balanced ON payments_ledgerentry;
DROP FUNCTION payments_ledgerline_balanced();
DROP FUNCTION payments_ledgerentry_balanced();
DROP FUNCTION payments_ledger_check_entry(bigint);
DROP TRIGGER payments_payoutallocation_append_only ON payments_payoutallocation;
DROP TRIGGER payments_ledgerline_append_only ON payments_ledgerline;
DROP TRIGGER payments_ledgerentry_append_only ON payments_ledgerentry;
DROP FUNCTION payments_ledger_refuse_change();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters, so the driver leaves the '%' of RAISE alone.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_ledger_and_payouts"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD), elidable=False),
    ]
