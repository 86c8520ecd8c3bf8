"""The receivables ledger is append-only in the database too: UPDATE and DELETE raise."""

from django.db import migrations

SQL = """
CREATE FUNCTION billing_ar_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing_arledgerentry is append-only: entries are never edited or deleted';
END $$;
CREATE TRIGGER billing_ar_append_only BEFORE UPDATE OR DELETE ON billing_arledgerentry
    FOR EACH ROW EXECUTE FUNCTION billing_ar_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS billing_ar_append_only ON billing_arledgerentry;
DROP FUNCTION IF EXISTS billing_ar_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
