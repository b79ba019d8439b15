"""The credit and warning pages: who sees what, what the public record leaves out, bad input."""

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.supervision import credit_demo, credit_services
from yiwang.supervision.models import DishonestyEntry, MarketEntity, Penalty, RepairApplication, RiskWarning

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(enterprise, department_x, dept_admin):
    entity = MarketEntity.objects.create(
        credit_code=enterprise.credit_code,
        name=enterprise.name,
        region_code="610102",
        synced_at=timezone.now(),
        enterprise=enterprise,
    )
    Penalty.objects.create(
        entity=entity,
        department=department_x,
        decision_number="公开-1",
        decided_on=dt.date(2026, 1, 2),
        kind="fine",
    )
    Penalty.objects.create(
        entity=entity,
        department=department_x,
        decision_number="未公开-2",
        decided_on=dt.date(2026, 1, 3),
        kind="warning",
        is_public=False,
    )
    return credit_services.list_add(
        entity=entity,
        department=department_x,
        basis="《严重违法失信名单管理办法》第九条",
        reason="虚假材料",
        decision_number="失信-1",
        listed_on=timezone.localdate(),
        repair_from=timezone.localdate(),
        actor=dept_admin,
    )


def test_the_public_record_shows_list_entries_and_public_penalties_only(client, listed):
    page = client.get(f"/supervision/credit/{listed.entity.credit_code}/").content.decode()
    assert "失信-1" in page and "公开-1" in page
    assert "未公开-2" not in page and "虚假材料" not in page  # the facts and private penalties stay out
    assert "第九条" in client.get("/supervision/dishonesty-list/").content.decode()


def test_officials_see_the_score_and_its_explanation(login, inspector, listed):
    page = login(inspector).get(f"/workbench/supervision/credit/{listed.entity.credit_code}/")
    text = page.content.decode()
    assert page.status_code == 200 and "未公开-2" in text and "失信-1" in text


def test_only_the_representative_applies_for_repair_and_the_department_decides(
    login, agent, citizen, dept_admin, listed
):
    url = f"/supervision/dishonesty-list/{listed.pk}/repair"
    assert login(citizen).get(url).status_code == 404
    me = login(agent)
    assert me.post(url, {"statement": "短"}).status_code == 422
    assert not RepairApplication.objects.exists()
    assert me.post(url, {"statement": "已整改到位并缴清全部罚款。"}).status_code == 302
    application = RepairApplication.objects.get()
    admin = login(dept_admin)
    page = f"/workbench/supervision/credit/{listed.entity.credit_code}/"
    assert (
        admin.post(
            page, {"action": "decide", "application": application.pk, "decision": "refuse"}
        ).status_code
        == 422
    )
    assert (
        admin.post(
            page, {"action": "decide", "application": application.pk, "decision": "approve"}
        ).status_code
        == 302
    )
    assert DishonestyEntry.objects.get().state == "removed"


def test_the_warning_task_moves_through_its_page(login, inspector, department_x, dept_admin):
    from yiwang.supervision import risk_services

    (warning, *_rest) = risk_services.warnings_scan(
        department=department_x, actor=dept_admin, source=credit_demo.DemoComplaints()
    )
    me = login(inspector)
    assert warning.get_rule_display() in me.get("/workbench/supervision/warnings/").content.decode()
    url = f"/workbench/supervision/warnings/{warning.pk}/"
    assert me.post(url, {"to": "closed"}).status_code == 409
    assert me.post(url, {"to": "handling"}).status_code == 302
    assert me.post(url, {"to": "feedback", "note": ""}).status_code == 422
    assert me.post(url, {"to": "feedback", "note": "已处置"}).status_code == 302
    assert RiskWarning.objects.get(pk=warning.pk).state == "feedback"


def test_pages_read_in_english_too(client, listed):
    page = client.get("/supervision/dishonesty-list/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Serious-dishonesty list" in page
