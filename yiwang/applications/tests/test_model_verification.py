"""Models as the modelers save them: bpmn.io / dmn-js and Camunda Modeler 5 (Camunda 7 and 8).

The diagrams in ``diagrams/`` are written for these tests in the shapes those tools write
(bpmn.io's default ``Process_1`` with ``isExecutable="false"`` and DI for every shape; Camunda
Modeler's ``camunda:`` attributes and properties, ``${...}`` conditions, DMN 1.3 with FEEL
cells). Each is accepted and runs, or is refused with a message that names the element and says
what to change, before any version can be used (docs/processes.md).
"""

import copy
import re
from pathlib import Path

import pytest
from django.utils import translation

from yiwang.applications import dialects, engine, schemaforms, services, verification
from yiwang.applications.engine import ModelError, Run, parse_process
from yiwang.applications.models import Case, Process
from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_official, with_two_factor
from yiwang.identity.models import Role

from .conftest import VALID_DATA, act, complete_draft, open_task

DIAGRAMS = Path(__file__).resolve().parent / "diagrams"


def diagram(name: str) -> str:
    return (DIAGRAMS / name).read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def refused(bpmn: str, dmns=(), schema=None) -> list[str]:
    """The messages a model gets, at parsing or at verification against ``schema``."""
    with pytest.raises(ModelError) as info:
        spec = parse_process(bpmn, list(dmns))
        verification.verify_process(spec, schema or schemaforms.DEFAULT_SCHEMA)
    return info.value.messages


def schema_with(**fields) -> dict:
    schema = copy.deepcopy(schemaforms.DEFAULT_SCHEMA)
    schema["properties"].update(fields)
    return schema


AMOUNT = {"amount": {"type": "integer", "title": "金额", "minimum": 0}}
STALL = {
    "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 130, "x-source": "person.age"},
    "residence_years": {"type": "integer", "title": "居住年限", "minimum": 0, "maximum": 130},
    "stall_kind": {"type": "string", "title": "摊点类型", "enum": ["breakfast", "produce", "clothes"]},
    "household_registered": {"type": "boolean", "title": "本市户籍"},
}


def amount_schema() -> dict:
    schema = schema_with(**AMOUNT)
    schema["required"] = [*schema["required"], "amount"]
    return schema


def stall_schema() -> dict:
    schema = schema_with(**STALL)
    schema["required"] = [*schema["required"], "residence_years", "stall_kind"]
    return schema


def take(run: Run, decision: str) -> Run:
    (task,) = run.open_tasks()
    run.complete(task.id, decision=decision)
    return Run.restore(run.serialize())


# --- bpmn.io ----------------------------------------------------------------------------------


def test_bpmnio_new_diagram_is_read_although_not_executable_and_refused_for_having_no_steps():
    spec = parse_process(diagram("bpmnio_new_diagram.bpmn"))  # isExecutable="false" is no refusal
    assert spec.process_id == "Process_1"
    messages = refused(diagram("bpmnio_new_diagram.bpmn"))
    assert len(messages) == 1
    assert "only its start event StartEvent_1" in messages[0] and "User Tasks" in messages[0]
    assert "not executable" not in messages[0]


def test_bpmnio_new_diagram_is_refused_in_chinese_for_a_chinese_admin():
    with translation.override("zh-hans"):
        (message,) = refused(diagram("bpmnio_new_diagram.bpmn"))
    assert "StartEvent_1" in message and "开始事件" in message and "用户任务" in message


def test_bpmnio_plain_task_is_refused_with_what_to_change():
    (message,) = refused(diagram("bpmnio_plain_task.bpmn"))
    assert "Activity_1x8d2kq" in message and "line 7" in message
    assert "Change its type to User Task" in message


def test_bpmnio_start_straight_to_end_is_refused_it_would_decide_every_case_at_submission():
    (message,) = refused(diagram("bpmnio_start_to_end.bpmn"))
    assert "Event_1t0ylq4" in message and "at submission" in message
    assert "StartEvent_1 → Event_1t0ylq4" in message


def test_bpmnio_user_tasks_without_the_platforms_properties_say_which_are_missing():
    bpmn = diagram("bpmnio_plain_task.bpmn").replace("bpmn:task", "bpmn:userTask")
    messages = refused(bpmn)
    assert any("Activity_1x8d2kq" in m and "role property" in m for m in messages)
    assert any("status property" in m for m in messages) and any("decisions property" in m for m in messages)


