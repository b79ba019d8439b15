"""Account notices become message keys with parameters, rendered in the reader's language
(issue 9 §6).

Existing rows were stored as rendered text: each subject is matched against the four messages
as rendered in zh-Hans and in English, and the key and the enterprise's name (and, for a
delegation granted, the date from the body) are recovered; a row that matches none keeps no
key and is shown as written."""

import re

from django.db import migrations, models
from django.utils import translation

# The messages as they stood when this migration was written (not imported: a migration must
# not change when the code does). key → (subject, body).
MESSAGES = {
    "identity.number_used": ("Someone used your identity number", None),
    "identity.demoted": ("Your identity is no longer verified", None),
    "delegation.granted": (
        "You may now act for %(name)s",
        "Its legal representative delegated you until %(date)s. See My account.",
    ),
    "delegation.ended": ("A delegation for %(name)s ended", None),
}
GROUPS = {"%(name)s": r"(?P<name>.+)", "%(date)s": r"(?P<date>\d{4}-\d{2}-\d{2})"}


def _pattern(template):
    text = re.escape(translation.gettext(template))
    for placeholder, group in GROUPS.items():
        text = text.replace(re.escape(placeholder), group)
    return re.compile(f"^{text}$", re.S)


def _patterns():
    out = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for key, (subject, body) in MESSAGES.items():
                out.append((key, _pattern(subject), _pattern(body) if body else None))
    return out


def _match(patterns, subject, body):
    for key, subject_pattern, body_pattern in patterns:
        match = subject_pattern.match(subject)
        if match is None:
            continue
        params = match.groupdict()
        if body_pattern is not None:
            in_body = body_pattern.match(body)
            if in_body is None:
                continue
            params.update(in_body.groupdict())
        return key, params
    return None


def forwards(apps, schema_editor):
    AccountNotice = apps.get_model("identity", "AccountNotice")
    patterns = _patterns()
    for notice in AccountNotice.objects.filter(message_key="").iterator():
        found = _match(patterns, notice.subject, notice.body)
        if found is not None:
            notice.message_key, notice.params = found
            notice.save(update_fields=["message_key", "params"])


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0003_realname_levels_and_registers"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountnotice",
            name="message_key",
            field=models.CharField(blank=True, max_length=64, verbose_name="message key"),
        ),
        migrations.AddField(
            model_name="accountnotice",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="message parameters"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
