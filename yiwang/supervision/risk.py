"""Risk warnings (风险预警): the rules and the statistical detector (docs/supervision.md § Risk).

Pure functions over records; ``risk_services.warnings_scan`` feeds them and turns what they find
into tasks. Complaints come from the feedback source (``feedback_source``), as for credit.

Rules
- ``expired_complaints``: an entity with a licence past its end (and not renewed) about which
  complaints were received in the last ``COMPLAINT_DAYS`` days: it may be trading without one.
- ``failed_inspections``: an entity with at least ``FAILED_MIN`` inspection results of 立案 or
  无法联系 (fail, absent) recorded in the last ``FAILED_DAYS`` days.
- ``complaint_spike``: complaints in an area about one topic in the last ``SPIKE_DAYS`` days at
  least ``SPIKE_RATIO`` times the average of the same length over the ``BASELINE_DAYS`` before,
  and at least ``SPIKE_MIN``.

Detector (``anomalies``): for each (area, topic), today's count ``x`` against the trailing
``WINDOW`` days before it. The baseline is the window's median (robust: an earlier spike does not
raise it), floored at ``LAMBDA_FLOOR``; the day is anomalous when the Poisson upper tail
``P(X ≥ x | λ = baseline)`` is below ``ALPHA`` and ``x ≥ MIN_COUNT``. The robust z-score
``(x − median) / (1.4826 · MAD)`` (MAD floored at 1) is reported beside it for the reader.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from statistics import median

from yiwang.supervision.feedback_source import DailyCount

COMPLAINT_DAYS = 30
FAILED_MIN = 2
FAILED_DAYS = 365
FAILED_RESULTS = ("fail", "absent")
SPIKE_DAYS = 7
BASELINE_DAYS = 28
SPIKE_RATIO = 3.0
SPIKE_MIN = 10
WINDOW = 28
LAMBDA_FLOOR = 0.5
ALPHA = 1e-3
MIN_COUNT = 5


def poisson_tail(x: int, lam: float) -> float:
    """P(X ≥ x) for X ~ Poisson(lam), computed as 1 − P(X ≤ x − 1) in log space (stable)."""
    if x <= 0:
        return 1.0
    term = math.exp(-lam)
    cdf = term
    for k in range(1, x):
        term *= lam / k
        cdf += term
    return max(0.0, 1.0 - cdf)


def robust_z(x: float, window: list[int]) -> float:
    med = median(window) if window else 0.0
    mad = median([abs(v - med) for v in window]) if window else 0.0
    return (x - med) / (1.4826 * max(mad, 1.0))


def _series(counts: Iterable[DailyCount]) -> dict[tuple[str, str], dict[dt.date, int]]:
    out: dict[tuple[str, str], dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        out[(c.region_code, c.topic)][c.day] += c.count
    return out


def anomalies(counts: Iterable[DailyCount], *, today: dt.date) -> list[dict]:
    """The (area, topic) whose count on ``today`` is anomalous: ``{"region_code", "topic", "count",
    "baseline", "p", "z"}``, sorted by area and topic."""
    found = []
    for (region, topic), by_day in sorted(_series(counts).items()):
        x = by_day.get(today, 0)
        if x < MIN_COUNT:
            continue
        window = [by_day.get(today - dt.timedelta(days=i), 0) for i in range(1, WINDOW + 1)]
        lam = max(float(median(window)), LAMBDA_FLOOR)
        p = poisson_tail(x, lam)
        if p < ALPHA:
            z = robust_z(x, window)
            found.append({"region_code": region, "topic": topic, "count": x, "baseline": lam, "p": p, "z": z})
    return found


def spikes(counts: Iterable[DailyCount], *, today: dt.date) -> list[dict]:
    """The (area, topic) with a complaint spike over the last ``SPIKE_DAYS`` days up to ``today``."""
    found = []
    for (region, topic), by_day in sorted(_series(counts).items()):
        recent = sum(by_day.get(today - dt.timedelta(days=i), 0) for i in range(SPIKE_DAYS))
        before = sum(
            by_day.get(today - dt.timedelta(days=i), 0) for i in range(SPIKE_DAYS, SPIKE_DAYS + BASELINE_DAYS)
        )
        expected = before * SPIKE_DAYS / BASELINE_DAYS
        if recent >= SPIKE_MIN and recent >= SPIKE_RATIO * expected:
            found.append(
                {"region_code": region, "topic": topic, "count": recent, "expected": round(expected, 2)}
            )
    return found


def repeated_failures(results: Iterable[tuple[str, str, dt.date]], *, today: dt.date) -> dict[str, int]:
    """Credit code → number of failed results, for the entities with at least ``FAILED_MIN`` of
    them in the last ``FAILED_DAYS`` days; ``results`` are (credit code, result, date)."""
    since = today - dt.timedelta(days=FAILED_DAYS)
    counts: dict[str, int] = defaultdict(int)
    for code, result, on in results:
        if result in FAILED_RESULTS and on is not None and since <= on <= today:
            counts[code] += 1
    return {code: n for code, n in sorted(counts.items()) if n >= FAILED_MIN}


def expired_with_complaints(expired: dict[str, list[str]], complaints: dict[str, int]) -> dict[str, dict]:
    """Credit code → {"licences", "complaints"} for entities with an expired licence and complaints."""
    return {
        code: {"licences": sorted(numbers), "complaints": int(complaints[code])}
        for code, numbers in sorted(expired.items())
        if numbers and complaints.get(code, 0) > 0
    }
