"""The case engine: bundled processes, restarts between steps, refusal of unsafe or broken models."""

import datetime
import json
import uuid

import pytest
from django.utils import translation
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from yiwang.applications import engine
from yiwang.applications.engine import (
    InvalidDecision,
    ModelError,
    ProcessError,
    Run,
    TaskNotOpen,
    bundled_process,
    default_process,
    parse_process,
)

PROCESSES = engine.PROCESSES_DIR


@pytest.fixture(autouse=True)
def _english():
    """The messages are asserted in English; the site's default language is zh-Hans."""
    with translation.override("en"):
        yield


def restart(run: Run) -> Run:
    """Simulate a server restart: serialize, go through JSON text, restore in a 'new process'."""
    return Run.restore(json.loads(json.dumps(run.serialize())))


def walk(process: str, data: dict, steps: list[tuple[str, str]]) -> Run:
    """Start a case and take each (expected open task, decision) step with a restart in between."""
    run = restart(Run.start(bundled_process(process), data))
    for name, decision in steps:
        tasks = run.open_tasks()
        assert [t.name for t in tasks] == [name]
        assert run.status == tasks[0].status
        assert not run.finished and run.outcome is None
        run.complete(tasks[0].id, decision=decision, data={"comment": f"{name}: {decision}"})
        run = restart(run)
    return run


# --- bundled processes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "outcome"),
    [
        ([("accept", "reject")], "rejected"),
        ([("accept", "accept"), ("review", "reject")], "not_approved"),
        ([("accept", "accept"), ("review", "pass"), ("approve", "not_approve")], "not_approved"),
        (
            [("accept", "accept"), ("review", "pass"), ("approve", "approve"), ("complete", "complete")],
            "completed",
        ),
    ],
)
def test_default_process_paths(steps, outcome):
    run = walk("default", {"applicant_name": "张三"}, steps)
    assert run.finished
    assert run.outcome == outcome
    assert run.status == outcome
    assert run.open_tasks() == []
    assert run.data["applicant_name"] == "张三"


def test_default_process_tasks_carry_roles_statuses_and_titles():
    run = Run.start(default_process(), {})
    seen = []
    for decision in ("accept", "pass", "approve", "complete"):
        (task,) = run.open_tasks()
        seen.append((task.title, task.role, task.status, task.decisions))
        run.complete(task.id, decision=decision)
    assert seen == [
        ("受理 | Accept", "clerk", "submitted", ("accept", "reject")),
        ("审核 | Review", "reviewer", "in_review", ("pass", "reject")),
        ("审批 | Approve", "approver", "in_review", ("approve", "not_approve")),
        ("办结 | Complete and deliver", "clerk", "approved", ("complete",)),
    ]


@pytest.mark.parametrize(
    ("steps", "outcome"),
    [
        (
            [
                ("accept", "supplement"),
                ("supplement_accept", "resubmit"),
                ("accept", "supplement"),
                ("supplement_accept", "resubmit"),
                ("accept", "accept"),
                ("review", "supplement"),
                ("supplement_review", "resubmit"),
                ("review", "pass"),
                ("approve", "approve"),
                ("complete", "complete"),
            ],
            "completed",
        ),
        ([("accept", "supplement"), ("supplement_accept", "resubmit"), ("accept", "reject")], "rejected"),
        (
            [
                ("accept", "accept"),
                ("review", "supplement"),
                ("supplement_review", "resubmit"),
                ("review", "reject"),
            ],
            "not_approved",
        ),
        ([("accept", "accept"), ("review", "pass"), ("approve", "not_approve")], "not_approved"),
    ],
)
def test_supplement_process_paths(steps, outcome):
    run = walk("supplement", {}, steps)
    assert run.finished and run.outcome == outcome


def test_supplement_task_goes_to_the_applicant():
    run = Run.start(bundled_process("supplement"), {})
    run.complete(run.open_tasks()[0].id, decision="supplement", data={"comment": "请补充身份证复印件"})
    (task,) = run.open_tasks()
    assert (task.title, task.role, task.status, task.decisions) == (
        "补正 | Supplement",
        "applicant",
        "supplement",
        ("resubmit",),
    )
    assert run.status == "supplement"