def test_a_plain_task_given_the_platform_panels_properties_and_made_a_user_task_runs():
    bpmn = (
        diagram("bpmnio_plain_task.bpmn")
        .replace(
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"',
            f'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="{dialects.SPIFF_NS}"',
        )
        .replace("<bpmn:task ", "<bpmn:userTask ")
        .replace("</bpmn:task>", "</bpmn:userTask>")
        .replace(
            "<bpmn:incoming>Flow_0k3n1a2</bpmn:incoming>\n      <bpmn:outgoing>",
            "<bpmn:extensionElements><spiffworkflow:properties>"
            '<spiffworkflow:property name="role" value="clerk" />'
            '<spiffworkflow:property name="status" value="submitted" />'
            '<spiffworkflow:property name="decisions" value="complete" />'
            "</spiffworkflow:properties></bpmn:extensionElements>"
            "<bpmn:incoming>Flow_0k3n1a2</bpmn:incoming>\n      <bpmn:outgoing>",
        )
    )
    spec = parse_process(bpmn)
    verification.verify_process(spec, schemaforms.DEFAULT_SCHEMA)
    run = Run.start(spec, {})
    assert [(t.name, t.role) for t in run.open_tasks()] == [("Activity_1x8d2kq", "clerk")]
    assert take(run, "complete").outcome == "completed"


# --- Camunda Modeler (Camunda 7) --------------------------------------------------------------


def test_camunda_review_is_read_with_its_properties_candidate_groups_and_juel_conditions():
    spec = parse_process(diagram("camunda7_review.bpmn"))
    verification.verify_process(spec, amount_schema())
    run = Run.start(spec, {"amount": 20000})
    (task,) = run.open_tasks()
    assert (task.name, task.role, task.status, task.decisions) == (
        "Task_accept",
        "clerk",
        "submitted",
        ("accept", "reject"),
    )
    run = take(run, "accept")
    assert [(t.role, t.status) for t in run.open_tasks()] == [("reviewer", "in_review")]
    run = take(run, "pass")
    assert [t.role for t in run.open_tasks()] == ["approver"]  # amount > 10000
    assert take(run, "approve").outcome == "completed"


@pytest.mark.parametrize(
    ("amount", "decisions", "outcome"),
    [
        (500, ["accept", "pass"], "completed"),
        (500, ["reject"], "rejected"),
        (9, ["accept", "reject"], "not_approved"),
    ],
)
def test_camunda_review_paths(amount, decisions, outcome):
    run = Run.start(parse_process(diagram("camunda7_review.bpmn")), {"amount": amount})
    for decision in decisions:
        run = take(run, decision)
    assert run.outcome == outcome


def test_camunda_instant_approval_with_a_feel_decision_table():
    spec = parse_process(diagram("camunda7_instant.bpmn"), [diagram("camunda7_instant.dmn")])
    verification.verify_process(spec, stall_schema())
    base = {"age": 70, "residence_years": 3, "stall_kind": "produce", "household_registered": True}
    run = Run.start(spec, base)
    assert run.outcome == "completed"
    assert [h.rule_id for h in run.rule_hits] == ["DecisionRule_all_met"]
    for change, rule in [
        ({"stall_kind": "clothes"}, "DecisionRule_other_kind"),  # not("breakfast","produce")
        ({"household_registered": False}, "DecisionRule_not_local"),  # false
        ({"age": 59}, "DecisionRule_young"),  # < 60 (and not in [60..130])
        ({"residence_years": 0}, "DecisionRule_new_resident"),  # < 1
    ]:
        run = Run.start(spec, {**base, **change})
        assert run.outcome is None and [t.role for t in run.open_tasks()] == ["reviewer"], change
        assert [h.rule_id for h in run.rule_hits] == [rule], change


def test_a_decision_reference_to_no_decision_of_the_dmn_names_the_ones_it_has():
    bpmn = diagram("camunda7_instant.bpmn").replace(
        'camunda:decisionRef="stall_subsidy_check"', 'camunda:decisionRef="Decision_13nu1sq"'
    )
    (message,) = refused(bpmn, [diagram("camunda7_instant.dmn")])
    assert "Activity_rules" in message and "Decision_13nu1sq" in message and "stall_subsidy_check" in message
    assert "None" not in message


