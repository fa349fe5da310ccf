"""The ledger's rules enforced by the database itself.

PostgreSQL: journal rows cannot be updated or deleted; a line's currency must be its entry's
and its account's; amounts in zero-decimal currencies are whole; and, checked at commit by a
deferred constraint trigger, every entry has at least two lines that sum to zero.
SQLite (demo only): updates are refused and currencies checked, without the commit-time check.
"""

from django.db import migrations

ZERO_DECIMAL = (
    "'BIF','CLP','DJF','GNF','JPY','KMF','KRW','MGA','PYG','RWF','UGX','VND','VUV','XAF','XOF','XPF'"
)

POSTGRES = f"""
CREATE OR REPLACE FUNCTION grants_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal rows are append-only (% on %): post a reversing entry', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grants_journalentry_append_only BEFORE UPDATE OR DELETE ON grants_journalentry
    FOR EACH ROW EXECUTE FUNCTION grants_journal_append_only();
CREATE TRIGGER grants_journalline_append_only BEFORE UPDATE OR DELETE ON grants_journalline
    FOR EACH ROW EXECUTE FUNCTION grants_journal_append_only();

CREATE OR REPLACE FUNCTION grants_journalline_check() RETURNS trigger AS $$
DECLARE
    entry_currency varchar;
    account_currency varchar;
BEGIN
    SELECT currency INTO entry_currency FROM grants_journalentry WHERE id = NEW.entry_id;
    SELECT currency INTO account_currency FROM grants_ledgeraccount WHERE id = NEW.account_id;
    IF NEW.currency IS DISTINCT FROM entry_currency OR NEW.currency IS DISTINCT FROM account_currency THEN
        RAISE EXCEPTION 'journal line in % does not match its entry (%) and account (%)',
            NEW.currency, entry_currency, account_currency USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.currency IN ({ZERO_DECIMAL}) AND NEW.amount <> trunc(NEW.amount) THEN
        RAISE EXCEPTION 'journal line % % is not whole in the currency', NEW.amount, NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grants_journalline_check BEFORE INSERT ON grants_journalline
    FOR EACH ROW EXECUTE FUNCTION grants_journalline_check();

CREATE OR REPLACE FUNCTION grants_journal_entry_balanced() RETURNS trigger AS $$
DECLARE
    checked_entry bigint;
    total numeric;
    line_count integer;
BEGIN
    IF TG_TABLE_NAME = 'grants_journalentry' THEN
        checked_entry := NEW.id;
    ELSE
        checked_entry := NEW.entry_id;
    END IF;
    SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, line_count
        FROM grants_journalline WHERE entry_id = checked_entry;
    IF line_count < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance (% lines, sum %)', checked_entry, line_count, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER grants_journalentry_balanced AFTER INSERT ON grants_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION grants_journal_entry_balanced();
CREATE CONSTRAINT TRIGGER grants_journalline_balanced AFTER INSERT ON grants_journalline
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION grants_journal_entry_balanced();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS grants_journalline_balanced ON grants_journalline;
DROP TRIGGER IF EXISTS grants_journalentry_balanced ON grants_journalentry;
DROP TRIGGER IF EXISTS grants_journalline_check ON grants_journalline;
DROP TRIGGER IF EXISTS grants_journalline_append_only ON grants_journalline;
DROP TRIGGER IF EXISTS grants_journalentry_append_only ON grants_journalentry;
DROP FUNCTION IF EXISTS grants_journal_entry_balanced();
DROP FUNCTION IF EXISTS grants_journalline_check();
DROP FUNCTION IF EXISTS grants_journal_append_only();
"""

SQLITE = [
    """CREATE TRIGGER grants_journalentry_no_update BEFORE UPDATE ON grants_journalentry
       BEGIN SELECT RAISE(ABORT, 'journal rows are append-only: post a reversing entry'); END""",
    """CREATE TRIGGER grants_journalline_no_update BEFORE UPDATE ON grants_journalline
       BEGIN SELECT RAISE(ABORT, 'journal rows are append-only: post a reversing entry'); END""",
    """CREATE TRIGGER grants_journalline_currency BEFORE INSERT ON grants_journalline
       WHEN NEW.currency IS NOT (SELECT currency FROM grants_journalentry WHERE id = NEW.entry_id)
         OR NEW.currency IS NOT (SELECT currency FROM grants_ledgeraccount WHERE id = NEW.account_id)
       BEGIN SELECT RAISE(ABORT, 'journal line currency does not match its entry and account'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS grants_journalentry_no_update",
    "DROP TRIGGER IF EXISTS grants_journalline_no_update",
    "DROP TRIGGER IF EXISTS grants_journalline_currency",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # One script with plpgsql bodies: sent without parameters, as one simple query.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_REVERSE)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("grants", "0006_ledger_and_awards")]

    operations = [migrations.RunPython(forwards, backwards)]
