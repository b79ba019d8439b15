"""The case lifecycle: which status may follow which, in one table.

Every service that changes ``Case.status`` calls ``ensure_transition`` first; a step of an item's
BPMN process that would move a case along a pair missing here stops the run and goes to a clerk
by hand (services.py), so no uploaded diagram can take a shortcut (an approval without review, a
decided case reopened). The per-item routing between officials lives in BPMN; this table is the
boundary every process stays inside.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Case

S = Case.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    # submitted by the applicant; every later move is a step of the process, a clerk's hand or
    # the applicant's withdrawal
    S.DRAFT: frozenset({S.SUBMITTED}),
    # accepted, sent for supplement, approved or decided at once by the item's rules (秒批),
    # not accepted, withdrawn
    S.SUBMITTED: frozenset(
        {S.IN_REVIEW, S.SUPPLEMENT, S.APPROVED, S.COMPLETED, S.REJECTED, S.NOT_APPROVED, S.WITHDRAWN}
    ),
    # back to acceptance (or a restart), supplement, approved or not, completed where the
    # review decides the item (审核即办结, a process with no approval step); a stopped process
    # ended by a clerk as not accepted; withdrawn.
    S.IN_REVIEW: frozenset(
        {S.SUBMITTED, S.SUPPLEMENT, S.APPROVED, S.COMPLETED, S.NOT_APPROVED, S.REJECTED, S.WITHDRAWN}
    ),
    # the applicant resubmits to the step that asked; a stopped process ended by hand; withdrawn
    S.SUPPLEMENT: frozenset({S.SUBMITTED, S.IN_REVIEW, S.REJECTED, S.WITHDRAWN}),
    # approved: the result is handed out (办结); a stopped process restarted or ended by hand.
    # An approved case can no longer be withdrawn or refused by the process.
    S.APPROVED: frozenset({S.COMPLETED, S.SUBMITTED, S.REJECTED}),
    # ended: nothing follows
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
    S.NOT_APPROVED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Statuses in which the applicant may change the form and add materials.
APPLICANT_EDITS = frozenset({S.DRAFT, S.SUPPLEMENT})
# Decided cases the applicant may rate (好差评): ended, by the department.
RATEABLE = frozenset(Case.ENDED_STATUSES) - {S.WITHDRAWN}
# What a process may say: the status of an open user task, the outcome of an end event.
TASK_STATUSES = tuple(Case.OPEN_STATUSES)
OUTCOMES = (S.COMPLETED, S.REJECTED, S.NOT_APPROVED)


_LABELS = dict(S.choices)


class TransitionRefused(Exception):  # noqa: N818 - named for what happened
    """A status change outside ``TRANSITIONS``; the message is for the user."""

    def __init__(self, before: str, after: str):
        self.before, self.after = before, after
        super().__init__(
            _("An application cannot go from “%(before)s” to “%(after)s”.")
            % {"before": _LABELS.get(before, before), "after": _LABELS.get(after, after)}
        )


def may_transition(before: str, after: str) -> bool:
    """Whether a case in status ``before`` may move to ``after`` (unknown statuses: never)."""
    return after in TRANSITIONS.get(before, frozenset())


def ensure_transition(before: str, after: str) -> None:
    """Raise TransitionRefused unless ``before`` → ``after`` is in the table."""
    if not may_transition(before, after):
        raise TransitionRefused(before, after)