def test_stale_decision_and_comment_are_cleared_when_the_task_opens_again():
    run = Run.start(bundled_process("supplement"), {})
    run.complete(run.open_tasks()[0].id, decision="supplement", data={"comment": "缺材料"})
    run = restart(run)
    run.complete(run.open_tasks()[0].id, decision="resubmit", data={"id_copy": "file-1"})
    run = restart(run)
    task = run._workflow.get_task_from_id(uuid.UUID(run.open_tasks()[0].id))
    assert task.task_spec.bpmn_id == "accept"
    assert "decision" not in task.data and "comment" not in task.data
    assert task.data["id_copy"] == "file-1"


def test_instant_approval_passes_automatically_and_names_the_rule():
    run = restart(
        Run.start(bundled_process("instant"), {"age": 72, "residence_years": 3, "household_registered": True})
    )
    assert run.finished
    assert run.outcome == "completed"
    assert [hit.rule_id for hit in run.rule_hits] == ["rule_all_met"]
    hit = run.rule_hits[0]
    assert hit.table == "instant_check"
    assert "符合自动审批条件" in hit.description
    assert hit.outputs == {"instant_result": "pass", "instant_reason": "all_conditions_met"}


def test_instant_approval_failure_goes_to_a_reviewer_with_the_failed_rules():
    data = {"age": 59, "residence_years": 0, "household_registered": False}
    run = restart(Run.start(bundled_process("instant"), data))
    assert not run.finished
    assert [(t.name, t.role) for t in run.open_tasks()] == [("review", "reviewer")]
    assert [hit.rule_id for hit in run.rule_hits] == [
        "rule_age_under_60",
        "rule_residence_under_1",
        "rule_not_registered",
    ]
    assert all(hit.description for hit in run.rule_hits)
    for decision in ("pass", "approve", "complete"):
        run.complete(run.open_tasks()[0].id, decision=decision)
        run = restart(run)
    assert run.outcome == "completed"
    assert len(run.rule_hits) == 3  # kept across restores


@pytest.mark.parametrize(
    ("data", "failed"),
    [
        ({"age": 60, "residence_years": 1, "household_registered": False}, ["rule_not_registered"]),
        ({"age": 80, "residence_years": 0, "household_registered": True}, ["rule_residence_under_1"]),
    ],
)
def test_instant_approval_single_failed_rule_then_rejected(data, failed):
    run = walk("instant", data, [("review", "reject")])
    assert [hit.rule_id for hit in run.rule_hits] == failed
    assert run.outcome == "not_approved"


def test_instant_approval_with_missing_data_is_a_process_error():
    with pytest.raises(ProcessError) as info:
        Run.start(bundled_process("instant"), {"age": 70})
    assert "residence_years" in info.value.messages[0]


# --- task handling ----------------------------------------------------------------------------


def test_restore_does_not_change_the_saved_state():
    state = json.loads(json.dumps(Run.start(default_process(), {}).serialize()))
    before = json.dumps(state, sort_keys=True)
    first, second = Run.restore(state), Run.restore(state)
    assert json.dumps(state, sort_keys=True) == before
    assert first.open_tasks() == second.open_tasks()
    assert second.open_tasks()[0].decisions == ("accept", "reject")


def test_completing_a_task_twice_is_refused():
    run = Run.start(default_process(), {})
    task_id = run.open_tasks()[0].id
    run.complete(task_id, decision="accept")
    with pytest.raises(TaskNotOpen):
        run.complete(task_id, decision="accept")
    run = restart(run)
    with pytest.raises(TaskNotOpen) as info:
        run.complete(task_id, decision="accept")
    assert str(info.value)
    assert [t.name for t in run.open_tasks()] == ["review"]


@pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_task_is_not_open(task_id):
    run = Run.start(default_process(), {})
    with pytest.raises(TaskNotOpen):
        run.complete(task_id, decision="accept")


