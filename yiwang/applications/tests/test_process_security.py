"""Uploaded process models cannot take the server down or decide cases by accident (issue 8, §5).

Each test reproduces an attack that worked before: a DMN output fed back through a BPMN loop
that doubled a string each pass, a loop long enough that SpiffWorkflow lost its tasks and the
case was reported "办结", a DMN cell in an unknown XML namespace that passed the upload check,
and models that made the upload or the run answer 500.
"""

import copy
import json
import time

import pytest
from django.utils import translation
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from yiwang.applications import engine, expressions, schemaforms, services
from yiwang.applications.engine import ModelError, ProcessError, Run, RunHalted, parse_process
from yiwang.applications.models import Case, CaseEvent, Task
from yiwang.audit.models import AuditEntry

from .conftest import VALID_DATA, act, complete_draft, open_task, store_process
from .test_engine import PROCESSES, instant_dmn, make_bpmn

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
API_CASES = "/api/applications/cases"


@pytest.fixture(autouse=True)
def _english():
    """The messages are asserted in English; the site's default language is zh-Hans."""
    with translation.override("en"):
        yield


@pytest.fixture
def generous(settings):
    """A budget so large only the fail-closed checks can stop a run."""
    settings.WORKFLOW_MAX_STEPS = 100_000
    settings.WORKFLOW_MAX_LOOP_PASSES = 100_000
    settings.WORKFLOW_MAX_TASKS = 100_000
    settings.WORKFLOW_MAX_STATE_BYTES = 10**9
    return settings


