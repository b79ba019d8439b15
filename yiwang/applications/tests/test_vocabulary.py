"""Roles, case statuses and decisions are each defined once; everything else derives from that
definition, and every entry has what the pages need (a label in both languages, a description)."""

from __future__ import annotations

import pytest
from django.utils import translation

from yiwang.applications import duties, engine, permissions, selectors, services, workflow
from yiwang.applications.models import DECISION_LABELS, PROCESS_DECISIONS, Case, Decision, Task
from yiwang.identity.models import CASE_ROLES, WORKBENCH_ROLES, Role
from yiwang.identity.selectors import ROLE_ABILITIES


def _translated(label) -> bool:
    with translation.override("en"):
        english = str(label)
    with translation.override("zh-hans"):
        chinese = str(label)
    return bool(english) and chinese != english


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_label_and_a_description(role):
    assert _translated(role.label)
    assert _translated(ROLE_ABILITIES[role])


def test_role_descriptions_name_exactly_the_roles():
    assert set(ROLE_ABILITIES) == set(Role)


@pytest.mark.parametrize("status", list(Case.Status))
def test_every_status_has_a_label_and_a_place_in_the_lifecycle(status):
    assert _translated(status.label)
    assert status in workflow.TRANSITIONS


@pytest.mark.parametrize("decision", list(Decision))
def test_every_decision_has_a_label(decision):
    assert _translated(decision.label)
    assert DECISION_LABELS[decision.value] == decision.label


def test_the_process_vocabulary_derives_from_the_one_definitions():
    assert set(engine.ROLES) == {*CASE_ROLES, services.APPLICANT_ROLE}
    assert set(engine.STATUSES) == set(Case.OPEN_STATUSES)
    assert set(engine.OUTCOMES) == set(Case.ENDED_STATUSES) - {Case.Status.WITHDRAWN}
    assert set(engine.DECISIONS) == set(PROCESS_DECISIONS) == set(Decision) - {Decision.RESTART}
    assert set(services.HALT_DECISIONS) <= set(Decision)
    assert set(duties.DUTIES) == set(duties.DUTY_LABELS) == set(CASE_ROLES)
    assert set(permissions.QUEUE_ROLES) == set(selectors.QUEUE_ROLE.values()) == set(CASE_ROLES)
    assert set(WORKBENCH_ROLES) <= set(permissions.CASE_READER_ROLES) <= set(Role)


def test_task_and_event_columns_fit_every_value():
    longest = max(len(v) for v in [*Case.Status.values, *Decision.values, *Role.values])
    assert longest <= Task._meta.get_field("decision").max_length
    assert longest <= Task._meta.get_field("role").max_length
    assert longest <= Task._meta.get_field("case_status").max_length
