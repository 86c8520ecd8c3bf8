"""Late usage: a usage mark records what it billed (count, quantity, exact amount, and per service
and zone), and the brand's settings say how many billed periods are checked for late usage."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0003_invoice_template'),
    ]

    operations = [
        migrations.AddField(
            model_name='billingsettings',
            name='late_usage_periods',
            field=models.PositiveSmallIntegerField(default=3, verbose_name='late usage: periods billed back'),
        ),
        migrations.AddField(
            model_name='billingsettings',
            name='late_usage_report_periods',
            field=models.PositiveSmallIntegerField(default=3, verbose_name='late usage: periods reported beyond'),
        ),
        migrations.AddField(
            model_name='chargemark',
            name='count',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='chargemark',
            name='quantity',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='chargemark',
            name='amount',
            field=models.DecimalField(blank=True, decimal_places=6, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name='chargemark',
            name='detail',
            field=models.JSONField(blank=True, null=True),
        ),
    ]