def loop_bpmn(condition: str = "n &lt; 1000", *, first: str = "rules") -> str:
    """start → [first] → rules (DMN ``grow``) → gateway: back to rules while ``condition``,
    else 受理 (a clerk) → end. With first="accept" the clerk acts before the loop runs."""
    accept = """
    <bpmn:userTask id="accept" name="受理">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="clerk" />
        <spiffworkflow:property name="status" value="submitted" />
        <spiffworkflow:property name="decisions" value="accept,reject" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>
    </bpmn:userTask>"""
    if first == "accept":
        head = '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />' + accept.format(
            incoming="f1", outgoing="f0"
        )
        head += '<bpmn:sequenceFlow id="f0" sourceRef="accept" targetRef="rules" />'
        into_rules, after = "f0", '<bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end_ok" />'
        end_in = "out"
    else:
        head = '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rules" />'
        into_rules = "f1"
        after = (
            '<bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="accept" />'
            + accept.format(incoming="out", outgoing="f9")
            + '<bpmn:sequenceFlow id="f9" sourceRef="accept" targetRef="end_ok" />'
        )
        end_in = "f9"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {head}
    <bpmn:businessRuleTask id="rules">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>grow</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>{into_rules}</bpmn:incoming><bpmn:incoming>back</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="rules" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="out">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="rules">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    {after}
    <bpmn:endEvent id="end_ok"><bpmn:incoming>{end_in}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def grow_dmn(s: str = "s", n: str = "n + 1", *, ns: str = DMN_NS) -> str:
    """One always-matching rule: s := <s>, n := <n> (both fed back by the loop)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{ns}" id="defs" name="grow" namespace="x">
  <decision id="grow" name="grow">
    <decisionTable id="grow_table" hitPolicy="UNIQUE">
      <input id="in_n"><inputExpression id="in_n_expr"><text>n</text></inputExpression></input>
      <output id="out_s" name="s" /><output id="out_n" name="n" />
      <rule id="r1">
        <inputEntry id="r1_n"><text>-</text></inputEntry>
        <outputEntry id="r1_s"><text>{s}</text></outputEntry>
        <outputEntry id="r1_n_out"><text>{n}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""


def start(bpmn: str, dmn: str, data: dict | None = None) -> Run:
    return Run.start(parse_process(bpmn, [dmn]), {"s": "x", "n": 0, **(data or {})})


# --- the run budget ---------------------------------------------------------------------------


def test_a_string_doubled_through_a_dmn_loop_stops_long_before_memory_matters():
    began = time.perf_counter()
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 40"), grow_dmn(s="s + s"))  # 2**40 characters unchecked
    assert info.value.reason == "value"
    assert "rules" in info.value.messages[0] and "100000" in info.value.messages[0]
    assert time.perf_counter() - began < 2


def test_joining_lists_is_bounded_too():
    # (Spiff deep-merges a list output into the task data, so a list does not grow by looping;
    # the evaluator bounds "+" on lists anyway.)
    with pytest.raises(expressions.ValueTooLarge):
        expressions.evaluate("s + s", {"s": ["x"] * 60_000})
    assert len(expressions.evaluate("s + s", {"s": ["x"] * 50_000})) == 100_000


def test_the_value_budget_is_a_setting(settings):
    settings.WORKFLOW_MAX_VALUE_LENGTH = 1000
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 11"), grow_dmn(s="s + s"))  # 1024 characters on the tenth pass
    assert info.value.reason == "value" and "1000" in info.value.messages[0]
    start(loop_bpmn("n &lt; 9"), grow_dmn(s="s + s"))  # 512: within it


def test_one_expression_cannot_build_a_huge_value_in_one_go():
    huge = " + ".join(["s"] * 120)  # 120 × 1,000 characters in a single output cell
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 1"), grow_dmn(s=huge), {"s": "x" * 1000})
    assert info.value.reason == "value"


def test_a_counting_loop_stops_at_the_loop_budget():
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 1000"), grow_dmn())
    assert info.value.reason == "loop"
    assert "rules" in info.value.messages[0] and "50" in info.value.messages[0]


def test_a_short_loop_is_within_the_budget():
    run = start(loop_bpmn("n &lt; 20"), grow_dmn())
    assert [t.name for t in run.open_tasks()] == ["accept"]
    assert run.data["n"] == 20


def test_the_steps_budget_counts_automatic_steps_per_request(generous):
    generous.WORKFLOW_MAX_STEPS = 30
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 20"), grow_dmn())  # 2 steps a pass
    assert info.value.reason == "steps" and "30" in info.value.messages[0]


def test_the_tasks_budget_bounds_the_whole_workflow(generous):
    generous.WORKFLOW_MAX_TASKS = 60
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 100"), grow_dmn())
    assert info.value.reason == "tasks"


def test_the_stored_state_is_bounded(generous):
    generous.WORKFLOW_MAX_STATE_BYTES = 20_000
    run = start(loop_bpmn("n &lt; 2"), grow_dmn())
    assert len(json.dumps(run.serialize())) < 20_000
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 40"), grow_dmn())
    assert info.value.reason == "state"


def test_the_budget_is_spent_when_an_official_acts_too():
    run = start(loop_bpmn("n &lt; 1000", first="accept"), grow_dmn())
    (task,) = run.open_tasks()
    with pytest.raises(RunHalted) as info:
        run.complete(task.id, decision="accept")
    assert info.value.reason == "loop"


# --- fail closed ------------------------------------------------------------------------------


def raw_loop(passes: int) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(loop_bpmn(f"n &lt; {passes}").encode())
    parser.add_dmn_str(grow_dmn().encode())
    workflow = BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"))
    workflow.get_tasks(state=engine.TaskState.READY)[0].data.update({"s": "x", "n": 0})
    return workflow


def test_spiff_alone_reports_a_long_loop_as_completed():
    """The hole: after ~500 passes Spiff's iterators (depth 1000) lose the tasks, the workflow
    says it is completed though it never reached an end event — the engine then said 办结."""
    workflow = raw_loop(600)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert not any(t.task_spec.name == "end_ok" for t in workflow.get_tasks())


def test_a_long_loop_is_never_taken_for_completed(generous):
    with pytest.raises(RunHalted) as info:
        start(loop_bpmn("n &lt; 600"), grow_dmn())
    assert info.value.reason == "stuck"
    assert "cannot leave by itself" in info.value.messages[0]


NO_END = (
    make_bpmn()
    .replace(
        '<bpmn:endEvent id="end_ok"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:parallelGateway id="dead_end"><bpmn:incoming>f3</bpmn:incoming></bpmn:parallelGateway>',
    )
    .replace('targetRef="end_ok"', 'targetRef="dead_end"')
)


def test_a_process_that_stops_without_an_end_event_decides_nothing():
    run = Run.start(parse_process(NO_END), {})
    with pytest.raises(RunHalted) as info:
        run.complete(run.open_tasks()[0].id, decision="accept")
    assert info.value.reason == "no_end"
    # the other branch reaches its end event as before
    run = Run.start(parse_process(NO_END), {})
    run.complete(run.open_tasks()[0].id, decision="reject")
    assert run.finished and run.outcome == "rejected"


NOBODYS_TASK = (
    make_bpmn()
    .replace(
        '<bpmn:endEvent id="end_ok"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:task id="nobodys"><bpmn:incoming>f3</bpmn:incoming>'
        "<bpmn:outgoing>f5</bpmn:outgoing></bpmn:task>"
        '<bpmn:sequenceFlow id="f5" sourceRef="nobodys" targetRef="end_ok" />'
        '<bpmn:endEvent id="end_ok"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>',
    )
    .replace('targetRef="end_ok">', 'targetRef="nobodys">')
)


def test_a_plain_task_is_refused_at_upload_with_what_to_change():
    with pytest.raises(ModelError) as info:
        parse_process(NOBODYS_TASK)
    assert any("nobodys" in m and "User Task" in m for m in info.value.messages)


def test_a_process_left_waiting_on_a_step_nobody_can_take_goes_to_a_person():
    """A plain bpmn:task waits for someone, but it is no user task: nobody has it. Refused at
    upload (above); a model stored before that check still fails closed when it runs."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(NOBODYS_TASK.encode())
    spec = engine.ProcessSpec(
        key="old", process_id="p", name="p", spec=parser.get_spec("p"), subprocess_specs={}
    )
    run = Run.start(spec, {})
    with pytest.raises(RunHalted) as info:
        run.complete(run.open_tasks()[0].id, decision="accept")
    assert info.value.reason == "stuck" and "nobodys" in info.value.messages[0]