def test_a_business_rule_task_without_a_decision_reference_says_where_to_set_it():
    bpmn = diagram("camunda7_instant.bpmn").replace(' camunda:decisionRef="stall_subsidy_check"', "")
    (message,) = refused(bpmn, [diagram("camunda7_instant.dmn")])
    assert "Activity_rules" in message and "camunda:decisionRef" in message


def test_a_business_rule_task_uploaded_without_its_dmn():
    (message,) = refused(diagram("camunda7_instant.bpmn"))
    assert "stall_subsidy_check" in message and "no DMN file" in message


def test_dmnjs_new_table_is_refused_with_what_to_fill_in():
    bpmn = diagram("camunda7_instant.bpmn").replace(
        'camunda:decisionRef="stall_subsidy_check"', 'camunda:decisionRef="Decision_1"'
    )
    messages = refused(bpmn, [diagram("dmnjs_new_table.dmn")])
    assert any("Output_1" in m and "needs a name" in m for m in messages)


def test_a_dmn_input_without_an_expression_is_refused():
    dmn = diagram("camunda7_instant.dmn").replace("<text>stall_kind</text>", "<text></text>")
    messages = refused(diagram("camunda7_instant.bpmn"), [dmn])
    assert any("InputClause_1kind" in m and "input expression" in m for m in messages)


@pytest.mark.parametrize(
    ("cell", "where"),
    [
        ('date("2026-01-01")', "UnaryTests_0kind"),
        ("[60..]", "UnaryTests_0kind"),
        ('matches(?, "x")', "UnaryTests_0kind"),
    ],
)
def test_feel_outside_the_subset_is_refused_naming_the_cell_and_the_subset(cell, where):
    dmn = diagram("camunda7_instant.dmn").replace(
        '<inputEntry id="UnaryTests_0kind"><text>"breakfast","produce"</text>',
        f'<inputEntry id="UnaryTests_0kind"><text>{cell.replace(chr(34), "&quot;")}</text>',
    )
    messages = refused(diagram("camunda7_instant.bpmn"), [dmn], stall_schema())
    assert any(where in m and "FEEL subset" in m for m in messages), messages


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'camunda:candidateGroups="reviewer"',
            'camunda:candidateGroups="reviewer" camunda:assignee="demo"',
            "assignee",
        ),
        ('camunda:candidateGroups="reviewer"', 'camunda:candidateGroups="sales"', "'sales'"),
        (
            'camunda:candidateGroups="reviewer"',
            'camunda:candidateGroups="reviewer" camunda:dueDate="${due}"',
            "dueDate",
        ),
        (
            '<camunda:properties>\n          <camunda:property name="status" value="in_review" />',
            '<camunda:taskListener class="org.example.Notify" event="create" />'
            '<camunda:properties>\n          <camunda:property name="status" value="in_review" />',
            "taskListener",
        ),
        (
            '<camunda:properties>\n          <camunda:property name="status" value="in_review" />',
            '<camunda:inputOutput><camunda:inputParameter name="x">${y}</camunda:inputParameter>'
            "</camunda:inputOutput>"
            '<camunda:properties>\n          <camunda:property name="status" value="in_review" />',
            "inputOutput",
        ),
    ],
)
def test_camunda_settings_the_platform_would_ignore_or_that_run_code_are_refused(old, new, expected):
    bpmn = diagram("camunda7_review.bpmn")
    assert old in bpmn
    messages = refused(bpmn.replace(old, new, 1), schema=schema_with(**AMOUNT))
    assert any("Task_review" in m and expected in m for m in messages), messages


def test_a_camunda_property_without_a_value_is_a_message_not_a_key_error():
    bpmn = diagram("camunda7_review.bpmn").replace(
        '<camunda:property name="status" value="in_review" />', '<camunda:property name="status" />', 1
    )
    messages = refused(bpmn, schema=schema_with(**AMOUNT))
    assert any("Task_review" in m and "without a name or a value" in m for m in messages)


def test_a_property_given_twice_with_different_values_is_refused():
    bpmn = diagram("camunda7_review.bpmn").replace(
        '<camunda:property name="status" value="submitted" />',
        '<camunda:property name="status" value="submitted" />'
        '<camunda:property name="role" value="approver" />',
    )
    messages = refused(bpmn, schema=schema_with(**AMOUNT))
    assert any("Task_accept" in m and "'clerk'" in m and "'approver'" in m for m in messages)


