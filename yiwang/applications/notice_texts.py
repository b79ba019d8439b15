"""What notices say, as message keys with parameters (issue 9 §6): a notice is stored as a key
and its parameters and rendered in the reader's language when it is read, so a notice sent
while the applicant browsed in Chinese reads in English when they switch, and the other way.

Parameters are codes, never rendered words: a status is stored as ``approved`` and shown as
the reader's label for it; rule texts are stored as written (``中文 | English``, see
yiwang.lib.bilingual) and shown in the reader's part.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from yiwang.lib.bilingual import pick

RECEIVED = "case.received"
STATUS = "case.status"
WITHDRAWN = "case.withdrawn"
RATING_REPLIED = "rating.replied"

SUBJECTS = {
    RECEIVED: gettext_noop("Application %(number)s received"),
    STATUS: gettext_noop("Application %(number)s: %(status)s"),
    WITHDRAWN: gettext_noop("Application %(number)s withdrawn"),
    RATING_REPLIED: gettext_noop("The department replied to your rating of %(number)s"),
}


def _status_label(code: str) -> str:
    from .models import Case

    try:
        return str(Case.Status(code).label)
    except ValueError:
        return code


def subject(key: str, params: dict) -> str:
    """The notice's subject in the active language ("" for an unknown key)."""
    template = SUBJECTS.get(key)
    if template is None:
        return ""
    values = {k: v for k, v in (params or {}).items() if isinstance(v, str | int)}
    if "status" in values:
        values["status"] = _status_label(str(values["status"]))
    try:
        return gettext(template) % values
    except (KeyError, TypeError, ValueError):
        return ""


def body(params: dict, written: str) -> str:
    """The notice's text: the decisive rules' texts in the reader's part, else what a person
    wrote (an official's comment, shown as written)."""
    rules = (params or {}).get("rules")
    if isinstance(rules, list) and rules:
        return "; ".join(pick(r) for r in rules if isinstance(r, str) and r)
    return written


def stored_subject(key: str, params: dict) -> str:
    """The subject kept in the row (for email and readers of old rows): zh-Hans."""
    with translation.override("zh-hans"):
        return subject(key, params)


def stored_body(params: dict) -> str:
    """The rule texts kept in the row's body (for email): zh-Hans."""
    with translation.override("zh-hans"):
        return body(params, "")
