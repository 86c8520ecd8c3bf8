"""Rated usage says which rate override (a customer's price agreement, a customer group's rate)
priced it, so a CSR can explain the charge."""

from django.db import migrations, models

SQL = "ALTER TABLE rating_ratedusage ADD COLUMN override varchar(120) NOT NULL DEFAULT '';"
REVERSE = "ALTER TABLE rating_ratedusage DROP COLUMN override;"


class Migration(migrations.Migration):

    dependencies = [
        ("rating", "0012_ocs_sources_thresholds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField("ratedusage", "override", models.CharField(blank=True, default="", max_length=120)),
            ],
            database_operations=[migrations.RunSQL(SQL, REVERSE)],
        ),
    ]
