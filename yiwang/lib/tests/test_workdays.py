import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.lib import workdays

D = dt.date


def test_national_day_golden_week_is_skipped():
    # 2025-10-01..08 were holidays; 2025-09-28 (Sunday) and 2025-10-11 (Saturday) were make-up days.
    assert not workdays.is_workday(D(2025, 10, 1))
    assert workdays.is_workday(D(2025, 9, 28))
    assert workdays.is_workday(D(2025, 10, 11))
    assert workdays.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)


def test_spring_festival_make_up_saturday_counts():
    # 2026 Spring Festival: 2026-02-14 (Saturday) is a make-up working day.
    assert workdays.is_workday(D(2026, 2, 14))


def test_ordinary_week_counts_five_days():
    assert workdays.add_workdays(D(2026, 11, 20), 5) == D(2026, 11, 27)  # Friday → next Friday


def test_a_year_without_published_holidays_falls_back_to_weekdays_and_says_so():
    day = D(2099, 3, 2)  # a Monday
    assert not workdays.covers(day)
    assert workdays.is_workday(day)
    assert not workdays.is_workday(D(2099, 3, 7))  # Saturday


def test_zero_days_is_the_start_and_negative_days_are_refused():
    assert workdays.add_workdays(D(2026, 5, 1), 0) == D(2026, 5, 1)
    with pytest.raises(ValueError):
        workdays.add_workdays(D(2026, 5, 1), -1)


@given(st.dates(min_value=D(2005, 1, 1), max_value=D(2026, 6, 30)), st.integers(0, 60))
def test_adding_then_counting_gives_the_same_number(start, days):
    end = workdays.add_workdays(start, days)
    assert workdays.workdays_between(start, end) == days
    assert days == 0 or workdays.is_workday(end)