PARALLEL_ENDS = (
    make_bpmn(extra="")
    .replace('<bpmn:exclusiveGateway id="gw" default="f4">', '<bpmn:parallelGateway id="gw">')
    .replace("</bpmn:exclusiveGateway>", "</bpmn:parallelGateway>")
    .replace('<bpmn:conditionExpression>decision == "accept"</bpmn:conditionExpression>', "")
)


def test_a_process_that_reaches_two_different_outcomes_decides_nothing():
    run = Run.start(parse_process(PARALLEL_ENDS), {})
    with pytest.raises(RunHalted) as info:
        run.complete(run.open_tasks()[0].id, decision="accept")
    assert info.value.reason == "ambiguous_end"
    assert "completed" in info.value.messages[0] and "rejected" in info.value.messages[0]


# --- the upload check inspects what the engine evaluates -------------------------------------


INSTANT_BPMN = (PROCESSES / "instant.bpmn").read_bytes()
EVIL = "? == __import__(&quot;os&quot;).getpid()"


def foreign(dmn: str, old: str, new: str) -> str:
    """Move one element of the DMN into a namespace no XPath of ours names (Spiff still reads
    it: it matches rule children by the end of their tag)."""
    assert old in dmn
    return dmn.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        (
            '<inputEntry id="rule_all_met_age"><text>&gt;= 60</text></inputEntry>',
            f'<x:inputEntry xmlns:x="urn:evil" id="evil_cell"><x:text>{EVIL}</x:text></x:inputEntry>',
            "evil_cell",
        ),
        (
            '<outputEntry id="rule_all_met_result"><text>"pass"</text></outputEntry>',
            '<x:outputEntry xmlns:x="urn:evil" id="evil_out"><x:text>__import__("os").getpid()</x:text>'
            "</x:outputEntry>",
            "evil_out",
        ),
        (
            '<inputEntry id="rule_all_met_age"><text>&gt;= 60</text></inputEntry>',
            f'<inputEntry id="rule_all_met_age"><x:text xmlns:x="urn:evil">{EVIL}</x:text></inputEntry>',
            "rule_all_met_age",
        ),
    ],
)
def test_a_dmn_cell_in_an_unknown_namespace_is_refused_at_upload(old, new, element):
    # An unknown document namespace: Spiff has no schema to validate it against.
    dmn = foreign(instant_dmn(), f'xmlns="{DMN_NS}"', 'xmlns="urn:unknown"')
    dmn = foreign(dmn, old, new)
    with pytest.raises(ModelError) as info:
        parse_process(INSTANT_BPMN, [dmn])
    assert any(element in m and "not allowed" in m for m in info.value.messages), info.value.messages


