"""Where supervision reads complaints and ratings of market entities from: the ``feedback`` app
(12345 complaints, 好差评), which sits beside supervision and is not imported here.

A small ``Protocol`` and a setting pick the source: ``SUPERVISION_FEEDBACK_SOURCE`` is the dotted
path of a class with these methods; the default, ``NoFeedback``, reports no complaints and no
ratings, so scores and warnings rest on the other records until feedback plugs in (it provides a
class reading its own selectors and names it in the setting). A source that fails raises; callers
fail closed (a recomputation stops, nothing is half-written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class DailyCount:
    """Complaints received on ``day`` about ``topic`` in the area ``region_code``."""

    day: dt.date
    region_code: str
    topic: str
    count: int


class FeedbackSource(Protocol):
    def complaints(self, credit_codes: Iterable[str] | None, *, since: dt.date) -> dict[str, int]:
        """Complaints about each entity since ``since`` (credit code → count; absent means 0).
        ``None``: every entity with any."""
        ...

    def ratings(self, credit_codes: Iterable[str] | None, *, since: dt.date) -> dict[str, tuple[int, int]]:
        """好差评 about each entity since ``since``: credit code → (bad ratings, all ratings)."""
        ...

    def daily_counts(self, *, since: dt.date, until: dt.date) -> list[DailyCount]:
        """Complaints per day, area and topic from ``since`` to ``until`` (both included)."""
        ...


class NoFeedback:
    """The default source: no feedback app plugged in yet, no complaints and no ratings."""

    def complaints(self, credit_codes, *, since):
        return {}

    def ratings(self, credit_codes, *, since):
        return {}

    def daily_counts(self, *, since, until):
        return []


DEFAULT = "yiwang.supervision.feedback_source.NoFeedback"


@cache
def _source_class(path: str):
    return import_string(path)


def source() -> FeedbackSource:
    """The configured feedback source (``SUPERVISION_FEEDBACK_SOURCE``)."""
    return _source_class(getattr(settings, "SUPERVISION_FEEDBACK_SOURCE", DEFAULT))()