def test_a_task_that_is_not_an_open_user_task_cannot_be_completed():
    run = Run.start(default_process(), {})
    gateway = [t for t in run._workflow.get_tasks() if t.task_spec.bpmn_id == "gw_accept"][0]
    with pytest.raises(TaskNotOpen):
        run.complete(str(gateway.id), decision="accept")
    assert gateway.state != engine.TaskState.COMPLETED


def test_bad_decision_is_refused_and_nothing_moves():
    run = Run.start(default_process(), {})
    task = run.open_tasks()[0]
    with pytest.raises(InvalidDecision) as info:
        run.complete(task.id, decision="approve")
    assert "accept" in str(info.value)
    assert run.open_tasks() == [task]


def test_data_must_be_json():
    with pytest.raises(TypeError):
        Run.start(default_process(), {"when": datetime.date(2026, 1, 1)})


def test_parsed_process_is_cached_and_keyed_by_content():
    assert default_process() is default_process()
    source = (PROCESSES / "default.bpmn").read_text(encoding="utf-8")
    assert parse_process(source).key == default_process().key
    assert parse_process(source.replace("标准审批流程", "另一个流程")).key != default_process().key


# --- refused models ---------------------------------------------------------------------------


def make_bpmn(condition: str = 'decision == "accept"', extra: str = "", role: str = "clerk") -> str:
    """A small process: start → 受理 → gateway (condition) → end; `extra` is added to the process."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:userTask id="accept" name="受理">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="{role}" />
        <spiffworkflow:property name="status" value="submitted" />
        <spiffworkflow:property name="decisions" value="accept,reject" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end_ok">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end_no" />
    <bpmn:endEvent id="end_ok"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="outcome" value="rejected" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    {extra}
  </bpmn:process>
</bpmn:definitions>"""


def test_the_small_model_itself_is_accepted():
    spec = parse_process(make_bpmn())
    run = Run.start(spec, {})
    run.complete(run.open_tasks()[0].id, decision="reject")
    assert run.outcome == "rejected"


def payloads(marker) -> list[str]:
    return [
        f'__import__("os").system("touch {marker}")',
        f'open("{marker}", "w")',
        "().__class__.__bases__[0].__subclasses__()",
        'decision.upper() == "ACCEPT"',
        "(lambda: 1)() == 1",
    ]


@pytest.mark.parametrize("index", range(5))
def test_unsafe_conditions_are_refused_at_upload(tmp_path, index):
    marker = tmp_path / "pwned"
    condition = payloads(marker)[index].replace('"', "&quot;")
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn(condition=condition))
    (message,) = info.value.messages
    assert "f3" in message and "not allowed" in message
    assert not marker.exists()


def test_script_task_and_pre_scripts_are_refused(tmp_path):
    script_task = '<bpmn:scriptTask id="evil"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn(extra=script_task))
    assert any("evil" in m and "scriptTask" in m for m in info.value.messages)

    pre_script = make_bpmn().replace(
        "<spiffworkflow:properties>",
        "<spiffworkflow:preScript>import os</spiffworkflow:preScript><spiffworkflow:properties>",
        1,
    )
    with pytest.raises(ModelError) as info:
        parse_process(pre_script)
    assert any("preScript" in m for m in info.value.messages)


def test_timer_and_service_elements_are_refused():
    service = '<bpmn:serviceTask id="svc" />'
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn(extra=service))
    assert any("svc" in m and "serviceTask" in m for m in info.value.messages)


def instant_dmn(cell: str = "&gt;= 60", policy: str = "COLLECT") -> str:
    text = (PROCESSES / "instant.dmn").read_text(encoding="utf-8")
    text = text.replace('hitPolicy="COLLECT"', f'hitPolicy="{policy}"')
    return text.replace(
        '<inputEntry id="rule_all_met_age"><text>&gt;= 60</text>',
        f'<inputEntry id="rule_all_met_age"><text>{cell}</text>',
    )


