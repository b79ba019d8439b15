"""The serious-dishonesty list, credit repair and joint punishment in applications, end to end:
listed → the application goes to a person with the reason (never 秒批) and the task page names it;
removed by repair → 秒批 again; the list unreadable → to a person (fail closed)."""

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.applications import engine
from yiwang.applications import services as app_services
from yiwang.applications.models import Case, CaseEvent, Task
from yiwang.audit.models import AuditEntry
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.exchange import basedata
from yiwang.exchange import selectors as exchange_selectors
from yiwang.supervision import credit_services
from yiwang.supervision.models import DishonestyEntry, MarketEntity, RepairApplication
from yiwang.supervision.services import InvalidInput, NotAllowed, WrongState

pytestmark = pytest.mark.django_db

INSTANT_SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 150},
        "residence_years": {"type": "integer", "title": "居住年限", "minimum": 0, "maximum": 150},
        "household_registered": {"type": "boolean", "title": "本地户籍"},
    },
    "required": ["age", "residence_years", "household_registered"],
}
PASSING = {"age": 72, "residence_years": 10, "household_registered": True}


@pytest.fixture
def instant_item(department_x, dept_admin):
    item = make_item(
        code="610100-SCJG-TEST-0001",
        name="秒批测试事项",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
        service_object=ServiceItem.ServiceObject.BOTH,
    )
    app_services.form_attach(actor=dept_admin, item=item, schema=INSTANT_SCHEMA)
    app_services.process_attach(
        actor=dept_admin,
        item=item,
        bpmn=(engine.PROCESSES_DIR / "instant.bpmn").read_text(),
        dmn=(engine.PROCESSES_DIR / "instant.dmn").read_text(),
    )
    return item


@pytest.fixture
def entity(enterprise):
    return MarketEntity.objects.create(
        credit_code=enterprise.credit_code,
        name=enterprise.name,
        region_code="610100",
        synced_at=timezone.now(),
        enterprise=enterprise,
    )


def list_it(entity, department, actor, **kw):
    return credit_services.list_add(
        entity=entity,
        department=department,
        basis="《市场监督管理严重违法失信名单管理办法》第九条",
        reason="提供虚假材料骗取许可",
        decision_number="西市监失信〔2026〕1号",
        listed_on=kw.pop("listed_on", timezone.localdate()),
        actor=actor,
        **kw,
    )


def submit(agent, enterprise, item) -> Case:
    case = app_services.case_start(actor=agent, item=item, enterprise=enterprise, data=PASSING)
    return app_services.case_submit(actor=agent, case=case)


def test_listing_publishes_the_entry_in_the_exchange_and_makes_the_tier_d(entity, department_x, dept_admin):
    entry = list_it(entity, department_x, dept_admin)
    found = exchange_selectors.dishonesty_listed(entity.credit_code)
    assert found["decision_number"] == entry.decision_number and "第九条" in found["basis"]
    assert found["department"] == department_x.name
    entity.refresh_from_db()
    assert entity.credit_tier == "D"
    assert AuditEntry.objects.filter(event="supervision:list:add").count() == 1
    with pytest.raises(WrongState):
        list_it(entity, department_x, dept_admin)


def test_an_unlisted_entity_reads_as_not_listed_and_a_missing_list_fails(entity, department_x, dept_admin):
    with pytest.raises(exchange_selectors.ListLookupFailed):
        exchange_selectors.dishonesty_listed(entity.credit_code)
    other = MarketEntity.objects.create(
        credit_code="91610100MA6TEST01X", name="别家", region_code="610100", synced_at=timezone.now()
    )
    list_it(other, department_x, dept_admin)
    assert exchange_selectors.dishonesty_listed(entity.credit_code) is None


def test_a_listing_without_basis_is_refused_with_the_fields_and_nothing_saved(
    entity, department_x, dept_admin
):
    with pytest.raises(InvalidInput) as refused:
        credit_services.list_add(
            entity=entity,
            department=department_x,
            basis=" ",
            reason="",
            decision_number="",
            listed_on=dt.date(2999, 1, 1),
            actor=dept_admin,
        )
    assert set(refused.value.errors) == {"basis", "reason", "decision_number", "listed_on"}
    assert not DishonestyEntry.objects.exists()
    assert not exchange_selectors.resource_by_code(basedata.DISHONESTY_LIST)


