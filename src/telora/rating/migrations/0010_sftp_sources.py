"""SFTP pull sources: the SFTP settings of a source (credentials sealed in `sftp_secret`), its
schedule, and the remote files seen, each remembered once by (source, name, size, sha256)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_brand_modules'),
        ('rating', '0009_usage_bounds'),
    ]

    operations = [
        migrations.AddField(
            model_name='usagesource',
            name='every_minutes',
            field=models.PositiveIntegerField(default=1, verbose_name='every (minutes)'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='last_pull_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_after',
            field=models.CharField(default='keep', max_length=10, verbose_name='after import'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_after_folder',
            field=models.CharField(blank=True, max_length=500, verbose_name='remote move folder'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_host',
            field=models.CharField(blank=True, max_length=255, verbose_name='SFTP host'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_host_key',
            field=models.CharField(blank=True, max_length=100, verbose_name='host key fingerprint'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_path',
            field=models.CharField(blank=True, max_length=500, verbose_name='remote folder'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_port',
            field=models.PositiveIntegerField(default=22, verbose_name='SFTP port'),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_secret',
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='usagesource',
            name='sftp_user',
            field=models.CharField(blank=True, max_length=100, verbose_name='SFTP user'),
        ),
        migrations.CreateModel(
            name='RemoteFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=300)),
                ('size', models.BigIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('mtime', models.BigIntegerField(default=0)),
                ('status', models.CharField(default='pending', max_length=10)),
                ('duplicate', models.BooleanField(default=False)),
                ('reason', models.CharField(blank=True, max_length=500)),
                ('fetched_at', models.DateTimeField()),
                ('done_at', models.DateTimeField(blank=True, null=True)),
                ('brand', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.brand')),
                ('file', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='rating.usagefile')),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='remote_files', to='rating.usagesource')),
            ],
            options={
                'indexes': [models.Index(fields=['source', 'sha256'], name='rating_remote_sha')],
                'constraints': [models.UniqueConstraint(fields=('source', 'name', 'size', 'sha256'), name='rating_remote_file_once')],
            },
        ),
    ]
