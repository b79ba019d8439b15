"""Attacks on files, quotas and duties (issue 8, section 7), each reproduced and refused.

* A PDF uploaded as ``x.html`` or ``x.hta`` reaches officials as ``x.pdf`` (``application/pdf``,
  always a download, never sniffed).
* Leaders, department administrators and auditors see no applicant's file names or links.
* Quotas: drafts per person, files per case, bytes per person per day; nothing half-saved.
* 四眼原则: one official performs at most one of accept / review / approve on a case, unless the
  process model relaxes it explicitly.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from yiwang.applications import duties, engine, services
from yiwang.applications.models import Attachment, Blob, Case, CaseEvent, Task
from yiwang.conftest import make_official
from yiwang.identity.models import Role

from .conftest import PDF, act, open_task, pdf_upload, walk

pytestmark = pytest.mark.django_db

API = "/api/applications"


def _snapshot(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    tasks = sorted(Task.objects.filter(case=case).values_list("pk", "state", "claimed_by_id", "closed_by_id"))
    return (
        case.status,
        json.dumps(case.workflow, sort_keys=True),
        tasks,
        CaseEvent.objects.filter(case=case).count(),
    )


# --- downloads take their name and type from the content ----------------------------------------


@pytest.mark.parametrize("name", ["x.html", "x.hta", "申请书.pdf.exe", "..\\..\\x.svg"])
def test_a_pdf_uploaded_under_another_name_is_served_as_a_pdf(login, submitted, clerk_x, citizen, name):
    material = submitted.item.materials.get(name="场所平面图")
    Case.objects.filter(pk=submitted.pk).update(status=Case.Status.SUPPLEMENT)  # uploads allowed again
    attachment = services.attachment_add(
        actor=citizen, case=submitted, material_id=material.pk, upload=pdf_upload(name, PDF + b"%x")
    )
    assert attachment.filename.endswith(".pdf") and "\\" not in attachment.filename
    page = login(clerk_x).get(f"/workbench/cases/{submitted.number}/").content.decode()
    assert ".html" not in page and ".hta" not in page and ".exe<" not in page
    for who in (clerk_x, citizen):
        response = login(who).get(f"/cases/{submitted.number}/files/{attachment.pk}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;") and ".pdf" in disposition
        assert not any(bad in disposition for bad in (".html", ".hta", ".exe", ".svg"))
        assert b"".join(response.streaming_content).startswith(b"%PDF-")  # read to the end: closed


def test_a_name_stored_before_the_fix_is_still_served_by_its_type(login, submitted, clerk_x):
    attachment = submitted.attachments.get()
    Attachment.objects.filter(pk=attachment.pk).update(filename="invoice.hta")
    response = login(clerk_x).get(f"/cases/{submitted.number}/files/{attachment.pk}/")
    assert b"".join(response.streaming_content)  # read to the end, so the client closes the file
    assert 'filename="invoice.pdf"' in response["Content-Disposition"]


def test_the_api_reports_the_name_the_file_is_kept_under(login, citizen, item, applicant_material):
    client = login(citizen)
    draft = client.post(f"{API}/drafts", {"item": item.code}, content_type="application/json").json()
    upload = SimpleUploadedFile("report.html", PDF, content_type="text/html")
    response = client.post(
        f"{API}/drafts/{draft['id']}/materials", {"material": applicant_material.pk, "file": upload}
    )
    assert response.status_code == 201 and response.json()["filename"] == "report.pdf"


# --- one rule for who sees applicants' files ----------------------------------------------------


@pytest.fixture
def onlookers(department_x, leader_x, dept_admin):
    """Officials of X who may follow the case but not see the applicant's data."""
    auditor_x = make_official("auditor_x", department_x, [Role.AUDITOR])
    return {"leader": leader_x, "admin": dept_admin, "auditor": auditor_x}