def test_listed_goes_to_a_person_with_the_reason_and_repair_brings_back_instant_approval(
    entity, enterprise, agent, department_x, dept_admin, instant_item, login, official_x
):
    other = MarketEntity.objects.create(
        credit_code="91610100MA6TEST01X", name="别家", region_code="610100", synced_at=timezone.now()
    )
    list_it(other, department_x, dept_admin)  # the list exists; our enterprise is not on it
    assert submit(agent, enterprise, instant_item).status == Case.Status.COMPLETED

    entry = list_it(entity, department_x, dept_admin, repair_from=timezone.localdate())
    case = submit(agent, enterprise, instant_item)
    assert case.status != Case.Status.COMPLETED and not case.rule_hits
    task = Task.objects.get(case=case, state=Task.State.OPEN)
    assert task.name == app_services.HALT_TASK and task.role == "clerk"
    reason = CaseEvent.objects.filter(case=case).exclude(comment="").last().comment
    assert "严重失信" in reason or "serious-dishonesty" in reason
    assert entry.decision_number in reason
    halt = AuditEntry.objects.get(event="applications:case:halt", target_id=str(case.pk))
    assert halt.data["reason"] == "credit"
    page = login(official_x).get(f"/workbench/tasks/{task.pk}/")
    assert page.status_code == 200 and entry.decision_number in page.content.decode()

    # restarting by hand does not let the rules decide it either
    app_services.task_complete(actor=official_x, task=task, decision="restart", comment="")
    case.refresh_from_db()
    assert case.status != Case.Status.COMPLETED
    assert Task.objects.filter(case=case, state=Task.State.OPEN, name=app_services.HALT_TASK).exists()

    # credit repair: the legal representative applies, the department decides
    with pytest.raises(NotAllowed):
        credit_services.repair_apply(entry=entry, statement="已全部整改并缴清罚款。", actor=official_x)
    application = credit_services.repair_apply(entry=entry, statement="已全部整改并缴清罚款。", actor=agent)
    with pytest.raises(WrongState):
        credit_services.repair_apply(entry=entry, statement="已全部整改并缴清罚款。", actor=agent)
    with pytest.raises(InvalidInput):
        credit_services.repair_decide(application=application, approve=False, note="", actor=dept_admin)
    credit_services.repair_decide(application=application, approve=True, note="整改到位", actor=dept_admin)
    entry.refresh_from_db()
    assert entry.state == DishonestyEntry.State.REMOVED and entry.removed_on == timezone.localdate()
    assert DishonestyEntry.objects.filter(pk=entry.pk).exists()  # stays in the history
    assert RepairApplication.objects.get().state == RepairApplication.State.APPROVED
    assert exchange_selectors.dishonesty_listed(entity.credit_code) is None
    events = set(AuditEntry.objects.values_list("event", flat=True))
    assert {"supervision:repair:apply", "supervision:repair:approve", "supervision:list:remove"} <= events
    assert submit(agent, enterprise, instant_item).status == Case.Status.COMPLETED


def test_the_list_unreadable_sends_an_instant_case_to_a_person(enterprise, agent, instant_item):
    case = submit(agent, enterprise, instant_item)
    assert case.status != Case.Status.COMPLETED
    assert Task.objects.filter(case=case, state=Task.State.OPEN, name=app_services.HALT_TASK).exists()


def test_a_citizens_own_case_is_not_checked_against_the_list(citizen, instant_item):
    case = app_services.case_start(actor=citizen, item=instant_item, data=PASSING)
    assert app_services.case_submit(actor=citizen, case=case).status == Case.Status.COMPLETED


def test_repair_is_refused_before_its_date(entity, agent, department_x, dept_admin):
    entry = list_it(entity, department_x, dept_admin)
    with pytest.raises(WrongState):
        credit_services.repair_apply(entry=entry, statement="已全部整改并缴清罚款。", actor=agent)
