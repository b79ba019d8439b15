"""Notices by email after commit, the deadline command, and bundles run in parallel."""

import pytest
from django.core import mail
from django.core.management import call_command

from yiwang.applications import services
from yiwang.applications.models import BundleCase, Case, Task
from yiwang.catalog.models import BundleItem, LifeEvent, ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import make_official

from .conftest import VALID_DATA, act, pdf_upload, walk

pytestmark = pytest.mark.django_db


def test_a_state_change_emails_the_applicant_after_commit(
    submitted, clerk_x, citizen, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act(submitted, clerk_x, "accept")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [citizen.email] and submitted.number in message.subject


def test_nothing_is_emailed_when_the_transaction_rolls_back(
    submitted, clerk_x, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.InvalidInput):
        act(submitted, clerk_x, "reject")  # no reason given: refused
    assert mail.outbox == []


def test_the_deadline_command_runs_here_or_queues(submitted, capsys):
    call_command("flag_deadlines", "--now")
    assert "overdue 0" in capsys.readouterr().out
    call_command("flag_deadlines")  # queued; the test settings run tasks at once
    assert "queued" in capsys.readouterr().out


@pytest.fixture
def bundle(item, department_y):
    second = make_item(
        code="610200-SCJG-XK-0002",
        name="公共场所卫生许可",
        department=department_y,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
    )
    bundle = LifeEvent.objects.create(code="open-restaurant", name="我要开餐馆", audience="enterprise")
    BundleItem.objects.create(bundle=bundle, item=item, order=1)
    BundleItem.objects.create(bundle=bundle, item=second, order=2)
    return bundle


def test_a_bundle_runs_its_cases_in_parallel_and_completes_when_all_do(
    bundle, citizen, crew, department_y, applicant_material
):
    bundle_case = services.bundle_start(actor=citizen, bundle=bundle)
    cases = list(bundle_case.cases.order_by("pk"))
    assert len(cases) == 2 and all(c.status == Case.Status.DRAFT for c in cases)
    with pytest.raises(services.InvalidInput):
        services.bundle_submit(actor=citizen, bundle_case=bundle_case)  # incomplete: none submitted
    assert not Case.objects.filter(bundle_case=bundle_case).exclude(status=Case.Status.DRAFT).exists()
    for case in cases:
        services.case_save(actor=citizen, case=case, data=VALID_DATA)
    services.attachment_add(
        actor=citizen, case=cases[0], material_id=applicant_material.pk, upload=pdf_upload()
    )
    bundle_case = services.bundle_submit(actor=citizen, bundle_case=bundle_case)
    assert bundle_case.status == BundleCase.Status.IN_PROGRESS
    first, second = (Case.objects.get(pk=c.pk) for c in cases)
    # each department has its own task at the same time
    assert {t.department_id for t in Task.objects.filter(state=Task.State.OPEN)} == {
        first.department_id,
        second.department_id,
    }
    crew_y = {role: make_official(f"{role}_y", department_y, [role]) for role in crew}
    for case, officials in ((first, crew), (second, crew_y)):
        case = walk(case, officials, "accept", "pass", "approve", "complete")
        bundle_case.refresh_from_db()
        if case.pk == first.pk:
            assert bundle_case.status == BundleCase.Status.IN_PROGRESS  # one still running
    assert bundle_case.status == BundleCase.Status.COMPLETED and bundle_case.completed_at


def test_a_bundle_with_a_refused_case_closes_without_completing(
    bundle, citizen, official_x, applicant_material
):
    bundle_case = services.bundle_start(actor=citizen, bundle=bundle)
    cases = list(bundle_case.cases.order_by("pk"))
    for case in cases:
        services.case_save(actor=citizen, case=case, data=VALID_DATA)
    services.attachment_add(
        actor=citizen, case=cases[0], material_id=applicant_material.pk, upload=pdf_upload()
    )
    services.bundle_submit(actor=citizen, bundle_case=bundle_case)
    services.case_withdraw(actor=citizen, case=cases[1])
    act(Case.objects.get(pk=cases[0].pk), official_x, "reject", comment="不符合条件")
    bundle_case.refresh_from_db()
    assert bundle_case.status == BundleCase.Status.CLOSED


def test_a_bundles_case_is_not_submitted_alone(bundle, citizen, applicant_material, login):
    bundle_case = services.bundle_start(actor=citizen, bundle=bundle)
    first = bundle_case.cases.order_by("pk").first()
    services.case_save(actor=citizen, case=first, data=VALID_DATA)
    services.attachment_add(actor=citizen, case=first, material_id=applicant_material.pk, upload=pdf_upload())
    with pytest.raises(services.WrongState):
        services.case_submit(actor=citizen, case=first)
    first.refresh_from_db()
    assert first.status == Case.Status.DRAFT and first.number is None
    response = login(citizen).get(f"/cases/draft-{first.pk}/edit/")  # filled in with the others
    assert response.status_code == 302 and response["Location"] == f"/bundle-cases/{bundle_case.pk}/"
