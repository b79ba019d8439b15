"""Issuance on approval, with a real approved case of the demo (the demo's builders)."""

import pytest

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

    approved = Case.objects.filter(status__in=["approved", "completed"], item__code__startswith="01021004")
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
