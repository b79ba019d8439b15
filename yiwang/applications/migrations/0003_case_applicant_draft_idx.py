# The drafts quota's count of one person's drafts uses its own partial index (issue 9 §9).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0002_notice_message_key_and_params"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status", "draft")), fields=["applicant"], name="case_applicant_draft_idx"
            ),
        ),
    ]
