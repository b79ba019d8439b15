"""Leaf format v2: the public leaf no longer carries actors, targets, request ids or addresses.

Entries written in format v1 published pseudonymous actors, targets and event data; they cannot be
converted (their hashes are what tree heads signed), so this migration refuses to run over them outside
development. In development (YIWANG_DEV=1) the old log is dropped: rebuild it with `yiwang demo`.
"""

import os

from django.db import migrations, models


def drop_v1_log(apps, schema_editor):
    entry = apps.get_model("audit", "AuditEntry")
    if not entry.objects.exists():
        return
    if os.environ.get("YIWANG_DEV") != "1":
        raise RuntimeError(
            "The audit log holds entries in leaf format v1, which publish personal data and cannot be "
            "converted. Export it for your records, then empty the audit tables (audit_auditentry, "
            "audit_auditnode, audit_audithead, audit_signedtreehead) and migrate again. See docs/audit.md."
        )
    with schema_editor.connection.cursor() as cursor:
        for model in ("AuditEntry", "AuditNode", "AuditHead", "SignedTreeHead"):
            table = schema_editor.quote_name(apps.get_model("audit", model)._meta.db_table)
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 — model metadata only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(drop_v1_log, migrations.RunPython.noop),
        migrations.AddField(
            model_name="auditentry",
            name="subject_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="subject user id"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_kind",
            field=models.CharField(blank=True, max_length=32, verbose_name="actor kind"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_department",
            field=models.CharField(blank=True, max_length=32, verbose_name="acting department"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_role",
            field=models.CharField(blank=True, max_length=64, verbose_name="acting role"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="salt",
            field=models.BinaryField(default=b"", max_length=16, verbose_name="commitment salt"),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("actor_type", "user")), fields=["actor_id"], name="audit_entry_actor_user_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("subject_id", ""), _negated=True),
                fields=["subject_id"],
                name="audit_entry_subject_idx",
            ),
        ),
    ]