def test_every_cell_the_engine_refuses_at_run_time_is_refused_at_upload(tmp_path):
    """What upload accepts, the evaluator evaluates (no "accepted, refused only when it runs")."""
    marker = tmp_path / "pwned"
    cells = ("&gt;= 60", "60 &lt;= ? &lt; 120", "? in (70, 71)", "[60..120]", f'? == open("{marker}")')
    for namespace in (DMN_NS, "urn:unknown"):
        for cell in cells:
            dmn = instant_dmn(cell.replace('"', "&quot;")).replace(DMN_NS, namespace)
            try:
                spec = parse_process(INSTANT_BPMN, [dmn])
            except ModelError:
                continue
            run = Run.start(spec, {"age": 70, "residence_years": 2, "household_registered": True})
            assert run.finished and run.outcome == "completed", cell
    assert not marker.exists()


def test_a_cell_of_100000_minus_signs_is_refused_with_a_message():
    with pytest.raises(ModelError) as info:
        parse_process(INSTANT_BPMN, [instant_dmn("-" * 100_000 + "1")])
    assert any("rule_all_met_age" in m and "too long" in m for m in info.value.messages)


def test_an_output_that_overflows_to_infinity_is_refused_at_upload():
    with pytest.raises(ModelError) as info:
        parse_process(loop_bpmn("n &lt; 1"), [grow_dmn(s="1e308 + 1e308")])
    assert any("r1_s" in m and "infinity" in m for m in info.value.messages), info.value.messages
    with pytest.raises(ModelError) as info:
        parse_process(loop_bpmn("n &lt; 1"), [grow_dmn(s="1 / 0")])
    assert any("r1_s" in m and "fails on every case" in m for m in info.value.messages)


def test_an_output_that_overflows_on_the_data_stops_with_a_message():
    spec = parse_process(loop_bpmn("n &lt; 1"), [grow_dmn(s="n + 1e308 + 1e308")])
    with pytest.raises(ProcessError) as info:
        Run.start(spec, {"s": "x", "n": 0})
    assert "infinity" in info.value.messages[0] and "rules" in info.value.messages[0]


def test_an_infinite_constant_is_refused_at_upload():
    with pytest.raises(ModelError) as info:
        parse_process(loop_bpmn("n &lt; 1"), [grow_dmn(s="1e999")])
    assert any("r1_s" in m and "too large" in m for m in info.value.messages)


def test_a_process_without_an_id_is_refused_with_a_message():
    with pytest.raises(ModelError) as info:
        parse_process(make_bpmn().replace('<bpmn:process id="p"', "<bpmn:process"))
    assert "id" in info.value.messages[0] and "bpmn:process" in info.value.messages[0]


# --- a case whose process stops goes to a person ----------------------------------------------


