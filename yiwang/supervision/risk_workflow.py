"""The lifecycle of a risk warning's task: 派发 → 处置 → 反馈 → 办结 (one screen, table-driven).

A dispatched warning is taken up (处置) by the department, which then gives its feedback (反馈:
what it found and did); a manager closes it (办结) or sends it back for more handling. Nothing
leaves ``closed``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

DISPATCHED, HANDLING, FEEDBACK, CLOSED = "dispatched", "handling", "feedback", "closed"
STATES = (DISPATCHED, HANDLING, FEEDBACK, CLOSED)

# (from, to) → (who may: "inspector" = the department's inspectors and managers, "manager" only
# managers; whether a note is required; the button's label)
TRANSITIONS = {
    (DISPATCHED, HANDLING): ("inspector", False, _("Take up (处置)")),
    (HANDLING, FEEDBACK): ("inspector", True, _("Give feedback (反馈)")),
    (FEEDBACK, HANDLING): ("manager", True, _("Send back for more handling")),
    (FEEDBACK, CLOSED): ("manager", False, _("Close (办结)")),
}


def may_transition(before: str, after: str) -> bool:
    return (before, after) in TRANSITIONS


def next_states(before: str) -> list[str]:
    return [after for (b, after) in TRANSITIONS if b == before]
