"""Rated usage keeps the rest of the record (location, direction, the charge it came with) so a
re-rate can rebuild it exactly; the batch index goes (nothing looks rows up by batch, and every
index slows the bulk COPY)."""

from django.db import migrations, models

SQL = """
ALTER TABLE rating_ratedusage ADD COLUMN location varchar(2) NOT NULL DEFAULT '';
ALTER TABLE rating_ratedusage ADD COLUMN direction varchar(3) NOT NULL DEFAULT 'out';
ALTER TABLE rating_ratedusage ADD COLUMN record_charge numeric(18, 6) NULL;
DROP INDEX IF EXISTS rating_ratedusage_batch;
"""
REVERSE = """
CREATE INDEX rating_ratedusage_batch ON rating_ratedusage (batch_id);
ALTER TABLE rating_ratedusage DROP COLUMN record_charge;
ALTER TABLE rating_ratedusage DROP COLUMN direction;
ALTER TABLE rating_ratedusage DROP COLUMN location;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("rating", "0002_batch_payload_sources"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField("ratedusage", "location", models.CharField(blank=True, default="", max_length=2)),
                migrations.AddField("ratedusage", "direction", models.CharField(default="out", max_length=3)),
                migrations.AddField("ratedusage", "record_charge",
                                    models.DecimalField(decimal_places=6, max_digits=18, null=True)),
            ],
            database_operations=[migrations.RunSQL(SQL, REVERSE)],
        ),
    ]