def test_a_dmn_rule_without_an_id_is_a_message_not_a_key_error():
    dmn = diagram("camunda7_instant.dmn").replace('<rule id="DecisionRule_young">', "<rule>")
    messages = refused(diagram("camunda7_instant.bpmn"), [dmn])
    assert any("rule" in m and "needs an id" in m for m in messages)
    assert not any("KeyError" in m for m in messages)


def test_a_script_condition_is_refused():
    bpmn = diagram("camunda7_review.bpmn").replace(
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${decision == "reject"}',
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">'
        'decision == "reject"',
        1,
    )
    messages = refused(bpmn, schema=schema_with(**AMOUNT))
    assert any("Flow_not_accepted" in m and "javascript" in m for m in messages)


def test_any_failure_while_reading_a_model_is_a_message(monkeypatch):
    def broken(root):
        raise AttributeError("'list' object has no attribute 'tag'")

    monkeypatch.setattr(dialects, "normalize_bpmn", broken)
    (message,) = refused(diagram("camunda7_review.bpmn") + "<!-- new content -->")
    assert "cannot be used" in message and "'list'" not in message and "AttributeError" not in message


# --- Camunda Modeler (Camunda 8 / Zeebe) ------------------------------------------------------


def test_zeebe_properties_and_candidate_groups_are_read_too():
    zeebe = (
        diagram("camunda7_review.bpmn")
        .replace('xmlns:camunda="http://camunda.org/schema/1.0/bpmn"', f'xmlns:zeebe="{dialects.ZEEBE_NS}"')
        .replace(' camunda:historyTimeToLive="180"', "")
        .replace(re.search(r' camunda:formKey="[^"]*"', diagram("camunda7_review.bpmn")).group(0), "")
        .replace(' camunda:formKey="embedded:app:forms/accept.html"', "")
        .replace("camunda:properties", "zeebe:properties")
        .replace("camunda:property", "zeebe:property")
    )
    zeebe = re.sub(
        r' camunda:candidateGroups="(\w+)">\s*<bpmn:extensionElements>',
        r'><bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="\1" />',
        zeebe,
    )
    zeebe = re.sub(r"\$\{(.*?)\}</bpmn:conditionExpression>", r"=\1</bpmn:conditionExpression>", zeebe)
    assert "camunda:" not in zeebe
    run = Run.start(parse_process(zeebe), {"amount": 1})
    assert [(t.role, t.status) for t in run.open_tasks()] == [("clerk", "submitted")]
    assert take(take(run, "accept"), "pass").outcome == "completed"


# --- names and dry run ------------------------------------------------------------------------


def test_a_condition_naming_a_field_the_form_does_not_have_is_refused_at_upload():
    messages = refused(diagram("camunda7_review.bpmn"))  # the default form has no "amount"
    assert any("Gateway_review" in m and "amount" in m and "form" in m for m in messages)


def test_a_rule_naming_a_field_the_form_does_not_have_is_refused_at_upload():
    schema = stall_schema()
    del schema["properties"]["stall_kind"]
    schema["required"].remove("stall_kind")
    messages = refused(diagram("camunda7_instant.bpmn"), [diagram("camunda7_instant.dmn")], schema)
    assert any("InputClause_1kind" in m and "stall_kind" in m for m in messages)


def test_decision_comment_and_the_tables_outputs_are_names_the_platform_provides():
    spec = parse_process(diagram("camunda7_instant.bpmn"), [diagram("camunda7_instant.dmn")])
    assert verification.check_names(spec, stall_schema()) == []
    assert verification.names_used(spec) == set(STALL)


def test_a_decision_no_branch_handles_is_found_by_the_dry_run():
    bpmn = diagram("camunda7_review.bpmn").replace(
        'value="accept,reject"', 'value="accept,reject,supplement"'
    )
    messages = refused(bpmn, schema=amount_schema())
    assert any("Dry run" in m and "受理: supplement" in m and "Gateway_accepted" in m for m in messages)


def test_an_optional_field_a_condition_compares_is_found_by_the_dry_run():
    schema = schema_with(**AMOUNT)  # amount is optional here: None when left empty
    bpmn = diagram("camunda7_review.bpmn")
    messages = refused(bpmn, schema=schema)
    assert any(
        "only its required fields" in m and "Gateway_review" in m and "empty or of the wrong type" in m
        for m in messages
    ), messages
    schema["required"] = [*schema["required"], "amount"]
    verification.verify_process(parse_process(bpmn), schema)


