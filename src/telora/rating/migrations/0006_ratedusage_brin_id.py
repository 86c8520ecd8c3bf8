"""Rated usage: the primary key index on (id, start_time) becomes a BRIN index on id. Ids come
from an identity column, so they are unique without a unique index; rows arrive in id order, so
a BRIN index finds one by id in a few pages while costing next to nothing per inserted row (the
B-tree cost about a tenth of writing a rated row). Lookups by subscription and time keep their
B-tree."""

from django.db import migrations

SQL = """
ALTER TABLE rating_ratedusage DROP CONSTRAINT IF EXISTS rating_ratedusage_pkey;
CREATE INDEX IF NOT EXISTS rating_ratedusage_id ON rating_ratedusage USING brin (id) WITH (pages_per_range = 16);
"""
REVERSE = """
DROP INDEX IF EXISTS rating_ratedusage_id;
ALTER TABLE rating_ratedusage ADD PRIMARY KEY (id, start_time);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("rating", "0005_usagekey_without_fk_check"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