def test_unsafe_dmn_cells_are_refused(tmp_path):
    bpmn = (PROCESSES / "instant.bpmn").read_bytes()
    marker = tmp_path / "pwned"
    for cell in (
        f'? == __import__("os").system("touch {marker}")',
        "len(?) &gt; 1",
        f'open("{marker}")',
        "?.real &gt; 1",
    ):
        with pytest.raises(ModelError) as info:
            parse_process(bpmn, [instant_dmn(cell.replace('"', "&quot;"))])
        assert any("rule_all_met_age" in m and "not allowed" in m for m in info.value.messages), (
            info.value.messages
        )
    assert not marker.exists()


def test_unsupported_hit_policy_is_refused():
    with pytest.raises(ModelError) as info:
        parse_process((PROCESSES / "instant.bpmn").read_bytes(), [instant_dmn(policy="FIRST")])
    assert "FIRST" in info.value.messages[0]


def test_a_dmn_feel_range_is_read_as_a_range():
    spec = parse_process((PROCESSES / "instant.bpmn").read_bytes(), [instant_dmn(cell="[60..120]")])
    passed = Run.start(spec, {"age": 120, "residence_years": 2, "household_registered": True})
    assert passed.outcome == "completed"
    too_young = Run.start(spec, {"age": 59, "residence_years": 2, "household_registered": True})
    assert too_young.outcome is None  # not "all met": a reviewer decides
    assert [hit.rule_id for hit in too_young.rule_hits] == ["rule_age_under_60"]


def test_feel_outside_the_subset_is_refused_with_the_subset_named():
    with pytest.raises(ModelError) as info:
        parse_process((PROCESSES / "instant.bpmn").read_bytes(), [instant_dmn(cell="[60..]")])
    assert any("rule_all_met_age" in m and "FEEL subset" in m for m in info.value.messages)


def test_missing_dmn_for_business_rule_task():
    with pytest.raises(ModelError) as info:
        parse_process((PROCESSES / "instant.bpmn").read_bytes())
    assert "instant_check" in info.value.messages[0]


# --- smuggled past parsing: evaluation still refuses ------------------------------------------


