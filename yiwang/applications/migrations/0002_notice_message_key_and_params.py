"""Notices become message keys with parameters, rendered in the reader's language (issue 9 §6).

Existing rows were stored as rendered text: each subject is matched against the four messages
as rendered in zh-Hans and in English, and the key, the case number and the status code are
recovered; a subject that matches none keeps no key and is shown as written."""

import re

from django.db import migrations, models
from django.utils import translation

# The messages as they stood when this migration was written (not imported: a migration must
# not change when the code does).
SUBJECTS = {
    "case.received": "Application %(number)s received",
    "case.status": "Application %(number)s: %(status)s",
    "case.withdrawn": "Application %(number)s withdrawn",
    "rating.replied": "The department replied to your rating of %(number)s",
}
STATUSES = {
    "draft": "Draft",
    "submitted": "Submitted, awaiting acceptance",
    "in_review": "Under review",
    "supplement": "Needs supplement",
    "approved": "Approved",
    "rejected": "Not accepted",
    "not_approved": "Not approved",
    "completed": "Completed",
    "withdrawn": "Withdrawn",
}


def _patterns():
    out = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels = {translation.gettext(label): code for code, label in STATUSES.items()}
            for key, template in SUBJECTS.items():
                text = re.escape(translation.gettext(template))
                text = text.replace(re.escape("%(number)s"), r"(?P<number>[0-9A-Za-z-]+)")
                text = text.replace(re.escape("%(status)s"), r"(?P<status>.+)")
                out.append((key, re.compile(f"^{text}$"), labels))
    return out


def forwards(apps, schema_editor):
    Notice = apps.get_model("applications", "Notice")
    patterns = _patterns()
    for notice in Notice.objects.filter(message_key="").iterator():
        for key, pattern, labels in patterns:
            match = pattern.match(notice.subject)
            if match is None:
                continue
            params = {"number": match["number"]}
            if "status" in pattern.groupindex:
                if match["status"] not in labels:
                    continue
                params["status"] = labels[match["status"]]
            notice.message_key, notice.params = key, params
            notice.save(update_fields=["message_key", "params"])
            break


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notice",
            name="message_key",
            field=models.CharField(blank=True, max_length=64, verbose_name="message key"),
        ),
        migrations.AddField(
            model_name="notice",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="message parameters"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
