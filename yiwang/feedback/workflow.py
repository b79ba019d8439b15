"""The lifecycle of a feedback item: which status may follow which, and the time limits.

::

    filed ──route──▶ routed ──accept──▶ accepted ──reply──▶ replied ──rate──▶ rated ──close──▶ closed
                       │  ▲                │                  │
                       │  └──transfer──────┘                  └──close (no rating)──▶ closed
                       └─transfer─▶ transferred ──accept──▶ accepted

A transfer sends the item to another department, which then accepts it (or transfers it on);
the deadline counts from the routing, in working days, and does not restart on a transfer.
"""

from yiwang.feedback.models import Item

S = Item.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.FILED: frozenset({S.ROUTED}),
    S.ROUTED: frozenset({S.ACCEPTED, S.TRANSFERRED}),
    S.TRANSFERRED: frozenset({S.ACCEPTED, S.TRANSFERRED}),
    S.ACCEPTED: frozenset({S.REPLIED, S.TRANSFERRED}),
    S.REPLIED: frozenset({S.RATED, S.CLOSED}),
    S.RATED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# Statuses in which the department still owes a reply (and the item may be overdue).
OPEN = frozenset({S.ROUTED, S.TRANSFERRED, S.ACCEPTED})
# Statuses a department's queue shows (waiting for it to act).
AWAITING_DEPARTMENT = OPEN

# Working days from routing to the reply, by kind (咨询 answered quickest).
REPLY_WORKDAYS = {
    Item.Kind.CONSULTATION: 3,
    Item.Kind.COMPLAINT: 10,
    Item.Kind.SUGGESTION: 15,
}
# Calendar days after the reply during which the filer may rate it; then it closes unrated.
RATING_DAYS = 15
# Repeats: the same filer, or the same place, with the same category within this many days.
REPEAT_WINDOW_DAYS = 30


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


class TransitionNotAllowed(Exception):  # noqa: N818 — named for what happened
    def __init__(self, current: str, new: str):
        super().__init__(f"{current} → {new} is not allowed")
        self.current, self.new = current, new


def ensure_transition(current: str, new: str) -> None:
    if not can_transition(current, new):
        raise TransitionNotAllowed(current, new)