@pytest.mark.parametrize("who", ["leader", "admin", "auditor"])
def test_leaders_admins_and_auditors_see_no_applicant_files(login, submitted, onlookers, who):
    attachment = submitted.attachments.get()
    client = login(onlookers[who])
    for url in (f"/cases/{submitted.number}/", f"/workbench/cases/{submitted.number}/"):
        page = client.get(url)
        assert page.status_code == 200, url
        body = page.content.decode()
        assert attachment.filename not in body and f"/files/{attachment.pk}/" not in body, url
    assert client.get(f"/cases/{submitted.number}/files/{attachment.pk}/").status_code == 404
    detail = client.get(f"{API}/cases/{submitted.number}").json()
    assert detail["attachments"] == [] and detail["data"] == {}


def test_the_applicant_and_case_handlers_see_the_files(login, submitted, citizen, clerk_x, reviewer_x):
    attachment = submitted.attachments.get()
    for user in (citizen, clerk_x, reviewer_x):
        body = login(user).get(f"/cases/{submitted.number}/").content.decode()
        assert f"/files/{attachment.pk}/" in body


# --- quotas -------------------------------------------------------------------------------------


def test_drafts_per_person_are_limited_and_nothing_is_half_saved(
    login, citizen, item, settings, bundle_of_two
):
    settings.APPLICATIONS_MAX_DRAFTS = 2
    services.case_start(actor=citizen, item=item)
    client = login(citizen)
    response = client.post(f"{API}/drafts", {"item": item.code}, content_type="application/json")
    assert response.status_code == 201
    response = client.post(f"{API}/drafts", {"item": item.code}, content_type="application/json")
    assert response.status_code == 409
    assert set(response.json()) == {"detail", "errors"} and response.json()["detail"]
    other = bundle_of_two.entries.exclude(item=item).get().item  # applying for item re-opens its draft
    page = client.post(f"/apply/{other.code}/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "unfinished drafts" in page.content.decode()
    assert Case.objects.filter(applicant=citizen).count() == 2
    Case.objects.filter(applicant=citizen).delete()
    services.case_start(actor=citizen, item=item)
    with pytest.raises(services.QuotaReached):  # a bundle of two would make three: none is made
        services.bundle_start(actor=citizen, bundle=bundle_of_two)
    assert Case.objects.filter(applicant=citizen).count() == 1
    assert not bundle_of_two.applications.exists()


@pytest.fixture
def bundle_of_two(item, department_x):
    from yiwang.catalog.models import BundleItem, LifeEvent, ServiceItem
    from yiwang.catalog.tests.factories import make_item

    other = make_item(
        code="610100-SCJG-XK-0009",
        name="小餐饮登记",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
    )
    bundle = LifeEvent.objects.create(code="two", name="开店", audience="enterprise")
    BundleItem.objects.create(bundle=bundle, item=item, order=1)
    BundleItem.objects.create(bundle=bundle, item=other, order=2)
    return bundle


def test_files_per_case_are_limited(login, citizen, item, applicant_material, settings):
    settings.APPLICATIONS_MAX_FILES_PER_CASE = 1
    case = services.case_start(actor=citizen, item=item)
    services.attachment_add(actor=citizen, case=case, material_id=applicant_material.pk, upload=pdf_upload())
    response = login(citizen).post(
        f"{API}/drafts/draft-{case.pk}/materials",
        {"material": applicant_material.pk, "file": pdf_upload("b.pdf", PDF + b"%b")},
    )
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "file"
    assert case.attachments.count() == 1 and Blob.objects.count() == 1


def test_bytes_per_person_per_day_are_limited_and_the_refused_file_is_not_stored(
    login, citizen, item, applicant_material, settings
):
    settings.APPLICATIONS_MAX_UPLOAD_BYTES_PER_DAY = len(PDF) * 2 + 10
    first, second = (services.case_start(actor=citizen, item=item) for _n in range(2))
    services.attachment_add(actor=citizen, case=first, material_id=applicant_material.pk, upload=pdf_upload())
    services.attachment_add(  # the same file again on the same case is no new upload
        actor=citizen, case=first, material_id=applicant_material.pk, upload=pdf_upload()
    )
    services.attachment_add(
        actor=citizen, case=second, material_id=applicant_material.pk, upload=pdf_upload()
    )
    assert services.uploaded_bytes_today(citizen) == 2 * len(PDF)
    client = login(citizen)
    big = pdf_upload("c.pdf", PDF + b"%" + b"c" * 40)
    response = client.post(
        f"{API}/drafts/draft-{second.pk}/materials", {"material": applicant_material.pk, "file": big}
    )
    assert response.status_code == 429, response.content
    assert response.json()["errors"][0]["field"] == "file"
    assert Blob.objects.count() == 1 and Attachment.objects.filter(case__applicant=citizen).count() == 2
    page = client.post(
        f"/cases/draft-{second.pk}/materials/",
        {"material": applicant_material.pk, "file": pdf_upload("d.pdf", PDF + b"%" + b"d" * 40)},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "try again tomorrow" in page.content.decode().lower()
    assert Blob.objects.count() == 1


# --- separation of duties (四眼原则) -------------------------------------------------------------


def test_one_official_with_every_role_may_not_accept_and_review_the_same_case(login, submitted, official_x):
    act(submitted, official_x, "accept")
    review = open_task(submitted)
    before = _snapshot(submitted)
    with pytest.raises(services.DutyConflict):
        services.task_claim(actor=official_x, task=review)
    with pytest.raises(services.DutyConflict):
        services.task_complete(actor=official_x, task=review, decision="pass")
    assert _snapshot(submitted) == before
    client = login(official_x)
    for response in (
        client.post(f"{API}/tasks/{review.pk}/claim", HTTP_ACCEPT_LANGUAGE="en"),
        client.post(
            f"{API}/tasks/{review.pk}/action",
            {"decision": "pass"},
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
        ),
    ):
        assert response.status_code == 403
        assert "separation of duties" in response.json()["detail"]
    page = client.post(
        f"/workbench/tasks/{review.pk}/", {"op": "act", "decision": "pass"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 403 and "separation of duties" in page.content.decode()
    shown = client.get(f"/workbench/tasks/{review.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "another official must do its review" in shown and 'name="decision"' not in shown
    assert _snapshot(submitted) == before


def test_reviewing_then_approving_is_refused_too(submitted, clerk_x, official_x):
    act(submitted, clerk_x, "accept")
    act(submitted, official_x, "pass")
    with pytest.raises(services.DutyConflict):
        act(submitted, official_x, "approve")
    assert open_task(submitted).role == "approver" and open_task(submitted).state == Task.State.OPEN


def test_the_clerk_who_accepted_may_hand_out_the_result(submitted, crew):
    case = walk(submitted, crew, "accept", "pass", "approve")
    case = act(case, crew["clerk"], "complete")
    assert case.status == Case.Status.COMPLETED


def test_a_process_may_relax_separation_of_duties_explicitly(
    item, dept_admin, citizen, applicant_material, official_x
):
    default = (engine.PROCESSES_DIR / "default.bpmn").read_text()
    relaxed = default.replace(
        'isExecutable="true">',
        'isExecutable="true">\n    <bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="separation_of_duties" value="relaxed"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>",
        1,
    )
    assert relaxed != default
    process = services.process_attach(actor=dept_admin, item=item, bpmn=relaxed)
    assert duties.process_relaxes(process) and not duties.process_relaxes(None)
    from .conftest import complete_draft

    case = services.case_start(actor=citizen, item=item)
    complete_draft(case, applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    for decision in ("accept", "pass", "approve", "complete"):
        case = act(case, official_x, decision)
    assert case.status == Case.Status.COMPLETED


def test_a_misspelt_relaxation_keeps_the_rule(item, dept_admin):
    default = (engine.PROCESSES_DIR / "default.bpmn").read_text()
    for value in ("yes", "relax", ""):
        bpmn = default.replace(
            'isExecutable="true">',
            'isExecutable="true"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="separation_of_duties" value="{value}"/>'
            "</spiffworkflow:properties></bpmn:extensionElements>",
            1,
        )
        process = services.process_attach(actor=dept_admin, item=item, bpmn=bpmn)
        assert not duties.process_relaxes(process), value


def test_the_conflict_message_is_translated(submitted, official_x):
    act(submitted, official_x, "accept")
    with translation.override("zh-hans"), pytest.raises(services.DutyConflict) as err:
        act(submitted, official_x, "pass")
    assert "四眼原则" in err.value.message
