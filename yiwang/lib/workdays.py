"""Working days on the official Chinese calendar (statutory holidays and make-up working days).

The holiday arrangement is published by the State Council each year; ``chinesecalendar``
carries the published years. For a year it does not cover yet, the count falls back to
Monday–Friday and ``covers()`` says so, so a page can tell the reader the date is provisional.
"""

import datetime as dt
from functools import lru_cache

import chinese_calendar

# A case deadline is never more than a few years out; refuse absurd counts early.
MAX_WORKDAYS = 2000


@lru_cache(maxsize=4096)
def covers(day: dt.date) -> bool:
    """Whether the official holiday arrangement for ``day``'s year is known."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=65536)
def is_workday(day: dt.date) -> bool:
    """True on working days: weekdays that are not holidays, and make-up Saturdays/Sundays."""
    if covers(day):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_workdays(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted, as a time
    limit starts the day after acceptance). ``days == 0`` gives ``start``."""
    if not 0 <= days <= MAX_WORKDAYS:
        raise ValueError(f"days must be between 0 and {MAX_WORKDAYS}")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        remaining -= is_workday(day)
    return day


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_workday(day)
    return count
