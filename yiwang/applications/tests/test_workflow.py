"""The case lifecycle table (workflow.py), walked as a whole matrix through the services: every
allowed status change works, every other pair is refused and leaves the case as it was."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from yiwang.applications import engine, services, workflow
from yiwang.applications.models import Case, Task
from yiwang.applications.tests.conftest import act, open_task

S = Case.Status
STATUSES = list(S)

# The lifecycle, written out a second time as the specification the table must match.
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    *((S.SUBMITTED, s) for s in STATUSES if s not in (S.DRAFT, S.SUBMITTED)),
    *(
        (S.IN_REVIEW, s)
        for s in (S.SUBMITTED, S.SUPPLEMENT, S.APPROVED, S.COMPLETED, S.NOT_APPROVED, S.REJECTED)
    ),
    (S.IN_REVIEW, S.WITHDRAWN),
    *((S.SUPPLEMENT, s) for s in (S.SUBMITTED, S.IN_REVIEW, S.REJECTED, S.WITHDRAWN)),
    *((S.APPROVED, s) for s in (S.COMPLETED, S.SUBMITTED, S.REJECTED)),
}
PAIRS = list(itertools.product(STATUSES, STATUSES))


@pytest.mark.parametrize(("before", "after"), PAIRS)
def test_the_table_allows_exactly_the_lifecycle(before, after):
    assert workflow.may_transition(before, after) == ((before, after) in ALLOWED)
    if (before, after) not in ALLOWED:
        with pytest.raises(workflow.TransitionRefused):
            workflow.ensure_transition(before, after)


def test_every_status_is_in_the_table_and_ended_ones_lead_nowhere():
    assert set(workflow.TRANSITIONS) == set(STATUSES)
    for status in Case.ENDED_STATUSES:
        assert workflow.TRANSITIONS[status] == frozenset()
    assert set(Case.OPEN_STATUSES) | set(Case.ENDED_STATUSES) | {S.DRAFT} == set(STATUSES)


def test_unknown_statuses_never_move():
    assert not workflow.may_transition("lost", S.SUBMITTED)
    assert not workflow.may_transition(S.SUBMITTED, "lost")


class FakeRun:
    """A process step that wants the case in ``status`` (what engine.Run reports after a step)."""

    def __init__(self, status: str):
        self.status = status
        self.finished = status in Case.ENDED_STATUSES
        self.rule_hits: list = []

    def open_tasks(self):
        if self.finished:
            return []
        return [engine.OpenTask("fake-0", "step", "Step", "clerk", self.status, ("accept",))]

    def serialize(self) -> dict:
        return {"format": engine.STATE_FORMAT, "fake": self.status}


def _force(case: Case, status: str) -> Case:
    """Put a test case in ``status`` (test set-up only: the services never write status so)."""
    Case.objects.filter(pk=case.pk).update(status=status)
    return Case.objects.get(pk=case.pk)


@pytest.mark.parametrize(("before", "after"), [(b, a) for b, a in PAIRS if b != a])
def test_every_status_change_through_the_services(submitted, citizen, before, after):
    """Withdrawal goes through case_withdraw; every other change is a step of the process,
    brought onto the case by the service every workflow step uses (_apply_run)."""
    case = _force(submitted, before)
    saved_workflow = case.workflow
    allowed = (before, after) in ALLOWED
    if after == S.WITHDRAWN:
        if allowed:
            case = services.case_withdraw(actor=citizen, case=case)
        else:
            with pytest.raises(services.WrongState):
                services.case_withdraw(actor=citizen, case=case)
    else:
        with transaction.atomic():
            case = services._lock(case)
            services._apply_run(case, FakeRun(after), now=timezone.now())
            case.save(update_fields=services.RUN_FIELDS)
    case.refresh_from_db()
    if allowed:
        assert case.status == after
        assert not Task.objects.filter(case=case, name=services.HALT_TASK).exists()
    else:
        assert case.status == before
        assert case.workflow == saved_workflow
        if after != S.WITHDRAWN:  # the refused step stops the process: a clerk takes it by hand
            halt = Task.objects.get(case=case, state=Task.State.OPEN)
            assert halt.name == services.HALT_TASK


@pytest.mark.parametrize("status", STATUSES)
def test_only_a_draft_is_submitted(item, applicant_material, citizen, status):
    from yiwang.applications.tests.conftest import complete_draft

    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = _force(case, status)
    if status == S.DRAFT:
        assert services.case_submit(actor=citizen, case=case).status == S.SUBMITTED
    else:
        with pytest.raises(services.WrongState):
            services.case_submit(actor=citizen, case=case)
        assert Case.objects.get(pk=case.pk).status == status


def test_a_move_the_table_refuses_is_a_clear_refusal(submitted):
    case = _force(submitted, S.COMPLETED)
    with pytest.raises(services.WrongState, match=str(S.COMPLETED.label)):
        services._move(case, S.SUBMITTED)
    assert case.status == S.COMPLETED


def test_withdrawal_ends_the_workflow_state_too(submitted, citizen, clerk_x):
    task = open_task(submitted)
    case = services.case_withdraw(actor=citizen, case=submitted, reason="不需要了")
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN and case.ended_at is not None
    run = engine.Run.restore(case.workflow)
    assert run.cancelled and run.finished and run.open_tasks() == []
    assert case.workflow["cancelled"] is True
    with pytest.raises(engine.TaskNotOpen):
        run.complete(task.spiff_id, decision="accept")
    with pytest.raises(services.AlreadyHandled):
        services.task_complete(actor=clerk_x, task=task, decision="accept")


def test_a_diagram_cannot_take_a_shortcut_past_the_lifecycle(
    item, citizen, applicant_material, clerk_x, dept_admin
):
    """A department's diagram that sends an approved case back to review stops there and goes
    to a clerk by hand; the case stays approved."""
    from yiwang.applications.tests.conftest import complete_draft
    from yiwang.applications.tests.test_engine import make_bpmn

    bpmn = make_bpmn().replace('value="submitted"', 'value="approved"')
    review = """
    <bpmn:userTask id="review" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="reviewer" />
        <spiffworkflow:property name="status" value="in_review" />
        <spiffworkflow:property name="decisions" value="pass" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="end_ok" />"""
    bpmn = bpmn.replace('targetRef="end_ok">', 'targetRef="review">', 1).replace(
        '<bpmn:endEvent id="end_ok"><bpmn:incoming>f3</bpmn:incoming>',
        '<bpmn:endEvent id="end_ok"><bpmn:incoming>f5</bpmn:incoming>',
    )
    bpmn = bpmn.replace("</bpmn:process>", review + "\n  </bpmn:process>")
    services.process_attach(actor=dept_admin, item=item, bpmn=bpmn)
    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    assert case.status == S.APPROVED
    case = act(case, clerk_x, "accept")
    assert case.status == S.APPROVED
    halt = open_task(case)
    assert halt.name == services.HALT_TASK and halt.role == "clerk"
    assert case.events.filter(comment__contains=str(S.IN_REVIEW.label)).exists()