@pytest.fixture
def loop_form(item, dept_admin):
    """The default form plus the two fields the loop models read (n, s)."""
    schema = copy.deepcopy(schemaforms.DEFAULT_SCHEMA)
    schema["properties"]["n"] = {"type": "integer", "title": "n"}
    schema["properties"]["s"] = {"type": "string", "title": "s"}
    schema["required"] = [*schema["required"], "n", "s"]  # the models add 1 to n: never empty
    services.form_attach(actor=dept_admin, item=item, schema=schema)
    return item


@pytest.mark.django_db
def test_a_looping_model_is_refused_by_the_dry_run(loop_form, dept_admin):
    with translation.override("en"), pytest.raises(services.ModelRefused) as info:
        services.process_attach(
            actor=dept_admin, item=loop_form, bpmn=loop_bpmn("n &lt; 1000"), dmn=grow_dmn()
        )
    assert any("Dry run" in m and "more than 50 times" in m for m in info.value.messages), info.value.messages
    assert not loop_form.processes.exists()


@pytest.fixture
def looping_item(loop_form, dept_admin):
    # The dry run at upload refuses this model (test_a_looping_model_is_refused_by_the_dry_run):
    # stored as an older version would be, the run-time budget must still stop it.
    store_process(loop_form, loop_bpmn("n &lt; 1000"), grow_dmn(), dept_admin)
    return loop_form


def _submit(item, material, citizen) -> Case:
    case = services.case_start(actor=citizen, item=item)
    complete_draft(case, material, citizen)
    services.case_save(actor=citizen, case=case, data={**VALID_DATA, "n": 0, "s": "x"})
    return services.case_submit(actor=citizen, case=case)


@pytest.mark.django_db
def test_a_case_whose_process_exceeds_its_budget_goes_to_a_clerk(
    looping_item, applicant_material, citizen, department_x
):
    case = _submit(looping_item, applicant_material, citizen)
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED and case.number
    assert case.workflow is None and case.rule_hits == [] and case.ended_at is None
    task = open_task(case)
    assert task.name == services.HALT_TASK and task.role == "clerk"
    assert task.department_id == department_x.pk and task.decisions == ["restart", "reject"]
    event = case.events.get(kind=CaseEvent.Kind.STATUS)
    assert "ran more than 50 times" in event.comment
    assert AuditEntry.objects.filter(event="applications:case:halt").count() == 1


@pytest.mark.django_db
def test_a_clerk_can_refuse_a_stopped_case_but_nothing_approves_it(
    looping_item, applicant_material, citizen, clerk_x
):
    case = _submit(looping_item, applicant_material, citizen)
    with pytest.raises(services.InvalidInput):
        act(case, clerk_x, "approve")
    with pytest.raises(services.InvalidInput):
        act(case, clerk_x, "reject")  # a reason is required
    case = act(case, clerk_x, "reject", comment="流程配置有误，请重新申请")
    assert case.status == Case.Status.REJECTED and case.ended_at


@pytest.mark.django_db
def test_a_clerk_restarts_a_stopped_case_on_the_fixed_process(
    looping_item, applicant_material, citizen, clerk_x, dept_admin
):
    case = _submit(looping_item, applicant_material, citizen)
    act(case, clerk_x, "restart")  # still the broken model: stops again, a new task
    case.refresh_from_db()
    assert open_task(case).name == services.HALT_TASK
    assert Task.objects.filter(case=case, name=services.HALT_TASK).count() == 2
    services.process_attach(actor=dept_admin, item=looping_item, bpmn=loop_bpmn("n &lt; 3"), dmn=grow_dmn())
    case = act(case, clerk_x, "restart")
    assert case.status == Case.Status.SUBMITTED and case.workflow
    assert open_task(case).name == "accept"
    case = act(case, clerk_x, "accept")
    assert case.status == Case.Status.COMPLETED


