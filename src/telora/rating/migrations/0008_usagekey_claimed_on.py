"""Usage keys remember the day they were claimed, so that a brand's operator may forget keys older
than a window (TELORA_USAGE_KEY_DAYS; by default they are kept forever). Existing keys get the day
of the migration: PostgreSQL fills the column without rewriting the table (CURRENT_DATE is fixed for
the statement). A BRIN index finds the old ones: keys are claimed in time order."""

from django.contrib.postgres.indexes import BrinIndex
from django.db import migrations, models

SQL = "ALTER TABLE rating_usagekey ADD COLUMN claimed_on date NOT NULL DEFAULT CURRENT_DATE"
REVERSE = "ALTER TABLE rating_usagekey DROP COLUMN claimed_on"


class Migration(migrations.Migration):

    dependencies = [
        ("rating", "0007_ratedusage_subscription_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(SQL, REVERSE)],
            state_operations=[migrations.AddField(model_name="usagekey", name="claimed_on",
                                                  field=models.DateField())],
        ),
        migrations.AddIndex(model_name="usagekey",
                            index=BrinIndex(fields=["claimed_on"], name="rating_usagekey_claimed")),
    ]
