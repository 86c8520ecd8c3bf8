"""A brand's own invoice templates: versions kept, at most one active per brand."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0002_ar_ledger_append_only'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='InvoiceTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField(verbose_name='version')),
                ('source', models.TextField(verbose_name='template source')),
                ('active', models.BooleanField(default=False, verbose_name='active')),
                ('note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                ('created_at', models.DateTimeField()),
                ('created_by', models.CharField(blank=True, max_length=200)),
                ('brand', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.brand')),
            ],
            options={
                'ordering': ['-version'],
                'constraints': [models.UniqueConstraint(fields=('brand', 'version'), name='billing_template_version_once'), models.UniqueConstraint(condition=models.Q(('active', True)), fields=('brand',), name='billing_template_one_active')],
            },
        ),
    ]
