"""The applications pages through the Django test client: what each page shows, what it does
on a POST, and what it refuses (wrong person, wrong state, bad input)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from yiwang.applications import services
from yiwang.applications.models import (
    Attachment,
    Blob,
    BundleCase,
    Case,
    Notice,
    Process,
    Rectification,
    Task,
)
from yiwang.catalog.models import BundleItem, LifeEvent, ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import make_official
from yiwang.identity.models import Role
from yiwang.lib.bilingual import pick

from .conftest import VALID_DATA, complete_draft, open_task, pdf_upload, walk

pytestmark = pytest.mark.django_db

PROCESSES = Path(services.__file__).parent / "processes"


def text(response) -> str:
    return response.content.decode()


def shows(response, message: str) -> bool:
    """The page contains ``message`` as rendered (HTML-escaped)."""
    return escape(message) in text(response)


def draft_of(citizen, item) -> Case:
    return services.case_start(actor=citizen, item=item)


def edit_url(case: Case) -> str:
    return f"/cases/{case.number or f'draft-{case.pk}'}/edit/"


def finished(submitted: Case, crew: dict) -> Case:
    walk(submitted, crew, "accept", "pass", "approve", "complete")
    return Case.objects.get(pk=submitted.pk)


# --- apply -------------------------------------------------------------------------------


def test_apply_asks_anonymous_users_to_sign_in(login, item):
    response = login(None).get(f"/apply/{item.code}/")
    assert response.status_code == 302 and "/login" in response["Location"]
    response = login(None).post(f"/apply/{item.code}/")
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not Case.objects.exists()


def test_apply_starts_a_draft_and_lists_it_next_time(login, item, citizen):
    client = login(citizen)
    response = client.get(f"/apply/{item.code}/")
    assert response.status_code == 200 and "食品经营许可" in text(response)
    response = client.post(f"/apply/{item.code}/")
    case = Case.objects.get(applicant=citizen)
    assert case.is_draft and case.number is None
    assert response.status_code == 302 and response["Location"] == edit_url(case)
    again = client.get(f"/apply/{item.code}/")  # "在线申请" again: the same draft, re-opened
    assert again.status_code == 302 and again["Location"] == edit_url(case)


def test_applying_again_reopens_the_draft_instead_of_making_another(login, item, citizen):
    client = login(citizen)
    first = client.post(f"/apply/{item.code}/")
    second = client.post(f"/apply/{item.code}/")
    case = Case.objects.get(applicant=citizen)
    assert first["Location"] == second["Location"] == edit_url(case)
    submitted = services.case_save(actor=citizen, case=case, data={"phone": "13912345678"})
    Case.objects.filter(pk=submitted.pk).update(status=Case.Status.WITHDRAWN)
    client.post(f"/apply/{item.code}/")  # nothing open any more: a new draft
    assert Case.objects.filter(applicant=citizen, status=Case.Status.DRAFT).count() == 1


def test_the_phone_given_for_the_account_is_filled_in_and_not_called_government_data(login, item, citizen):
    case = draft_of(citizen, item)
    assert case.data["phone"] == citizen.person.phone and "phone" not in case.provided
    page = text(login(citizen).get(edit_url(case)))
    field = re.search(r'<input type="text" id="f-phone"[^>]*>', page).group(0)
    assert f'value="{citizen.person.phone}"' in field  # an input the applicant can change
    assert (
        _("Filled in from your account (as you gave it, not checked by the government): change it if needed.")
        in page
    )
    services.case_save(actor=citizen, case=case, data={"phone": "13912345678"})
    case.refresh_from_db()
    assert case.data["phone"] == "13912345678"


def test_uploading_a_file_keeps_what_was_typed(login, item, citizen, applicant_material):
    case = draft_of(citizen, item)
    response = login(citizen).post(
        reverse("applications:upload", args=[f"draft-{case.pk}"]),
        {
            "form": "1",
            "address": "西安市雁塔区某路1号",
            "purpose": "开店",
            "phone": "13912345678",
            "material": applicant_material.pk,
            "file": pdf_upload(),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.data["address"] == "西安市雁塔区某路1号" and case.data["purpose"] == "开店"
    assert case.attachments.count() == 1


def test_an_upload_with_a_wrong_field_shows_the_typed_values_again(login, item, citizen, applicant_material):
    case = draft_of(citizen, item)
    response = login(citizen).post(
        reverse("applications:upload", args=[f"draft-{case.pk}"]),
        {
            "form": "1",
            "address": "西安市雁塔区某路1号",
            "phone": "12345",
            "material": applicant_material.pk,
            "file": pdf_upload(),
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "西安市雁塔区某路1号" in page and 'href="#f-phone"' in page
    assert case.attachments.count() == 1  # the file is kept all the same


def test_a_bare_upload_leaves_the_form_data_alone(login, item, citizen, applicant_material):
    case = draft_of(citizen, item)
    services.case_save(actor=citizen, case=case, data={"phone": "13912345678", "address": "某路1号"})
    login(citizen).post(
        reverse("applications:upload", args=[f"draft-{case.pk}"]),
        {"material": applicant_material.pk, "file": pdf_upload()},
    )
    case.refresh_from_db()
    assert case.data["address"] == "某路1号" and case.attachments.count() == 1


def test_the_submit_button_comes_after_the_upload_area(login, item, citizen, applicant_material):
    page = text(login(citizen).get(edit_url(draft_of(citizen, item))))
    assert page.index('name="file"') < page.index('name="submit"')


def test_an_applicant_deletes_their_own_draft_and_it_is_audited(login, item, citizen, applicant_material):
    from yiwang.audit.models import AuditEntry

    case = draft_of(citizen, item)
    services.attachment_add(actor=citizen, case=case, material_id=applicant_material.pk, upload=pdf_upload())
    response = login(citizen).post(reverse("applications:discard", args=[f"draft-{case.pk}"]))
    assert response.status_code == 302 and response["Location"] == reverse("applications:my_cases")
    assert not Case.objects.filter(pk=case.pk).exists()
    assert AuditEntry.objects.filter(event="applications:case:discard").count() == 1


def test_nobody_deletes_another_persons_draft_or_a_submitted_case(
    login, item, citizen, other_citizen, submitted
):
    case = draft_of(citizen, item)
    response = login(other_citizen).post(reverse("applications:discard", args=[f"draft-{case.pk}"]))
    assert response.status_code == 404 and Case.objects.filter(pk=case.pk).exists()
    response = login(citizen).post(reverse("applications:discard", args=[submitted.number]), follow=True)
    assert shows(response, _("Only a draft can be deleted."))
    assert Case.objects.filter(pk=submitted.pk).exists()


def test_apply_refuses_an_item_that_is_not_online(login, department_x, citizen):
    offline = make_item(
        code="610100-SCJG-XK-0009",
        name="线下事项",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.INFORMATION,
    )
    response = login(citizen).post(f"/apply/{offline.code}/", follow=True)
    assert shows(response, _("This service cannot be applied for online."))
    assert not Case.objects.exists()


# --- edit --------------------------------------------------------------------------------


def test_the_form_shows_provided_fields_as_text_not_inputs(login, item, citizen):
    case = draft_of(citizen, item)
    page = text(login(citizen).get(edit_url(case)))
    assert "张三" in page and citizen.person.id_number_masked in page
    assert 'name="applicant_name"' not in page and 'name="id_number"' not in page
    assert 'name="phone"' in page and 'name="purpose"' in page


def test_saving_keeps_a_partial_draft_and_ignores_posted_provided_fields(login, item, citizen):
    case = draft_of(citizen, item)
    client = login(citizen)
    response = client.post(edit_url(case), {"phone": "13912345678", "applicant_name": "冒名", "save": "1"})
    assert response.status_code == 302 and response["Location"] == edit_url(case)
    case.refresh_from_db()
    assert case.data["phone"] == "13912345678" and case.data["applicant_name"] == "张三"
    assert case.is_draft


def test_a_wrong_value_gives_an_error_summary_linking_to_the_field(login, item, citizen):
    case = draft_of(citizen, item)
    services.case_save(actor=citizen, case=case, data={"phone": "13912345678"})
    response = login(citizen).post(edit_url(case), {"phone": "12345", "save": "1"})
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page and 'href="#f-phone"' in page
    assert 'id="f-phone"' in page and 'aria-invalid="true"' in page
    case.refresh_from_db()
    assert case.data["phone"] == "13912345678"


def test_submitting_an_incomplete_draft_lists_what_is_missing_and_keeps_it_a_draft(
    login, item, citizen, applicant_material
):
    case = draft_of(citizen, item)
    response = login(citizen).post(edit_url(case), {"phone": "13912345678", "submit": "1"})
    assert response.status_code == 200
    page = text(response)
    for anchor in ("#f-address", "#f-purpose", f"#material-{applicant_material.pk}"):
        assert f'href="{anchor}"' in page
    assert 'href="#f-phone"' not in page
    case.refresh_from_db()
    assert case.is_draft and case.number is None and case.data["phone"] == "13912345678"
    assert not Task.objects.exists()


def test_submitting_a_complete_draft_goes_to_the_case_and_a_double_post_makes_one_case(
    login, item, citizen, applicant_material
):
    case = complete_draft(draft_of(citizen, item), applicant_material, citizen)
    client = login(citizen)
    url = edit_url(case)
    assert shows(client.get(url), _("Everything needed is here. You can submit."))
    first = client.post(url, {**VALID_DATA, "submit": "1"})
    case.refresh_from_db()
    assert re.match(r"^610100-\d{8}-\d{6}$", case.number)
    assert first.status_code == 302 and first["Location"] == f"/cases/{case.number}/"
    client.post(url, {**VALID_DATA, "submit": "1"})  # the same form posted again (double click)
    again = client.post(edit_url(case), {**VALID_DATA, "submit": "1"})
    assert again.status_code == 302 and again["Location"] == f"/cases/{case.number}/"
    assert Case.objects.count() == 1 and Task.objects.count() == 1
    assert case.events.filter(kind="submitted").count() == 1


def test_a_double_clicked_submit_lands_on_the_case_page(login, item, citizen, applicant_material):
    case = complete_draft(draft_of(citizen, item), applicant_material, citizen)
    client = login(citizen)
    url = edit_url(case)
    client.post(url, {**VALID_DATA, "submit": "1"})
    second = client.post(url, {**VALID_DATA, "submit": "1"})
    case.refresh_from_db()
    assert second.status_code == 302 and second["Location"] == f"/cases/{case.number}/"


def test_someone_else_cannot_open_or_change_a_draft(login, item, citizen, other_citizen, official_x):
    case = draft_of(citizen, item)
    for user in (other_citizen, official_x):
        assert login(user).get(edit_url(case)).status_code == 404
        assert login(user).post(edit_url(case), {"phone": "13912345678", "save": "1"}).status_code == 404
    case.refresh_from_db()
    assert case.data.get("phone") != "13912345678"


# --- upload ------------------------------------------------------------------------------


def test_an_upload_of_the_wrong_type_is_refused_with_a_message_and_not_stored(
    login, item, citizen, applicant_material
):
    case = draft_of(citizen, item)
    fake = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    response = login(citizen).post(
        f"/cases/draft-{case.pk}/materials/", {"material": applicant_material.pk, "file": fake}, follow=True
    )
    assert response.status_code == 200
    assert shows(response, _("This type of file is not accepted."))
    assert not Attachment.objects.exists() and not Blob.objects.exists()


def test_a_pdf_upload_is_attached_and_clears_the_material_from_the_prereview(
    login, item, citizen, applicant_material
):
    case = draft_of(citizen, item)
    client = login(citizen)
    response = client.post(
        f"/cases/draft-{case.pk}/materials/", {"material": applicant_material.pk, "file": pdf_upload()}
    )
    assert response.status_code == 302 and response["Location"].endswith("#materials")
    attachment = Attachment.objects.get(case=case)
    assert attachment.material == applicant_material and attachment.filename == "申请书.pdf"
    missing = _("Upload “%(name)s”.") % {"name": applicant_material.name}
    assert not shows(client.get(edit_url(case)), missing)


def test_an_upload_for_a_material_the_government_holds_is_refused(login, item, citizen):
    case = draft_of(citizen, item)
    held = item.materials.get(name="营业执照")
    login(citizen).post(f"/cases/draft-{case.pk}/materials/", {"material": held.pk, "file": pdf_upload()})
    assert not Attachment.objects.exists()


# --- case page ---------------------------------------------------------------------------


def test_the_case_page_shows_the_timeline_and_no_rating_form_before_a_decision(login, submitted, citizen):
    client = login(citizen)
    response = client.get(f"/cases/{submitted.number}/")
    page = text(response)
    assert response.status_code == 200 and submitted.number in page
    assert 'class="timeline"' in page and escape(str(Case.Status.SUBMITTED.label)) in page
    assert f'action="/cases/{submitted.number}/rate/"' not in page
    assert f'action="/cases/{submitted.number}/withdraw/"' in page
    response = client.post(f"/cases/{submitted.number}/rate/", {"level": 5}, follow=True)
    assert shows(response, _("You can rate an application once it has been decided."))
    assert not hasattr(Case.objects.get(pk=submitted.pk), "rating")


def test_other_people_get_404_for_a_case_and_the_department_can_read_it(
    login, submitted, other_citizen, official_y, official_x
):
    url = f"/cases/{submitted.number}/"
    assert login(other_citizen).get(url).status_code == 404
    assert login(official_y).get(url).status_code == 404
    assert login(None).get(url).status_code == 302
    assert login(official_x).get(url).status_code == 200


def test_withdrawing_cancels_open_tasks(login, submitted, citizen, other_citizen):
    url = f"/cases/{submitted.number}/withdraw/"
    assert login(other_citizen).post(url, {"reason": "不要了"}).status_code == 404
    response = login(citizen).post(url, {"reason": "不办了"}, follow=True)
    assert shows(response, _("The application was withdrawn."))
    case = Case.objects.get(pk=submitted.pk)
    assert case.status == Case.Status.WITHDRAWN
    assert not case.tasks.filter(state=Task.State.OPEN).exists()
    again = login(citizen).post(url, {"reason": ""}, follow=True)
    assert shows(again, _("This application can no longer be withdrawn."))


def test_rating_a_decided_case_poorly_opens_a_rectification_and_shows_the_reply(
    login, submitted, citizen, crew, dept_admin
):
    case = finished(submitted, crew)
    assert case.status == Case.Status.COMPLETED
    client = login(citizen)
    page = text(client.get(f"/cases/{case.number}/"))
    assert f'action="/cases/{case.number}/rate/"' in page and 'name="level"' in page
    assert login(citizen).post(f"/cases/{case.number}/rate/", {"level": 9}).status_code == 302
    assert not Rectification.objects.exists()
    response = client.post(f"/cases/{case.number}/rate/", {"level": 2, "comment": "等太久"}, follow=True)
    assert shows(response, _("Thank you for your rating."))
    rectification = Rectification.objects.get(rating__case=case)
    page = text(response)
    assert 'name="level"' not in page and "等太久" in page
    assert rectification.due_date.strftime("%Y-%m-%d") in page
    services.rectification_reply(actor=dept_admin, rectification=rectification, reply="已约谈窗口，改进流程")
    assert "已约谈窗口，改进流程" in text(client.get(f"/cases/{case.number}/"))
    twice = client.post(f"/cases/{case.number}/rate/", {"level": 5}, follow=True)
    assert shows(twice, _("You have already rated this application."))


# --- track -------------------------------------------------------------------------------


def test_track_is_public_and_needs_the_right_last_four(login, submitted, citizen):
    anonymous = login(None)
    last4 = citizen.person.id_number_masked[-4:]
    assert anonymous.get("/track/").status_code == 200
    found = anonymous.post("/track/", {"number": submitted.number, "id_last4": last4})
    assert found.status_code == 200 and submitted.number in text(found)
    assert escape(str(Case.Status.SUBMITTED.label)) in text(found)
    wrong = "0000" if last4 != "0000" else "1111"
    refused = anonymous.post("/track/", {"number": submitted.number, "id_last4": wrong})
    unknown = anonymous.post("/track/", {"number": "610100-20000101-999999", "id_last4": last4})
    message = _("No case matches this number and identity number. Check both and try again.")
    for response in (refused, unknown):
        assert response.status_code == 404 and shows(response, message)
        assert "食品经营许可" not in text(response).split("</h1>", 1)[1]
    bad = anonymous.post("/track/", {"number": submitted.number, "id_last4": "12"})
    assert bad.status_code == 200 and shows(bad, _("Enter four characters: digits, the last may be X."))
    # A GET never looks anything up, whatever its query says.
    looked_up = anonymous.get("/track/", {"number": submitted.number, "id_last4": last4})
    assert looked_up.status_code == 200 and "食品经营许可" not in text(looked_up).split("</h1>", 1)[1]


# --- notices -----------------------------------------------------------------------------


def test_a_notice_reads_in_the_readers_language(login, submitted, citizen, crew):
    walk(submitted, crew, "accept")
    client = login(citizen)
    english = text(client.get("/notices/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"Application {submitted.number} received" in english
    assert f"Application {submitted.number}: Under review" in english
    chinese = text(client.get("/notices/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    with translation.override("zh-hans"):
        received = _("Application %(number)s received") % {"number": submitted.number}
    assert escape(received) in chinese and "received" not in chinese
    notice = Notice.objects.filter(user=citizen).order_by("pk").first()
    assert notice.message_key == "case.received" and notice.params == {"number": submitted.number}
    api = client.get("/api/applications/notices", HTTP_ACCEPT_LANGUAGE="en").json()
    assert f"Application {submitted.number} received" in [n["subject"] for n in api]


def test_notices_stored_as_text_before_get_their_keys_back():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("yiwang.applications.migrations.0002_notice_message_key_and_params")
    from yiwang.conftest import make_user

    user = make_user("legacy")
    with translation.override("zh-hans"):
        old = [
            _("Application %(number)s received") % {"number": "610100-20261201-000001"},
            _("Application %(number)s: %(status)s")
            % {"number": "610100-20261201-000001", "status": Case.Status.APPROVED.label},
        ]
    rows = [Notice.objects.create(user=user, subject=s) for s in [*old, "其他消息"]]
    migration.forwards(apps, None)
    keys = [
        (n.message_key, n.params) for n in Notice.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    ]
    assert keys == [
        ("case.received", {"number": "610100-20261201-000001"}),
        ("case.status", {"number": "610100-20261201-000001", "status": "approved"}),
        ("", {}),
    ]
    with translation.override("en"):
        assert (
            Notice.objects.get(pk=rows[1].pk).subject_text == "Application 610100-20261201-000001: Approved"
        )
        assert Notice.objects.get(pk=rows[2].pk).subject_text == "其他消息"


def test_step_names_and_site_name_read_in_the_readers_language(login, submitted, citizen, clerk_x):
    english = text(login(clerk_x).get("/workbench/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "<td>Accept</td>" in english and "受理 | Accept" not in english
    assert "Yiwang · Government Services" in english
    chinese = text(login(clerk_x).get("/workbench/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "<td>受理</td>" in chinese and "一网 · 政务服务平台" in chinese


def test_notices_are_listed_and_marked_read(login, submitted, citizen, other_citizen):
    client = login(citizen)
    notice = Notice.objects.get(user=citizen)
    page = text(client.get("/notices/"))
    assert escape(notice.subject) in page and f"/cases/{submitted.number}/" in page
    assert notice.subject not in text(login(other_citizen).get("/notices/"))
    assert client.post("/notices/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None


# --- workbench and tasks -----------------------------------------------------------------


def test_the_workbench_shows_each_role_its_queue(login, submitted, clerk_x, reviewer_x, official_y, citizen):
    task = open_task(submitted)
    page = text(login(clerk_x).get("/workbench/"))
    assert f"/workbench/tasks/{task.pk}/" in page and submitted.number in page
    assert submitted.number not in text(login(reviewer_x).get("/workbench/?queue=review"))
    assert submitted.number not in text(login(clerk_x).get("/workbench/?queue=review"))
    for queue in ("accept", "review", "approve", "overdue", "due_soon", "mine"):
        response = login(official_y).get(f"/workbench/?queue={queue}")
        assert response.status_code == 200 and submitted.number not in text(response)
    assert login(official_y).get(f"/workbench/tasks/{task.pk}/").status_code == 404
    assert login(citizen).get("/workbench/").status_code == 403
    assert login(None).get("/workbench/").status_code == 302
    assert login(clerk_x).get("/workbench/?queue=nonsense").status_code == 404


def test_the_workbench_queue_names_follow_the_users_language(login, clerk_x):
    client = login(clerk_x)
    english = text(client.get("/workbench/", HTTP_ACCEPT_LANGUAGE="en"))
    chinese = text(client.get("/workbench/", HTTP_ACCEPT_LANGUAGE="zh-CN"))
    with translation.override("en"):
        assert f">{escape(_('To accept and complete'))}</a>" in english
    with translation.override("zh-hans"):
        assert f">{escape(_('To accept and complete'))}</a>" in chinese


def test_claim_release_and_act_on_a_task(login, submitted, clerk_x, reviewer_x):
    task = open_task(submitted)
    client = login(clerk_x)
    url = f"/workbench/tasks/{task.pk}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"op": "claim"}).status_code == 302
    task.refresh_from_db()
    assert task.claimed_by == clerk_x
    assert submitted.number in text(client.get("/workbench/?queue=mine"))
    assert client.post(url, {"op": "release"}).status_code == 302
    task.refresh_from_db()
    assert task.claimed_by is None
    refused = client.post(url, {"op": "act", "decision": "reject", "comment": ""})
    assert refused.status_code == 422
    assert shows(refused, _("Say why, so the applicant knows what to do."))
    assert client.post(url, {"op": "act", "decision": "no-such"}).status_code == 422
    done = client.post(url, {"op": "act", "decision": "accept", "comment": ""})
    assert done.status_code == 302 and done["Location"] == "/workbench/"
    task.refresh_from_db()
    assert task.state == Task.State.DONE and task.decision == "accept"
    assert open_task(submitted).role == "reviewer"
    assert submitted.number in text(login(reviewer_x).get("/workbench/?queue=review"))


def test_a_second_official_acting_on_a_handled_task_is_told_so(login, submitted, clerk_x, department_x):
    other_clerk = make_official("clerk_x2", department_x, [Role.CLERK])
    task = open_task(submitted)
    url = f"/workbench/tasks/{task.pk}/"
    assert login(clerk_x).post(url, {"op": "act", "decision": "accept"}).status_code == 302
    late = login(other_clerk).post(url, {"op": "act", "decision": "accept"})
    assert late.status_code == 409 and shows(late, _("This task was already handled."))
    assert Task.objects.filter(case=submitted, role="clerk", state=Task.State.DONE).count() == 1


def test_a_task_claimed_by_someone_else_cannot_be_taken(login, submitted, clerk_x, department_x):
    other_clerk = make_official("clerk_x2", department_x, [Role.CLERK])
    task = open_task(submitted)
    url = f"/workbench/tasks/{task.pk}/"
    login(clerk_x).post(url, {"op": "claim"})
    response = login(other_clerk).post(url, {"op": "claim"})
    assert response.status_code == 409 and shows(response, _("Someone else has already claimed this task."))
    assert login(other_clerk).post(url, {"op": "act", "decision": "accept"}).status_code == 409
    task.refresh_from_db()
    assert task.state == Task.State.OPEN and task.claimed_by == clerk_x


# --- waits, processes, rectifications ----------------------------------------------------


def test_waits_show_leaders_the_time_at_each_step(login, submitted, leader_x, citizen, official_y):
    response = login(leader_x).get("/workbench/waits/")
    page = text(response)
    assert response.status_code == 200 and submitted.number in page
    assert escape(pick(open_task(submitted).title)) in page and "<td>0" in page
    assert submitted.number not in text(login(official_y).get("/workbench/waits/"))
    assert login(citizen).get("/workbench/waits/").status_code == 403
    assert login(leader_x).get(f"/workbench/cases/{submitted.number}/").status_code == 200


def test_process_pages_are_for_department_admins_only(login, item, dept_admin, official_x, citizen):
    assert login(official_x).get("/workbench/processes/").status_code == 403
    assert login(citizen).get(f"/workbench/processes/{item.code}/").status_code == 403
    response = login(dept_admin).get("/workbench/processes/")
    assert response.status_code == 200 and f"/workbench/processes/{item.code}/" in text(response)
    assert login(dept_admin).get(f"/workbench/processes/{item.code}/").status_code == 200


def test_process_item_of_another_department_is_forbidden(login, department_y, dept_admin):
    item_y = make_item(
        code="610200-SCJG-XK-0001",
        name="铜川食品经营许可",
        department=department_y,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
    )
    assert login(dept_admin).get(f"/workbench/processes/{item_y.code}/").status_code == 403


def bpmn_upload(content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("process.bpmn", content.encode(), content_type="application/xml")


def test_a_bpmn_with_code_in_a_condition_is_refused_with_the_reason(login, item, dept_admin, tmp_path):
    marker = tmp_path / "pwned"
    default = (PROCESSES / "default.bpmn").read_text(encoding="utf-8")
    evil = default.replace('decision == "accept"', f'__import__("os").system("touch {marker}") == 0', 1)
    assert evil != default
    response = login(dept_admin).post(
        f"/workbench/processes/{item.code}/", {"op": "process", "p-bpmn": bpmn_upload(evil), "p-name": "evil"}
    )
    assert response.status_code == 422
    assert "__import__" in text(response) and "flow_accepted" in text(response)  # the element named
    assert not Process.objects.exists() and not marker.exists()


def test_a_valid_bpmn_becomes_version_one(login, item, dept_admin):
    default = (PROCESSES / "default.bpmn").read_text(encoding="utf-8")
    client = login(dept_admin)
    response = client.post(
        f"/workbench/processes/{item.code}/",
        {"op": "process", "p-bpmn": bpmn_upload(default), "p-name": "标准流程"},
        follow=True,
    )
    assert response.status_code == 200
    process = Process.objects.get(item=item)
    assert process.version == 1 and process.is_active and process.name == "标准流程"
    assert shows(response, _("Process version %(v)s is now in use.") % {"v": 1})


def test_rectifications_are_answered_from_their_page(login, submitted, citizen, crew, dept_admin, official_y):
    case = finished(submitted, crew)
    rating = services.case_rate(actor=citizen, case=case, level=1, comment="态度差")
    rectification = rating.rectification
    client = login(dept_admin)
    page = text(client.get("/workbench/rectifications/"))
    assert case.number in page and "态度差" in page
    assert login(official_y).get("/workbench/rectifications/").status_code == 403
    empty = client.post("/workbench/rectifications/", {"id": rectification.pk, "reply": ""})
    assert empty.status_code == 200
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.OPEN
    response = client.post(
        "/workbench/rectifications/", {"id": rectification.pk, "reply": "已整改"}, follow=True
    )
    assert shows(response, _("Your reply was sent to the applicant."))
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.REPLIED and rectification.reply == "已整改"
    assert "已整改" in text(login(citizen).get(f"/cases/{case.number}/"))
    assert client.post("/workbench/rectifications/", {"id": "x", "reply": "a"}).status_code == 404


# --- bundles -----------------------------------------------------------------------------


@pytest.fixture
def bundle(item, department_x) -> LifeEvent:
    second = make_item(
        code="610100-SCJG-XK-0002",
        name="食品小作坊登记",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
    )
    offline = make_item(
        code="610100-SCJG-XK-0003",
        name="现场核查",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.INFORMATION,
    )
    event = LifeEvent.objects.create(code="open-restaurant", name="我要开餐馆", audience="personal")
    for order, it in enumerate((item, second, offline)):
        BundleItem.objects.create(bundle=event, item=it, order=order)
    return event


def _second_item_form(bundle) -> ServiceItem:
    """The bundle's second item asks the default form plus a seat count, and one more material
    besides the application form both items ask for."""
    from yiwang.applications.schemaforms import DEFAULT_SCHEMA
    from yiwang.catalog.models import Material

    second = ServiceItem.objects.get(code="610100-SCJG-XK-0002")
    schema = {
        **DEFAULT_SCHEMA,
        "properties": {
            **DEFAULT_SCHEMA["properties"],
            "seats": {"type": "integer", "title": "餐位数", "minimum": 1},
        },
        "required": [*DEFAULT_SCHEMA["required"], "seats"],
    }
    from yiwang.applications.models import FormDefinition

    FormDefinition.objects.create(item=second, schema=schema)
    Material.objects.create(item=second, name="食品经营许可申请书", order=1)
    Material.objects.create(item=second, name="从业人员健康证明", order=2)
    return second


def test_a_bundle_asks_each_shared_field_and_material_once_and_submits_once(
    login, bundle, citizen, other_citizen, applicant_material
):
    _second_item_form(bundle)
    client = login(citizen)
    response = client.post(f"/apply-bundle/{bundle.code}/")
    bundle_case = BundleCase.objects.get(applicant=citizen)
    assert response.status_code == 302 and response["Location"] == f"/bundle-cases/{bundle_case.pk}/"
    assert client.post(f"/apply-bundle/{bundle.code}/")["Location"] == response["Location"]  # re-opened
    first, second = list(bundle_case.cases.order_by("pk"))
    assert [first.item.name, second.item.name] == ["食品经营许可", "食品小作坊登记"]
    assert edit_url(first) and client.get(edit_url(first))["Location"] == response["Location"]
    page = text(client.get(f"/bundle-cases/{bundle_case.pk}/"))
    assert page.count('name="phone"') == 1 and page.count('name="address"') == 1  # asked once
    assert page.count(f'name="c{second.pk}__seats"') == 1 and 'name="seats"' not in page
    assert page.count("<strong>食品经营许可申请书</strong>") == 1  # one material for both items
    assert "<strong>从业人员健康证明</strong>" in page
    assert page.index('name="file"') < page.index('value="submit"')
    assert login(other_citizen).get(f"/bundle-cases/{bundle_case.pk}/").status_code == 404

    incomplete = client.post(f"/bundle-cases/{bundle_case.pk}/", {"op": "submit"})
    assert incomplete.status_code == 422 and 'class="error-summary"' in text(incomplete)
    assert all(c.is_draft for c in bundle_case.cases.all())

    # The upload carries the typed fields: both are kept, the file goes to both cases.
    form = {**VALID_DATA, f"c{second.pk}__seats": "12"}
    client.post(
        f"/bundle-cases/{bundle_case.pk}/",
        {**form, "op": "upload", "material": applicant_material.pk, "file": pdf_upload()},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.data["address"] == second.data["address"] == VALID_DATA["address"]
    assert second.data["seats"] == 12 and "seats" not in first.data
    assert first.attachments.count() == 1 and second.attachments.count() == 1
    assert Blob.objects.count() == 1
    health = second.item.materials.get(name="从业人员健康证明")
    still = client.post(f"/bundle-cases/{bundle_case.pk}/", {**form, "op": "submit"})
    assert still.status_code == 422 and f'href="#bm-{health.pk}"' in text(still)
    assert not Case.objects.exclude(number=None).exists()  # all or none

    client.post(
        f"/bundle-cases/{bundle_case.pk}/",
        {**form, "op": "upload", "material": health.pk, "file": pdf_upload()},
    )
    response = client.post(f"/bundle-cases/{bundle_case.pk}/", {**form, "op": "submit"}, follow=True)
    assert shows(response, _("All applications of the bundle were submitted."))
    bundle_case.refresh_from_db()
    assert bundle_case.status == BundleCase.Status.IN_PROGRESS
    numbers = [c.number for c in bundle_case.cases.all()]
    assert all(numbers) and all(n in text(response) for n in numbers)
    again = client.post(f"/bundle-cases/{bundle_case.pk}/", {**form, "op": "submit"})  # a double click
    assert again.status_code == 302 and [c.number for c in bundle_case.cases.all()] == numbers


def test_a_wrong_shared_value_saves_nothing_in_any_of_the_bundles_cases(login, bundle, citizen):
    client = login(citizen)
    client.post(f"/apply-bundle/{bundle.code}/")
    bundle_case = BundleCase.objects.get(applicant=citizen)
    response = client.post(
        f"/bundle-cases/{bundle_case.pk}/", {"op": "save", "phone": "12345", "address": "某路1号"}
    )
    assert response.status_code == 422 and 'href="#f-phone"' in text(response)
    assert "某路1号" in text(response)  # what was typed is shown again
    assert all("address" not in c.data for c in bundle_case.cases.all())


def test_removing_a_shared_file_removes_it_from_every_case_and_a_bundle_draft_can_be_deleted(
    login, bundle, citizen, applicant_material
):
    from yiwang.audit.models import AuditEntry

    _second_item_form(bundle)
    client = login(citizen)
    client.post(f"/apply-bundle/{bundle.code}/")
    bundle_case = BundleCase.objects.get(applicant=citizen)
    client.post(
        f"/bundle-cases/{bundle_case.pk}/",
        {"op": "upload", "material": applicant_material.pk, "file": pdf_upload()},
    )
    attachment = Attachment.objects.filter(case__bundle_case=bundle_case).order_by("pk").first()
    assert Attachment.objects.filter(case__bundle_case=bundle_case).count() == 2
    client.post(f"/bundle-cases/{bundle_case.pk}/", {"op": f"remove-{attachment.pk}"})
    assert not Attachment.objects.filter(case__bundle_case=bundle_case).exists()
    response = client.post(f"/bundle-cases/{bundle_case.pk}/", {"op": "delete"})
    assert response.status_code == 302 and not BundleCase.objects.exists() and not Case.objects.exists()
    assert AuditEntry.objects.filter(event="applications:bundle:discard").count() == 1


def test_leaders_and_admins_reach_the_workbench_their_header_links_to(login, leader_x, dept_admin):
    for user in (leader_x, dept_admin):
        response = login(user).get("/workbench/")
        assert response.status_code == 200
        assert "/workbench/waits/" in response.content.decode()


def test_a_leader_sees_the_departments_overdue_tasks_and_opens_their_cases(
    login, submitted, leader_x, clerk_x
):
    # Issue 9 §1: the leader's "overdue" queue showed 0 while the department had overdue tasks.
    import datetime as dt

    from yiwang.applications.models import Task

    task = Task.objects.get(case=submitted, state=Task.State.OPEN)
    Task.objects.filter(pk=task.pk).update(due_date=dt.date(2020, 1, 2))
    page = login(leader_x).get(reverse("applications:workbench"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page.context["queue"] == "overdue"
    assert [t.pk for t in page.context["page"].object_list] == [task.pk]
    html = page.content.decode()
    # the row opens the case page (a leader does not act on the task), and only working links show
    assert reverse("applications:official_case", args=[submitted.number]) in html
    assert reverse("applications:task", args=[task.pk]) not in html
    assert [code for code, _label in page.context["tabs"]] == ["overdue", "due_soon"]
    assert reverse("applications:processes") not in html and reverse("applications:waits") in html
    assert (
        login(leader_x).get(reverse("applications:official_case", args=[submitted.number])).status_code == 200
    )


def test_a_clerk_sees_only_the_workbench_links_that_open_for_them(login, clerk_x):
    page = login(clerk_x).get(reverse("applications:workbench"))
    html = page.content.decode()
    for name in ("waits", "processes", "rectifications"):
        assert reverse(f"applications:{name}") not in html
        assert login(clerk_x).get(reverse(f"applications:{name}")).status_code == 403
    assert [code for code, _label in page.context["tabs"]] == ["accept", "overdue", "due_soon", "mine"]


def test_the_waits_page_names_decisions_in_words_and_reads_a_pages_steps_at_once(
    login, item, applicant_material, citizen, leader_x, crew, django_assert_max_num_queries
):
    for _n in range(3):
        case = services.case_submit(
            actor=citizen,
            case=complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen),
        )
        walk(case, crew, "accept")
    client = login(leader_x)
    client.get(reverse("applications:waits"))  # warm the session and role caches
    with django_assert_max_num_queries(9):  # one query for every case's steps, not one per case
        page = client.get(reverse("applications:waits"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "Accept (受理)" in html
    assert ">accept<" not in html


def test_an_official_finds_a_case_in_the_queue_by_number_service_or_applicant(
    login, item, applicant_material, citizen, other_citizen, clerk_x
):
    cases = []
    for applicant in (citizen, other_citizen):
        draft = complete_draft(services.case_start(actor=applicant, item=item), applicant_material, applicant)
        cases.append(services.case_submit(actor=applicant, case=draft))
    client = login(clerk_x)

    def found(**params):
        page = client.get(reverse("applications:workbench"), {"queue": "accept", **params})
        assert page.status_code == 200
        return [t.case.number for t in page.context["page"].object_list]

    assert found(q=cases[1].number) == [cases[1].number]
    assert found(q=cases[0].number[:-1]) == [c.number for c in cases]  # the start of a number
    assert sorted(found(q=item.name[:2])) == sorted(c.number for c in cases)
    assert found(q=other_citizen.display_name) == [cases[1].number]
    assert found(item=item.code) == [c.number for c in cases]
    assert found(item="NO-SUCH-ITEM") == [] and found(q="x" * 500) == []
    page = client.get(reverse("applications:workbench"), {"queue": "accept"}).content.decode()
    assert f'value="{item.code}"' in page  # the service filter lists the queue's items


def test_a_supervisor_cannot_search_the_deadline_queues_by_applicant(login, submitted, leader_x, citizen):
    import datetime as dt

    from yiwang.applications.models import Task

    Task.objects.filter(case=submitted).update(due_date=dt.date(2020, 1, 2))
    client = login(leader_x)
    by_number = client.get(reverse("applications:workbench"), {"queue": "overdue", "q": submitted.number})
    assert len(by_number.context["page"].object_list) == 1
    by_name = client.get(reverse("applications:workbench"), {"queue": "overdue", "q": citizen.display_name})
    assert by_name.context["page"].object_list == []
