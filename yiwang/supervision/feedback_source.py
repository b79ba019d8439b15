"""Where supervision reads complaints and ratings of market entities from: the ``feedback`` app
(12345 complaints, 好差评), which sits beside supervision and is not imported here.

A small ``Protocol`` and a setting pick the source: ``SUPERVISION_FEEDBACK_SOURCE`` is the dotted
path of a class with these methods. The default, ``FeedbackApp``, reads the ``feedback`` app's
selectors (12345 complaints that name an entity by its unified social credit code; complaints
per area, topic and day); it has no ratings of entities (好差评 rate the government's service,
not the market entity), so ``ratings`` is empty. ``NoFeedback`` reports nothing, for a
deployment without 12345. A source that fails raises; callers fail closed (a recomputation
stops, nothing is half-written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils import timezone
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


class FeedbackApp:
    """The platform's own 12345 (``yiwang.feedback``): the default source."""

    def complaints(self, credit_codes, *, since):
        from yiwang.feedback import selectors

        start = dt.datetime.combine(since, dt.time.min, tzinfo=timezone.get_current_timezone())
        codes = None if credit_codes is None else list(credit_codes)
        return selectors.complaint_counts_by_entity(codes, since=start)

    def ratings(self, credit_codes, *, since):
        return {}

    def daily_counts(self, *, since, until):
        from yiwang.feedback import selectors

        counts = selectors.complaint_counts(since=since, until=until)
        return [
            DailyCount(day=day, region_code=region, topic=topic, count=n)
            for (region, topic, day), n in sorted(
                counts.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])
            )
        ]


DEFAULT = "yiwang.supervision.feedback_source.FeedbackApp"


@cache
def _source_class(path: str):
    return import_string(path)


def source() -> FeedbackSource:
    """The configured feedback source (``SUPERVISION_FEEDBACK_SOURCE``)."""
    return _source_class(getattr(settings, "SUPERVISION_FEEDBACK_SOURCE", DEFAULT))()