def test_sample_data_follows_the_form():
    samples = dict(verification.sample_data(stall_schema()))
    filled = samples["the filled-in form"]
    assert filled["stall_kind"] == "breakfast" and filled["household_registered"] is True
    assert filled["age"] == 30 and isinstance(filled["phone"], str)
    minimal = samples["the form with only its required fields"]
    assert minimal["household_registered"] is False and minimal["preferred_date"] is None
    assert minimal["age"] == 30  # government-provided: always there
    assert any(data["stall_kind"] == "clothes" for data in samples.values())


def test_the_bundled_processes_pass_their_own_verification():
    for name in engine.BUNDLED:
        schema = stall_schema() if name == "instant" else schemaforms.DEFAULT_SCHEMA
        if name == "instant":
            schema["properties"]["residence_years"] = STALL["residence_years"]
            schema["properties"]["household_registered"] = STALL["household_registered"]
        verification.verify_process(engine.bundled_process(name), schema)


# --- through the services and pages -----------------------------------------------------------


@pytest.fixture
def amount_item(item, dept_admin):
    schema = schema_with(**AMOUNT)
    schema["required"] = [*schema["required"], "amount"]
    services.form_attach(actor=dept_admin, item=item, schema=schema)
    return item


@pytest.mark.django_db
def test_a_camunda_model_attached_by_a_department_admin_runs_a_case(
    amount_item, dept_admin, applicant_material, citizen, crew
):
    process = services.process_attach(
        actor=dept_admin, item=amount_item, bpmn=diagram("camunda7_review.bpmn")
    )
    assert process.is_active and process.version == 1
    case = services.case_start(actor=citizen, item=amount_item)
    complete_draft(case, applicant_material, citizen)
    services.case_save(actor=citizen, case=case, data={**VALID_DATA, "amount": 800})
    case = services.case_submit(actor=citizen, case=case)
    assert case.process_id == process.pk and open_task(case).role == "clerk"
    case = act(case, crew["clerk"], "accept")
    case = act(case, crew["reviewer"], "pass")
    assert case.status == Case.Status.COMPLETED


@pytest.mark.django_db
def test_a_refused_upload_saves_nothing_and_says_why_in_chinese(item, dept_admin):
    with translation.override("zh-hans"), pytest.raises(services.ModelRefused) as info:
        services.process_attach(actor=dept_admin, item=item, bpmn=diagram("bpmnio_plain_task.bpmn"))
    assert "Activity_1x8d2kq" in info.value.messages[0] and "用户任务" in info.value.messages[0]
    assert not Process.objects.filter(item=item).exists()


