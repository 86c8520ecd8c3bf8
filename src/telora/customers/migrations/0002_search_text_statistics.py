"""Finer statistics on customers' search_text, so the planner estimates name fragments well.

With the default (100) a common fragment ("aker" in 2.6 % of names) is estimated at a hundred rows
and a rare one at thousands; at 1000 the estimates are close, and the planner picks the trigram
index or the brand index for a name search as it should (see bench/bench_search.py).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE customers_customer ALTER COLUMN search_text SET STATISTICS 1000",
            "ALTER TABLE customers_customer ALTER COLUMN search_text SET STATISTICS -1",
        ),
    ]
