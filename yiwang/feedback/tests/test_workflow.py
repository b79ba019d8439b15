import itertools

import pytest

from yiwang.feedback import workflow
from yiwang.feedback.models import Item

ALLOWED = {
    ("filed", "routed"),
    ("routed", "accepted"),
    ("routed", "transferred"),
    ("transferred", "accepted"),
    ("transferred", "transferred"),
    ("accepted", "replied"),
    ("accepted", "transferred"),
    ("replied", "rated"),
    ("replied", "closed"),
    ("rated", "closed"),
}


@pytest.mark.parametrize(("current", "new"), list(itertools.product(Item.Status.values, repeat=2)))
def test_the_transition_table_allows_exactly_the_lifecycle(current, new):
    assert workflow.can_transition(current, new) == ((current, new) in ALLOWED)


def test_every_status_is_in_the_table():
    assert set(workflow.TRANSITIONS) == set(Item.Status.values)


def test_every_kind_has_a_time_limit():
    assert set(workflow.REPLY_WORKDAYS) == set(Item.Kind.values)