@pytest.mark.django_db
def test_an_officials_action_that_exhausts_the_budget_moves_nothing(
    loop_form, applicant_material, citizen, clerk_x, dept_admin
):
    store_process(loop_form, loop_bpmn("n &lt; 1000", first="accept"), grow_dmn(), dept_admin)
    case = _submit(loop_form, applicant_material, citizen)
    before = Case.objects.get(pk=case.pk).workflow
    first = open_task(case)
    case = act(case, clerk_x, "accept")
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED and case.workflow == before
    first.refresh_from_db()
    assert first.state == Task.State.CANCELLED and first.decision == "accept"
    assert open_task(case).name == services.HALT_TASK


@pytest.mark.django_db
def test_an_overflowing_dmn_output_is_a_clear_refusal_through_the_api(loop_form, dept_admin, login, citizen):
    from .test_api import KEY, refused

    overflow = grow_dmn(s="n + 1e308 + 1e308")  # (1e308 + 1e308 alone is refused at upload)
    store_process(loop_form, loop_bpmn("n &lt; 1"), overflow, dept_admin)
    loop_form.materials.all().delete()
    client = login(citizen)
    body = {"item": loop_form.code, "data": {**VALID_DATA, "n": 0, "s": "x"}}
    headers = {"HTTP_IDEMPOTENCY_KEY": KEY, "HTTP_ACCEPT_LANGUAGE": "en"}
    response = client.post(API_CASES, body, content_type="application/json", **headers)
    errors = refused(response, 422)
    assert "infinity" in errors["process"]
    assert not Case.objects.filter(applicant=citizen).exclude(status=Case.Status.DRAFT).exists()


@pytest.mark.django_db
def test_the_official_is_told_the_case_went_to_a_clerk(
    loop_form, applicant_material, citizen, clerk_x, dept_admin, login
):
    store_process(loop_form, loop_bpmn("n &lt; 1000", first="accept"), grow_dmn(), dept_admin)
    case = _submit(loop_form, applicant_material, citizen)
    client = login(clerk_x)
    url = f"/workbench/tasks/{open_task(case).pk}/"
    response = client.post(url, {"decision": "accept", "comment": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "the process stopped; a clerk will handle the case by hand" in response.content.decode()
    halt = open_task(case)
    page = client.get(f"/workbench/tasks/{halt.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ran more than 50 times" in page


# --- form patterns run on RE2 -----------------------------------------------------------------

REDOS = r"^((\w+)\s?)*$"


@pytest.fixture
def redos_form(item, dept_admin):
    schema = copy.deepcopy(schemaforms.DEFAULT_SCHEMA)
    schema["properties"]["purpose"]["pattern"] = REDOS
    services.form_attach(actor=dept_admin, item=item, schema=schema)
    return item


@pytest.mark.django_db
def test_a_catastrophic_pattern_cannot_hold_a_request(redos_form, login, citizen):
    """Python's re took 14.7 s here, holding SQLite's write lock; RE2 answers at once."""
    from .test_api import call, refused

    client = login(citizen)
    draft = call(client, "post", "/drafts", {"item": redos_form.code}).json()
    began = time.perf_counter()
    response = call(client, "put", f"/drafts/{draft['id']}", {"data": {"purpose": "a" * 25 + "!"}})
    assert time.perf_counter() - began < 0.5
    assert "purpose" in refused(response, 422)


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", [r"^(\d)\1$", r"^(?!0)\d+$", r"^(?<=a)b$"])
def test_a_pattern_re2_cannot_compile_is_refused_when_the_form_is_attached(item, dept_admin, pattern):
    schema = copy.deepcopy(schemaforms.DEFAULT_SCHEMA)
    schema["properties"]["purpose"]["pattern"] = pattern
    with pytest.raises(services.InvalidInput) as info:
        services.form_attach(actor=dept_admin, item=item, schema=schema)
    assert "purpose" in info.value.errors["schema"] and "look-arounds" in info.value.errors["schema"]
    with translation.override("zh-hans"), pytest.raises(services.InvalidInput) as info:
        services.form_attach(actor=dept_admin, item=item, schema=schema)
    assert "环视" in info.value.errors["schema"]
