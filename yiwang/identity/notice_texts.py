"""What account notices say, as message keys with parameters (issue 9 §6): a notice is stored
as a key and its parameters and rendered in the reader's language when it is read, so a
notice sent while the actor browsed in Chinese reads in English for an English reader, and
the other way. Parameters are names and dates, never rendered words.

The rows also keep their zh-Hans rendering (``subject``, ``body``) for email and for rows
written before keys existed, whose text is shown as written.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

NUMBER_USED = "identity.number_used"
DEMOTED = "identity.demoted"
DELEGATION_GRANTED = "delegation.granted"
DELEGATION_ENDED = "delegation.ended"
# The citizen's data-use record (yiwang.exchange.questions): a question reaches the provider's
# data stewards; the answer reaches the citizen.
DATA_USE_QUESTION = "data_use.question"
DATA_USE_ANSWERED = "data_use.answered"

# key → (subject, body); both may name parameters as %(name)s.
MESSAGES = {
    NUMBER_USED: (
        gettext_noop("Someone used your identity number"),
        gettext_noop(
            "Another account declared the identity number bound to your account. Nothing was "
            "changed on your account and the other account was not verified. If this was not "
            "you, you need do nothing; if it keeps happening, contact a government service hall."
        ),
    ),
    DEMOTED: (
        gettext_noop("Your identity is no longer verified"),
        gettext_noop(
            "The identity number of your account was checked in person for another account at a "
            "government service hall. Your account is back at level L1 (self-declared). If this "
            "is your identity, bring your identity card to a service hall."
        ),
    ),
    DELEGATION_GRANTED: (
        gettext_noop("You may now act for %(name)s"),
        gettext_noop("Its legal representative delegated you until %(date)s. See My account."),
    ),
    DELEGATION_ENDED: (
        gettext_noop("A delegation for %(name)s ended"),
        gettext_noop("See My account for who acts for the enterprise now."),
    ),
    DATA_USE_QUESTION: (
        gettext_noop("A citizen asked about a use of %(resource)s"),
        gettext_noop(
            "A citizen asked why %(department)s used their data from %(resource)s. Answer on the "
            "workbench under Questions about data uses."
        ),
    ),
    DATA_USE_ANSWERED: (
        gettext_noop("Your question about a use of your data was answered"),
        gettext_noop("%(department)s answered your question. See My data uses on My account."),
    ),
}


def _render(template: str, params: dict) -> str:
    values = {k: v for k, v in (params or {}).items() if isinstance(v, str | int)}
    try:
        return gettext(template) % values
    except (KeyError, TypeError, ValueError):
        return ""


def subject(key: str, params: dict) -> str:
    """The notice's subject in the active language ("" for an unknown key or missing parameter)."""
    message = MESSAGES.get(key)
    return _render(message[0], params) if message else ""


def body(key: str, params: dict) -> str:
    """The notice's text in the active language ("" for an unknown key or missing parameter)."""
    message = MESSAGES.get(key)
    return _render(message[1], params) if message else ""


def stored(key: str, params: dict) -> tuple[str, str]:
    """Subject and body as kept in the row (for email and readers of old rows): zh-Hans."""
    with translation.override("zh-hans"):
        return subject(key, params), body(key, params)
