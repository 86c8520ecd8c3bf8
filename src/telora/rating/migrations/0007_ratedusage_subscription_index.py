"""Rated usage: "a subscription's usage in a period" is found by a B-tree on subscription_id alone
instead of (subscription_id, start_time). The period picks the monthly partitions; inside one,
a subscription's rows are few enough to sort. With the subscription alone the key repeats, and
PostgreSQL's B-tree deduplication keeps one entry per subscription and leaf page instead of one per
record: a much smaller index that costs less for every rated row written."""

from django.db import migrations

SQL = """
CREATE INDEX IF NOT EXISTS rating_ratedusage_sub ON rating_ratedusage (subscription_id);
DROP INDEX IF EXISTS rating_ratedusage_sub_time;
"""
REVERSE = """
CREATE INDEX IF NOT EXISTS rating_ratedusage_sub_time ON rating_ratedusage (subscription_id, start_time);
DROP INDEX IF EXISTS rating_ratedusage_sub;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("rating", "0006_ratedusage_brin_id"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
