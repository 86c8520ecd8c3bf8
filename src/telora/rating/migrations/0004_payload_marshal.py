"""Batch payloads become bytes (a version octet and marshal data, see services.staging), stored
without compression (pglz over megabytes costs more than it saves). Pending batches written in
the earlier text form (one record per line, tab-separated) are converted."""

import datetime as dt
import marshal

from django.db import migrations, models

_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _unescape(text):
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _rows(text):
    for line in text.split("\n"):
        if line:
            f = [_unescape(v) for v in line.split("\t")]
            yield (f[0], f[1], f[2], f[3], int(f[4]), int(f[5]), int(f[6]), int(f[7]), f[8], f[9] or None, f[10],
                   int(f[11]))


def convert(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, convert_from(payload, 'UTF8') FROM rating_ratingbatch WHERE length(payload) > 0")
        for batch_id, text in cursor.fetchall():
            payload = b"\x01" + marshal.dumps(list(_rows(text)), 4)
            cursor.execute("UPDATE rating_ratingbatch SET payload = %s WHERE id = %s", [payload, batch_id])


class Migration(migrations.Migration):

    dependencies = [
        ("rating", "0003_ratedusage_record_fields"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField("ratingbatch", "payload", models.BinaryField(default=b""))],
            database_operations=[migrations.RunSQL(
                "ALTER TABLE rating_ratingbatch ALTER COLUMN payload TYPE bytea USING convert_to(payload, 'UTF8'); "
                "ALTER TABLE rating_ratingbatch ALTER COLUMN payload SET STORAGE EXTERNAL",
                "ALTER TABLE rating_ratingbatch ALTER COLUMN payload TYPE text USING ''")],
        ),
        migrations.RunPython(convert, migrations.RunPython.noop),
    ]
