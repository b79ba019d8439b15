"""Issuance on approval, with a real approved case of the demo (the demo's builders)."""

import pytest
from django.utils import translation

from yiwang.licences import services, verify
from yiwang.licences.models import Licence
from yiwang.licences.selectors import DatabaseTrust, licences_for_user


@pytest.fixture(scope="module")
def demo_cases(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import transaction
    from django.test import override_settings

    from yiwang.applications import demo as applications_demo
    from yiwang.catalog import demo as catalog_demo
    from yiwang.catalog import search
    from yiwang.identity import demo as identity_demo

    with (
        override_settings(AUDIT_SIGNING_KEY_FILE=tmp_path_factory.mktemp("audit") / "audit.pem"),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            identity_demo.build()
            search.clear_caches()
            catalog_demo.build(cities=1, kinds=["SCJG"], counties=False)
            search.clear_caches()
            services.licence_types_sync(actor="system:test")
            applications_demo.build(cases=40)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            search.clear_caches()


@pytest.mark.django_db
def test_approving_a_demo_case_issued_its_licence_into_the_holders_wallet(demo_cases):
    from yiwang.applications.models import Case

    approved = Case.objects.filter(status__in=Case.APPROVED_STATUSES, item__code__startswith="01021004")
    case = approved.select_related("item", "applicant").first()
    assert case is not None, "the demo approves food business licence cases"
    licences = Licence.objects.filter(case_id=case.pk)
    assert licences.count() == 1
    licence = licences.get()
    assert licence.type.code == "food-business-licence"
    assert licence.case_number == case.number
    assert licence in licences_for_user(case.applicant)
    result = verify.verify(services.licence_credential(licence), DatabaseTrust())
    assert result.verdict == "valid", result.message


@pytest.mark.django_db
def test_issuing_for_a_case_again_returns_the_same_licence(demo_cases):
    from yiwang.applications.models import Case

    case = Case.objects.filter(status="completed", item__code__startswith="01021004").first()
    first = Licence.objects.filter(case_id=case.pk).get()
    again = services.licence_issue_for_case(case=case, actor="system:test")
    assert again == [first]
    assert Licence.objects.filter(case_id=case.pk).count() == 1


@pytest.mark.django_db
def test_a_case_not_approved_issues_nothing(demo_cases):
    from yiwang.applications.models import Case

    case = Case.objects.filter(status="in_review").first()
    with pytest.raises(services.WrongState):
        services.licence_issue_for_case(case=case, actor="system:test")
    assert not Licence.objects.filter(case_id=case.pk).exists()


@pytest.mark.django_db
def test_a_case_issues_licences_exactly_when_applications_count_it_approved(demo_cases):
    from yiwang.applications.models import Case

    for status in Case.Status:
        case = Case.objects.filter(status=status).select_related("item").first()
        assert case is not None, f"the demo has a case {status}"
        if status in Case.APPROVED_STATUSES:
            services.licence_issue_for_case(case=case, actor="system:test")  # idempotent: no error
        else:
            with pytest.raises(services.WrongState):
                services.licence_issue_for_case(case=case, actor="system:test")
            assert not Licence.objects.filter(case_id=case.pk).exists()


@pytest.mark.django_db
def test_approving_a_case_whose_licence_cannot_be_issued_is_refused_with_the_reason(demo_cases):
    from yiwang.applications import services as applications
    from yiwang.applications.models import Case, Task
    from yiwang.identity.models import Enterprise, User
    from yiwang.licences.models import LicenceType

    waiting = Task.objects.filter(state="open", role="approver", claimed_by=None).select_related("case__item")
    task = waiting.filter(case__enterprise__isnull=False).first()
    if task is None:
        # Which of the small demo's cases wait for approval depends on the replayed clock (the hour
        # the test runs): make one waiting case an enterprise's, as an enterprise's agent would file it.
        task = waiting.first()
        assert task is not None, "the demo leaves a case waiting for approval"
        enterprise = Enterprise.objects.filter(source=Enterprise.Source.REGISTER).first()
        Case.objects.filter(pk=task.case_id).update(enterprise=enterprise)
        task.case.enterprise = enterprise
    food = LicenceType.objects.get(code="food-business-licence")
    food.item_codes = [*food.item_codes, task.case.item.code]  # this item issues the licence (too)
    food.save(update_fields=["item_codes"])
    case = task.case
    # The enterprise is no longer confirmed by the legal-entity register: no licence may be issued to it.
    Enterprise.objects.filter(pk=case.enterprise_id).update(source=Enterprise.Source.DECLARED)
    approver = User.objects.get(username="approver")
    # The language of a service's message is the caller's (a request's); pin it, as an earlier
    # test's request may have left another one active in this thread.
    with translation.override("zh-hans"), pytest.raises(applications.WrongState) as caught:
        applications.task_complete(actor=approver, task=task, decision="approve", comment="准予许可。")
    assert "法人库" in caught.value.message
    case.refresh_from_db()
    task.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW and task.state == "open"
    assert not Licence.objects.filter(case_id=case.pk).exists()


@pytest.mark.django_db
def test_an_instant_approval_issues_the_licence_of_its_item(demo_cases):
    """秒批: the item's rules approve inside the submit, and the licence the item issues is issued
    in that same transaction, as when an official approves."""
    from yiwang.applications import services as applications
    from yiwang.applications.models import Case
    from yiwang.identity.selectors import person_of
    from yiwang.licences.models import LicenceType

    passed = (
        Case.objects.filter(process__dmn__contains='id="instant_check"', status="completed", tasks=None)
        .select_related("item", "applicant")
        .first()
    )
    assert passed is not None, "the demo has cases its rules approved"
    assert not Licence.objects.filter(case_id=passed.pk).exists()  # the item issues nothing yet
    licence_type = LicenceType.objects.get(code="individual-business-licence")
    licence_type.item_codes = [*licence_type.item_codes, passed.item.code]
    licence_type.save(update_fields=["item_codes"])

    case, created = applications.case_submit_once(
        actor=passed.applicant, item=passed.item, data=passed.data, idempotency_key="instant-licence-0001"
    )

    assert created and case.rule_hits and case.status == Case.Status.COMPLETED
    licence = Licence.objects.get(case_id=case.pk)
    assert licence.type == licence_type
    assert licence.holder_person == person_of(passed.applicant)
    assert verify.verify(services.licence_credential(licence), DatabaseTrust()).verdict == "valid"
