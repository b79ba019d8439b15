"""Applying checks the real-name level the item declares (issue 8, section 3), and applying for
an enterprise checks the delegation's scope (section 4). An L1 account browses and follows its
cases but cannot apply for an L2 item, and is told how to raise its level — on the page and,
with the same message and a 403, on the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from yiwang.applications import schemaforms, services
from yiwang.applications.models import Case
from yiwang.catalog.models import ServiceItem
from yiwang.conftest import make_person
from yiwang.identity.models import Enterprise, EnterpriseAgent, RealNameLevel
from yiwang.lib.uscc import make_credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def declared(db):
    """An account whose identity is only self-declared (L1)."""
    return make_person("declared", "某人", seq=91, level=RealNameLevel.SELF_DECLARED).user


def test_items_need_l2_by_default(item):
    assert item.realname_level == RealNameLevel.REGISTER


def test_an_l1_account_cannot_start_an_application_for_an_l2_item(item, declared):
    with translation.override("en"), pytest.raises(services.RealNameLevelTooLow) as excinfo:
        services.case_start(actor=declared, item=item)
    assert "/account/verify" in excinfo.value.message
    assert "L2" in excinfo.value.message
    assert not Case.objects.exists()


def test_an_account_demoted_to_l1_cannot_submit_its_draft(item, applicant_material, citizen):
    from yiwang.applications.tests.conftest import complete_draft

    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    citizen.person.realname_level = RealNameLevel.SELF_DECLARED
    citizen.person.save(update_fields=["realname_level"])
    with pytest.raises(services.RealNameLevelTooLow):
        services.case_submit(actor=citizen, case=case)
    assert Case.objects.get(pk=case.pk).is_draft


def test_an_l3_item_refuses_an_l2_account_and_says_where_to_go(item, citizen):
    ServiceItem.objects.filter(pk=item.pk).update(realname_level=RealNameLevel.IN_PERSON)
    item.refresh_from_db()
    with translation.override("en"), pytest.raises(services.RealNameLevelTooLow) as excinfo:
        services.case_start(actor=citizen, item=item)
    assert "service hall" in excinfo.value.message


def test_an_l1_item_may_be_applied_for_by_an_l1_account_without_government_data(item, declared):
    ServiceItem.objects.filter(pk=item.pk).update(realname_level=RealNameLevel.SELF_DECLARED)
    item.refresh_from_db()
    case = services.case_start(actor=declared, item=item)
    assert case.provided == []  # nothing self-declared is shown as provided by the government


def test_the_api_answers_403_with_the_same_message(login, item, declared):
    with translation.override("en"), pytest.raises(services.RealNameLevelTooLow) as excinfo:
        services.case_start(actor=declared, item=item)
    response = login(declared).post(
        "/api/applications/drafts",
        {"item": item.code},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403
    body = response.json()
    assert body["detail"] == excinfo.value.message
    assert body["errors"] == [{"field": "realname_level", "message": "2"}]
    assert not Case.objects.exists()


def test_the_page_refuses_and_the_guide_links_to_the_verification_step(login, item, declared):
    client = login(declared)
    with translation.override("en"):
        response = client.post(f"/apply/{item.code}/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain[-1][0] == item.get_absolute_url()
    page = response.content.decode()
    assert 'id="realname-level-needed"' in page
    assert 'href="/account/verify?next=' in page
    assert not Case.objects.exists()


def test_an_l1_account_still_browses_and_follows_its_cases(login, item, declared):
    client = login(declared)
    assert client.get(item.get_absolute_url()).status_code == 200
    assert client.get("/cases/").status_code == 200


def test_a_verified_account_sees_no_level_notice(login, item, citizen):
    page = login(citizen).get(item.get_absolute_url()).content.decode()
    assert 'id="realname-level-needed"' not in page
    assert 'id="item-realname-level"' in page


def test_a_delegate_scoped_to_following_cannot_apply_for_the_enterprise(item, enterprise, citizen, agent):
    EnterpriseAgent.objects.create(
        enterprise=enterprise,
        person=citizen.person,
        role=EnterpriseAgent.Role.AGENT,
        scope=EnterpriseAgent.Scope.TRACK,
        granted_by=agent.person,
        valid_until=timezone.localdate() + timedelta(days=10),
    )
    with pytest.raises(PermissionDenied):
        services.case_start(actor=citizen, item=item, enterprise=enterprise)
    assert services.case_start(actor=agent, item=item, enterprise=enterprise).enterprise == enterprise


def test_self_declared_identity_is_never_prefilled_as_government_data(declared):
    assert schemaforms.gov_sources(user=declared) == {}


def test_a_self_declared_enterprise_is_never_prefilled_as_government_data(citizen):
    declared_enterprise = Enterprise.objects.create(
        name="自报有限公司", credit_code=make_credit_code("610100", 781), legal_representative="张三"
    )
    EnterpriseAgent.objects.create(
        enterprise=declared_enterprise, person=citizen.person, role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE
    )
    sources = schemaforms.gov_sources(user=citizen, enterprise=declared_enterprise)
    assert sources and not any(k.startswith("enterprise.") for k in sources)


def test_register_enterprise_data_is_prefilled(agent, enterprise):
    assert schemaforms.gov_sources(user=agent, enterprise=enterprise)["enterprise.name"] == enterprise.name
