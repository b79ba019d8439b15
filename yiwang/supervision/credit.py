"""Credit scoring of market entities (信用评价): the rules, as plain data and one pure function.

An entity starts at ``BASE`` points; each record in its window adds or takes the points below, the
score is kept within 0–100 and gives the tier. Being on the serious-dishonesty list gives tier D
whatever the score. Every record that counted is returned with its points (the explanation the
official's page shows), so a tier can always be traced to the records behind it.
docs/supervision.md § Credit states the same table for people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

BASE = 80
WINDOW_DAYS = 3 * 365  # inspections and penalties count for three years
COMPLAINT_DAYS = 365  # complaints and ratings count for one year

INSPECTION_POINTS = {"pass": 3, "rectify": -5, "fail": -15, "absent": -10}
PASS_CAP = 15  # passed inspections add at most this much together
PENALTY_POINTS = {"warning": -5, "fine": -10, "suspension": -25, "revocation": -40}
LARGE_FINE = Decimal("100000")  # a fine of at least this much counts as ...
LARGE_FINE_POINTS = -20  # ... this instead of the fine's points
LICENCE_REVOKED_POINTS = -20
LICENCE_EXPIRED_POINTS = -5
COMPLAINT_POINTS = -2
COMPLAINT_CAP = -20
RATINGS_MIN = 5  # ratings count once an entity has at least this many
BAD_SHARE = 0.2  # a fifth or more of them bad ...
BAD_RATINGS_POINTS = -10  # ... costs this; none bad earns:
GOOD_RATINGS_POINTS = 5
TIER_FLOORS = (("A", 90), ("B", 70), ("C", 50))  # below the last floor: D


@dataclass
class Records:
    """What scoring reads of one entity. Dates are the records' own dates."""

    inspections: list[tuple[str, str, dt.date]] = field(default_factory=list)  # (ref, result, date)
    penalties: list[tuple[str, str, Decimal, dt.date]] = field(
        default_factory=list
    )  # (no., kind, amount, date)
    licences_revoked: list[str] = field(default_factory=list)  # licence numbers
    licences_expired: list[str] = field(default_factory=list)
    complaints: int = 0
    ratings: tuple[int, int] = (0, 0)  # (bad, all)
    listed: list[str] = field(default_factory=list)  # decision numbers of list entries in force


def tier_of(score: int) -> str:
    for tier, floor in TIER_FLOORS:
        if score >= floor:
            return tier
    return "D"


def score(records: Records, *, today: dt.date) -> tuple[int, str, list[dict]]:
    """(score, tier, explanation) of ``records`` on ``today``. The explanation lists each record
    that counted: ``{"kind", "ref", "on", "points"}`` (``on`` an ISO date or "")."""
    since = today - dt.timedelta(days=WINDOW_DAYS)
    lines: list[dict] = []

    def add(kind: str, ref: str, on, points: int) -> None:
        lines.append({"kind": kind, "ref": ref, "on": on.isoformat() if on else "", "points": points})

    passed = 0
    for ref, result, on in sorted(records.inspections, key=lambda r: (r[2], r[0])):
        if on < since or result not in INSPECTION_POINTS:
            continue
        points = INSPECTION_POINTS[result]
        if points > 0:
            points = max(0, min(points, PASS_CAP - passed))
            passed += points
        add(f"inspection:{result}", ref, on, points)
    for number, kind, amount, on in sorted(records.penalties, key=lambda r: (r[3], r[0])):
        if on < since or kind not in PENALTY_POINTS:
            continue
        points = PENALTY_POINTS[kind]
        if kind == "fine" and amount >= LARGE_FINE:
            points = LARGE_FINE_POINTS
        add(f"penalty:{kind}", number, on, points)
    for number in sorted(records.licences_revoked):
        add("licence:revoked", number, None, LICENCE_REVOKED_POINTS)
    for number in sorted(records.licences_expired):
        add("licence:expired", number, None, LICENCE_EXPIRED_POINTS)
    if records.complaints:
        add(
            "complaints",
            str(records.complaints),
            None,
            max(COMPLAINT_CAP, COMPLAINT_POINTS * records.complaints),
        )
    bad, rated = records.ratings
    if rated >= RATINGS_MIN:
        if bad / rated >= BAD_SHARE:
            add("ratings:bad", f"{bad}/{rated}", None, BAD_RATINGS_POINTS)
        elif bad == 0:
            add("ratings:good", f"{bad}/{rated}", None, GOOD_RATINGS_POINTS)
    total = max(0, min(100, BASE + sum(line["points"] for line in lines)))
    tier = tier_of(total)
    for number in sorted(records.listed):
        add("dishonesty:listed", number, None, 0)
        tier = "D"
    return total, tier, lines