def raw_workflow(bpmn: str, dmns: tuple[str, ...] = ()) -> BpmnWorkflow:
    """Parse with Spiff alone, skipping every yiwang check (as a tampered database row could)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn.encode())
    for dmn in dmns:
        parser.add_dmn_str(dmn.encode())
    return BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"))


def smuggled_state(workflow: BpmnWorkflow) -> dict:
    return json.loads(
        json.dumps(
            {"format": engine.STATE_FORMAT, "key": "x", "workflow": engine._SERIALIZER.to_dict(workflow)}
        )
    )


def test_the_marker_check_can_fail_with_spiffs_default_engine(tmp_path):
    """Proves the attack works without the wrapper, so the tests below really test something."""
    marker = tmp_path / "pwned"
    workflow = raw_workflow(make_bpmn(condition=payloads(marker)[0].replace('"', "&quot;")))
    workflow.do_engine_steps()
    workflow.get_tasks(state=engine.TaskState.READY)[0].run()
    workflow.do_engine_steps()
    assert marker.exists()


@pytest.mark.parametrize("index", range(5))
def test_smuggled_condition_does_not_run(tmp_path, index):
    marker = tmp_path / "pwned"
    workflow = raw_workflow(make_bpmn(condition=payloads(marker)[index].replace('"', "&quot;")))
    workflow.do_engine_steps()  # start → 受理 only: no condition evaluated yet
    run = restart(Run.restore(smuggled_state(workflow)))
    with pytest.raises(ProcessError) as info:
        run.complete(run.open_tasks()[0].id, decision="accept")
    assert "not allowed" in info.value.messages[0]
    assert not marker.exists()


def test_tampered_state_condition_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    run = Run.start(default_process(), {})
    text = json.dumps(run.serialize())
    evil = json.dumps(f'__import__("os").system("touch {marker}")')[1:-1]
    tampered = text.replace('decision == \\"accept\\"', evil)
    assert tampered != text
    run = Run.restore(json.loads(tampered))
    with pytest.raises(ProcessError) as info:
        run.complete(run.open_tasks()[0].id, decision="accept")
    assert "not allowed" in info.value.messages[0]
    assert not marker.exists()


def test_smuggled_script_task_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    bpmn = (
        make_bpmn()
        .replace(
            'targetRef="end_ok"',
            'targetRef="evil"',
        )
        .replace(
            '<bpmn:endEvent id="end_ok"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>',
            f'<bpmn:scriptTask id="evil"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>'
            f"<bpmn:script>open('{marker}', 'w').write('x')</bpmn:script></bpmn:scriptTask>"
            '<bpmn:sequenceFlow id="f5" sourceRef="evil" targetRef="end_ok" />'
            '<bpmn:endEvent id="end_ok"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>',
        )
    )
    workflow = raw_workflow(bpmn)
    workflow.do_engine_steps()
    run = Run.restore(smuggled_state(workflow))
    with pytest.raises(ProcessError) as info:
        run.complete(run.open_tasks()[0].id, decision="accept")
    assert "not allowed" in info.value.messages[0]
    assert not marker.exists()


def test_smuggled_dmn_cell_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    bpmn = (PROCESSES / "instant.bpmn").read_text(encoding="utf-8").replace('id="yiwang_instant"', 'id="p"')
    dmn = instant_dmn(f"? == __import__(&quot;os&quot;).system(&quot;touch {marker}&quot;)")
    workflow = raw_workflow(bpmn, (dmn,))
    workflow.get_tasks(state=engine.TaskState.READY)[0].data.update(
        {"age": 70, "residence_years": 2, "household_registered": True}
    )
    run = Run.restore(smuggled_state(workflow))
    with pytest.raises(ProcessError) as info:
        run._step()
    assert "instant_rules" in info.value.messages[0] and "not allowed" in info.value.messages[0]
    assert not marker.exists()


# --- broken models get useful messages --------------------------------------------------------


def test_broken_xml():
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace("</bpmn:userTask>", "", 1))
    (message,) = info.value.messages
    assert "not well-formed XML" in message and "line" in message


def test_empty_document():
    with pytest.raises(ModelError):
        parse_process(b"")


def test_dangling_sequence_flow_reference():
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace('targetRef="end_no"', 'targetRef="nowhere"'))
    assert any("f4" in m and "nowhere" in m for m in info.value.messages)


def test_user_task_without_role():
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace('<spiffworkflow:property name="role" value="clerk" />', ""))
    (message,) = info.value.messages
    assert "accept" in message and "role" in message and "line" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('name="role" value="clerk"', 'name="role" value="admin"', "'admin'"),
        ('value="submitted"', 'value="done"', "status"),
        ('value="accept,reject"', 'value="accept,delete"', "delete"),
        ('value="rejected"', 'value="maybe"', "maybe"),
    ],
)
def test_invalid_properties(old, new, expected):
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace(old, new))
    assert any(expected in m for m in info.value.messages)


def test_gateway_branch_without_condition():
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace(' default="f4"', ""))
    assert any("f4" in m and "gw" in m for m in info.value.messages)


def test_schema_violation_is_wrapped():
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace("<bpmn:incoming>f1</bpmn:incoming>", "<bpmn:bogus />"))
    assert "schema" in info.value.messages[0]


def test_dmn_that_is_not_dmn():
    with pytest.raises(ModelError) as info:
        parse_process((PROCESSES / "instant.bpmn").read_bytes(), [b"<root/>"])
    assert "DMN" in info.value.messages[0]


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doctype = f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    bpmn = make_bpmn().replace(
        '<bpmn:process id="p" isExecutable="true">', '<bpmn:process id="p" name="&xxe;" isExecutable="true">'
    )
    bpmn = bpmn.replace("<bpmn:definitions", doctype + "<bpmn:definitions", 1)
    try:
        spec = parse_process(bpmn)
    except ModelError:
        return
    assert "TOP-SECRET" not in spec.name