@pytest.mark.django_db
def test_the_upload_page_lists_each_problem(item, dept_admin, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("diagram.bpmn", diagram("bpmnio_new_diagram.bpmn").encode())
    response = login(dept_admin).post(
        f"/workbench/processes/{item.code}/", {"op": "process", "p-bpmn": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert "only its start event StartEvent_1" in response.content.decode()


@pytest.fixture
def two_versions(amount_item, dept_admin):
    first = services.process_attach(actor=dept_admin, item=amount_item, bpmn=diagram("camunda7_review.bpmn"))
    second = services.process_attach(
        actor=dept_admin, item=amount_item, bpmn=(engine.PROCESSES_DIR / "default.bpmn").read_text()
    )
    first.refresh_from_db()
    return first, second


@pytest.mark.django_db
def test_versions_are_listed_viewed_and_downloaded(two_versions, dept_admin, login):
    first, _second = two_versions
    client = login(dept_admin)
    page = client.get(f"/workbench/processes/{first.item.code}/").content.decode()
    assert f"/workbench/processes/{first.item.code}/v1/" in page and "/v2/bpmn/" in page
    view = client.get(f"/workbench/processes/{first.item.code}/v1/", HTTP_ACCEPT_LANGUAGE="en")
    text = view.content.decode()
    assert view.status_code == 200
    assert "&lt;bpmn:definitions" in text and "<bpmn:definitions" not in text  # shown, escaped
    assert "Task_review" in text and "reviewer" in text and "<code>amount</code>" in text
    assert "Roll back to this version" in text
    download = client.get(f"/workbench/processes/{first.item.code}/v1/bpmn/")
    assert download.status_code == 200 and download.content == first.bpmn.encode()
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/workbench/processes/{first.item.code}/v1/dmn/").status_code == 404
    assert client.get(f"/workbench/processes/{first.item.code}/v1/exe/").status_code == 404
    assert client.get(f"/workbench/processes/{first.item.code}/v99999999999/").status_code == 404


@pytest.mark.django_db
def test_rolling_back_is_checked_audited_and_keeps_running_cases(two_versions, dept_admin, login):
    first, second = two_versions
    response = login(dept_admin).post(f"/workbench/processes/{first.item.code}/v1/activate/")
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_active and not second.is_active
    entry = AuditEntry.objects.filter(event="applications:process:activate").get()
    assert entry.target_id == str(first.item.pk) or entry.target_id == first.item.pk
    assert AuditEntry.objects.filter(event="applications:process:activate").count() == 1
    # Activating what is in use changes nothing and records nothing.
    services.process_activate(actor=dept_admin, process=first)
    assert AuditEntry.objects.filter(event="applications:process:activate").count() == 1


@pytest.mark.django_db
def test_a_version_that_no_longer_fits_the_form_cannot_be_activated(two_versions, dept_admin, login):
    first, second = two_versions
    services.form_attach(actor=dept_admin, item=first.item, schema=schemaforms.DEFAULT_SCHEMA)  # no amount
    response = login(dept_admin).post(
        f"/workbench/processes/{first.item.code}/v1/activate/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422 and "amount" in response.content.decode()
    second.refresh_from_db()
    assert second.is_active and not Process.objects.get(pk=first.pk).is_active


@pytest.mark.django_db
def test_a_form_cannot_drop_a_field_the_process_in_use_reads(amount_item, dept_admin):
    services.process_attach(actor=dept_admin, item=amount_item, bpmn=diagram("camunda7_review.bpmn"))
    with pytest.raises(services.ModelRefused) as info:
        services.form_attach(actor=dept_admin, item=amount_item, schema=schemaforms.DEFAULT_SCHEMA)
    assert "amount" in "; ".join(info.value.messages)
    assert "amount" in services.form_schema(amount_item)["properties"]


@pytest.mark.django_db
def test_a_version_can_be_attached_without_using_it_yet(amount_item, dept_admin):
    process = services.process_attach(
        actor=dept_admin, item=amount_item, bpmn=diagram("camunda7_review.bpmn"), activate=False
    )
    assert not process.is_active and not Process.objects.filter(item=amount_item, is_active=True).exists()


@pytest.mark.django_db
def test_versions_are_only_for_the_items_department_admins(
    two_versions, login, department_y, citizen, official_x
):
    first, _second = two_versions
    other_admin = with_two_factor(make_official("admin_y", department_y, [Role.ADMIN]))
    code = first.item.code
    for user in (other_admin, official_x):
        client = login(user)
        for url in (f"/workbench/processes/{code}/v1/", f"/workbench/processes/{code}/v1/bpmn/"):
            assert client.get(url).status_code in (403, 404), (user, url)
        assert client.post(f"/workbench/processes/{code}/v1/activate/").status_code in (403, 404)
    with pytest.raises(services.PermissionDenied):
        services.process_activate(actor=other_admin, process=first)
    first.refresh_from_db()
    assert not first.is_active


@pytest.mark.django_db
def test_a_stored_version_that_no_longer_reads_sends_the_case_to_a_clerk(
    item, applicant_material, citizen, dept_admin
):
    Process.objects.create(
        item=item,
        version=1,
        name="old",
        bpmn=diagram("bpmnio_plain_task.bpmn"),
        key="x",
        created_by=dept_admin,
    )
    case = services.case_start(actor=citizen, item=item)
    complete_draft(case, applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    assert case.status == Case.Status.SUBMITTED
    assert open_task(case).name == services.HALT_TASK


@pytest.mark.django_db
def test_a_camunda_property_relaxes_separation_of_duties_like_the_platforms_own(amount_item, dept_admin):
    from yiwang.applications import duties

    strict = services.process_attach(actor=dept_admin, item=amount_item, bpmn=diagram("camunda7_review.bpmn"))
    relaxed_bpmn = diagram("camunda7_review.bpmn").replace(
        '<bpmn:laneSet id="LaneSet_1d0t9sx">',
        "<bpmn:extensionElements><camunda:properties>"
        '<camunda:property name="separation_of_duties" value="relaxed" />'
        '</camunda:properties></bpmn:extensionElements><bpmn:laneSet id="LaneSet_1d0t9sx">',
    )
    relaxed = services.process_attach(actor=dept_admin, item=amount_item, bpmn=relaxed_bpmn)
    assert not duties.process_relaxes(strict) and duties.process_relaxes(relaxed)
