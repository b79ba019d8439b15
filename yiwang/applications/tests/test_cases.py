"""A case from draft to decision through the services: once-only pre-fill, materials,
pre-review, numbering, the default process, supplements, deadlines, withdrawal, ratings."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.applications import services
from yiwang.applications.models import Blob, Case, CaseEvent, Notice, Rectification, Task
from yiwang.applications.tasks import flag_deadlines_now
from yiwang.audit import leaf
from yiwang.audit.models import AuditEntry
from yiwang.lib.workdays import add_workdays

from .conftest import VALID_DATA, act, complete_draft, open_task, pdf_upload

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^610100-\d{8}-\d{6}$")


def test_a_draft_is_prefilled_with_what_the_government_holds(item, citizen):
    case = services.case_start(actor=citizen, item=item)
    assert case.status == Case.Status.DRAFT and case.number is None
    assert case.data["applicant_name"] == "张三"
    assert case.data["id_number"] == citizen.person.id_number_masked
    assert set(case.provided) == {"applicant_name", "id_number"}


def test_provided_fields_cannot_be_overwritten_by_the_applicant(item, citizen):
    case = services.case_start(actor=citizen, item=item)
    case = services.case_save(actor=citizen, case=case, data={**VALID_DATA, "applicant_name": "冒名"})
    assert case.data["applicant_name"] == "张三"
    assert case.data["phone"] == VALID_DATA["phone"]


def test_saving_a_draft_checks_values_but_not_completeness(item, citizen):
    case = services.case_start(actor=citizen, item=item)
    services.case_save(actor=citizen, case=case, data={"phone": "13912345678"})  # partial is fine
    with pytest.raises(services.InvalidInput) as err:
        services.case_save(actor=citizen, case=case, data={"phone": "12345"})
    assert "phone" in err.value.errors
    assert Case.objects.get(pk=case.pk).data["phone"] == "13912345678"  # unchanged


def test_prereview_names_every_missing_thing_and_submit_refuses(item, citizen, applicant_material):
    case = services.case_start(actor=citizen, item=item)
    errors = services.prereview(case)
    assert {"address", "purpose", f"material-{applicant_material.pk}"} <= set(errors)
    assert "申请书" in errors[f"material-{applicant_material.pk}"]
    # the government-held licence and the optional plan are not asked for
    assert len([k for k in errors if k.startswith("material-")]) == 1
    with pytest.raises(services.InvalidInput):
        services.case_submit(actor=citizen, case=case)
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT and case.number is None
    assert not Task.objects.filter(case=case).exists()


def test_uploads_are_checked_by_content_and_stored_once(item, citizen, applicant_material, settings):
    case = services.case_start(actor=citizen, item=item)
    services.attachment_add(actor=citizen, case=case, material_id=applicant_material.pk, upload=pdf_upload())
    services.attachment_add(actor=citizen, case=case, material_id=applicant_material.pk, upload=pdf_upload())
    assert Blob.objects.count() == 1 and case.attachments.count() == 1
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")
    with pytest.raises(services.InvalidInput) as err:
        services.attachment_add(actor=citizen, case=case, material_id=applicant_material.pk, upload=fake)
    assert "file" in err.value.errors
    settings.UPLOAD_MAX_BYTES = 50
    with pytest.raises(services.TooLarge):
        services.attachment_add(
            actor=citizen, case=case, material_id=applicant_material.pk, upload=pdf_upload()
        )
    assert Blob.objects.count() == 1


def test_submission_numbers_the_case_and_opens_acceptance(submitted, item, citizen):
    case = submitted
    assert NUMBER.match(case.number)
    assert case.status == Case.Status.SUBMITTED
    task = open_task(case)
    assert (task.role, task.department_id) == ("clerk", item.department_id)
    assert case.due_date == add_workdays(timezone.localdate(case.submitted_at), item.promised_limit_days)
    assert AuditEntry.objects.filter(event="applications:case:submit", target_id=str(case.pk)).exists()
    assert Notice.objects.filter(user=citizen, case=case).count() == 1


def test_numbers_are_sequential_per_region_and_day(item, citizen, applicant_material):
    numbers = []
    for _ in range(3):
        case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
        numbers.append(services.case_submit(actor=citizen, case=case).number)
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert [int(n[-6:]) for n in numbers] == [1, 2, 3]


def test_a_second_submit_of_the_same_draft_creates_nothing(submitted, citizen):
    again = services.case_submit(actor=citizen, case=submitted)
    assert again.number == submitted.number
    assert Case.objects.count() == 1 and Task.objects.count() == 1


def test_the_default_process_walks_to_completion(submitted, clerk_x, reviewer_x, approver_x, citizen):
    case = act(submitted, clerk_x, "accept")
    assert case.status == Case.Status.IN_REVIEW and open_task(case).role == "reviewer"
    case = act(case, reviewer_x, "pass")
    assert open_task(case).role == "approver"
    case = act(case, approver_x, "approve")
    assert case.status == Case.Status.APPROVED and open_task(case).role == "clerk"
    case = act(case, clerk_x, "complete")
    assert case.status == Case.Status.COMPLETED and case.ended_at
    assert not Task.objects.filter(case=case, state=Task.State.OPEN).exists()
    decided = list(case.events.filter(kind=CaseEvent.Kind.DECIDED).values_list("decision", flat=True))
    assert decided == ["accept", "pass", "approve", "complete"]
    events = AuditEntry.objects.filter(event="applications:case:decide", target_id=str(case.pk))
    assert events.count() == 4
    assert Notice.objects.filter(user=citizen, case=case).count() == 5
    # each decision is the applicant's record too, and its public leaf names the acting role only
    assert set(events.values_list("subject_id", flat=True)) == {str(citizen.pk)}
    roles = [leaf.decode_leaf_input(e.leaf_input)["actor"]["role"] for e in events.order_by("leaf_index")]
    assert roles == ["clerk", "reviewer", "approver", "clerk"]


@pytest.mark.parametrize(
    ("steps", "final"),
    [
        ([("clerk", "reject")], Case.Status.REJECTED),
        ([("clerk", "accept"), ("reviewer", "reject")], Case.Status.NOT_APPROVED),
        ([("clerk", "accept"), ("reviewer", "pass"), ("approver", "not_approve")], Case.Status.NOT_APPROVED),
    ],
)
def test_refusals_end_the_case_with_a_reason(submitted, crew, steps, final):
    case = submitted
    for role, decision in steps:
        case = act(
            case, crew[role], decision, comment="材料不符合要求" if decision != "accept" else "", role=role
        )
    assert case.status == final and case.ended_at
    assert case.events.last().comment in {"", "材料不符合要求"}


def test_a_refusal_needs_a_reason(submitted, clerk_x):
    with pytest.raises(services.InvalidInput) as err:
        act(submitted, clerk_x, "reject")
    assert "comment" in err.value.errors
    assert Case.objects.get(pk=submitted.pk).status == Case.Status.SUBMITTED


def test_a_decision_the_step_does_not_offer_is_refused(submitted, clerk_x):
    with pytest.raises(services.InvalidInput):
        act(submitted, clerk_x, "approve")
    assert open_task(submitted).state == Task.State.OPEN


def test_a_task_handled_once_cannot_be_handled_again(submitted, clerk_x, official_x):
    task = open_task(submitted)
    services.task_complete(actor=clerk_x, task=task, decision="accept")
    with pytest.raises(services.AlreadyHandled):
        services.task_complete(actor=official_x, task=task, decision="reject", comment="晚了")
    assert Case.objects.get(pk=submitted.pk).status == Case.Status.IN_REVIEW


def test_claimed_tasks_belong_to_the_claimer(submitted, clerk_x, official_x):
    task = services.task_claim(actor=clerk_x, task=open_task(submitted))
    with pytest.raises(services.AlreadyHandled):
        services.task_claim(actor=official_x, task=task)
    with pytest.raises(services.AlreadyHandled):
        services.task_complete(actor=official_x, task=task, decision="accept")
    services.task_release(actor=clerk_x, task=task)
    services.task_complete(actor=official_x, task=task, decision="accept")


def test_officials_need_the_role_in_the_case_department(submitted, official_y, reviewer_x, inspector):
    task = open_task(submitted)
    for outsider in (official_y, reviewer_x, inspector):
        with pytest.raises(PermissionDenied):
            services.task_complete(actor=outsider, task=task, decision="accept")


def test_supplement_loop_stops_the_clock(item, citizen, applicant_material, clerk_x, dept_admin, monkeypatch):
    from yiwang.applications import engine

    spec = engine.bundled_process("supplement")
    bpmn = (spec_source := engine.PROCESSES_DIR / "supplement.bpmn").read_text()
    assert spec_source.exists() and spec.process_id
    services.process_attach(actor=dept_admin, item=item, bpmn=bpmn)
    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    due = case.due_date
    case = act(case, clerk_x, "supplement", comment="申请书缺少签名")
    assert case.status == Case.Status.SUPPLEMENT and case.paused_on is not None
    task = open_task(case)
    assert task.role == "applicant" and task.department_id is None
    # five working days later the applicant resubmits: the due date moves by five working days
    later = add_workdays(case.paused_on, 5)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: later)
    case = services.task_complete(
        actor=citizen, task=task, decision="resubmit", data={"purpose": "开办餐馆（已签名）"}
    )
    assert case.status == Case.Status.SUBMITTED and case.paused_on is None
    assert case.due_date == add_workdays(due, 5)
    assert case.data["purpose"] == "开办餐馆（已签名）"
    assert open_task(case).role == "clerk"


def test_withdraw_cancels_open_tasks(submitted, citizen, other_citizen):
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=other_citizen, case=submitted)
    case = services.case_withdraw(actor=citizen, case=submitted, reason="不需要了")
    assert case.status == Case.Status.WITHDRAWN
    assert Task.objects.get(case=case).state == Task.State.CANCELLED
    with pytest.raises(services.WrongState):
        services.case_withdraw(actor=citizen, case=case)


def test_ratings_once_and_a_poor_one_opens_a_rectification(submitted, citizen, official_x, dept_admin):
    with pytest.raises(services.WrongState):
        services.case_rate(actor=citizen, case=submitted, level=5)
    case = act(submitted, official_x, "reject", comment="不属于本部门")
    services.case_rate(actor=citizen, case=case, level=1, comment="跑了两次")
    with pytest.raises(services.AlreadyHandled):
        services.case_rate(actor=citizen, case=case, level=5)
    rectification = Rectification.objects.get(rating__case=case)
    assert rectification.department_id == case.department_id and rectification.due_date > dt.date(2000, 1, 1)
    services.rectification_reply(
        actor=dept_admin, rectification=rectification, reply="已整改，窗口已增加人手"
    )
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.REPLIED
    assert AuditEntry.objects.filter(event="applications:rating:create", target_id=str(case.pk)).exists()
    assert Notice.objects.filter(user=citizen, subject__contains=case.number).count() >= 2


def test_a_good_rating_opens_no_rectification(submitted, citizen, official_x):
    case = act(submitted, official_x, "reject", comment="不属于本部门")
    services.case_rate(actor=citizen, case=case, level=4)
    assert not Rectification.objects.exists()


def test_deadline_flags(submitted, monkeypatch):
    task = open_task(submitted)
    flag_deadlines_now(today=task.due_date - dt.timedelta(days=30))
    task.refresh_from_db()
    assert task.flag == Task.Flag.NONE
    flag_deadlines_now(today=task.due_date)
    task.refresh_from_db()
    assert task.flag == Task.Flag.DUE_SOON
    flag_deadlines_now(today=task.due_date + dt.timedelta(days=1))
    task.refresh_from_db()
    assert task.flag == Task.Flag.OVERDUE


def test_only_the_applicant_edits_a_draft(item, citizen, other_citizen, official_x):
    case = services.case_start(actor=citizen, item=item)
    for outsider in (other_citizen, official_x):
        with pytest.raises(PermissionDenied):
            services.case_save(actor=outsider, case=case, data=VALID_DATA)


def test_the_progress_query_needs_both_and_stops_guessing(submitted, citizen, settings):
    last4 = citizen.person.id_number_masked[-4:]
    wrong = "0000" if last4 != "0000" else "1111"
    assert services.track_lookup(number=submitted.number, id_last4=last4, client_ip="10.0.0.1") == submitted
    assert (
        services.track_lookup(number="610100-20990101-000001", id_last4=last4, client_ip="10.0.0.1") is None
    )
    for _ in range(settings.THROTTLES["track-case"][0]):
        assert services.track_lookup(number=submitted.number, id_last4=wrong, client_ip="10.0.0.2") is None
    with pytest.raises(services.Throttled):  # this client's guessing stops here
        services.track_lookup(number=submitted.number, id_last4=last4, client_ip="10.0.0.2")
    # ... and nobody else's lookup: the case is never locked for everyone.
    assert services.track_lookup(number=submitted.number, id_last4=last4, client_ip="10.0.0.3") == submitted


def test_officials_never_handle_their_own_application(
    item, applicant_material, citizen, department_x, clerk_x
):
    from yiwang.identity.models import Official, Role, RoleGrant

    # 张三 works as a clerk in X too; as applicant he must step aside (回避) from his own case.
    official = Official.objects.create(user=citizen, department=department_x, title="")
    RoleGrant.objects.create(official=official, role=Role.CLERK)
    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    with pytest.raises(PermissionDenied):
        act(case, citizen, "accept")
    assert act(case, clerk_x, "accept").status == Case.Status.IN_REVIEW


def test_a_supplement_adds_files_on_record_and_never_removes(
    item, citizen, applicant_material, clerk_x, dept_admin
):
    from yiwang.applications import engine

    services.process_attach(
        actor=dept_admin, item=item, bpmn=(engine.PROCESSES_DIR / "supplement.bpmn").read_text()
    )
    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = act(services.case_submit(actor=citizen, case=case), clerk_x, "supplement", comment="请补充签名页")
    first = case.attachments.get()
    with pytest.raises(services.WrongState):
        services.attachment_remove(actor=citizen, attachment=first)
    corrected = pdf_upload("签名页.pdf", b"%PDF-1.7\n% signed page\n%%EOF\n")
    services.attachment_add(actor=citizen, case=case, material_id=applicant_material.pk, upload=corrected)
    assert case.attachments.count() == 2
    assert AuditEntry.objects.filter(event="applications:attachment:add", target_id=str(case.pk)).count() == 1


def test_progress_guesses_do_not_lock_sign_in(submitted, settings):
    from yiwang.identity import services as identity_services

    for i in range(settings.THROTTLES["track-client"][0]):
        services.track_lookup(number=f" 610100-20990101-{i:06d}", id_last4="0000", client_ip="10.9.9.9")
    assert identity_services.login_attempt(username="someone", client_ip="10.9.9.9").allowed
    with pytest.raises(services.Throttled):  # the same address keeps guessing other numbers
        services.track_lookup(number="610100-20990102-000001", id_last4="0000", client_ip="10.9.9.9")


def test_the_idempotency_lookup_uses_its_partial_unique_index(citizen):
    # Issue 9 §9: without the index's own condition in the query, SQLite read every earlier case of
    # the applicant (workflow JSON and all) on each submission, so the cost grew with their history.
    from django.db import connection

    queryset = services.case_by_idempotency_key(citizen, "key-0001")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:  # a tiny test table is scanned whatever the indexes; ask whether the index can serve
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "case_idempotency_key_unique" in plan, plan
