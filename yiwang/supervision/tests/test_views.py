import pytest
from django.utils import timezone

from yiwang.identity.models import Role
from yiwang.supervision.models import DrawPlan, Inspection
from yiwang.supervision.tests import factories as f
from yiwang.supervision.tests.test_services import RATIOS

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(department_x, dept_admin):
    from yiwang.supervision import services

    f.entities(12, department_x, tiers="BCD")
    pool = f.inspectors(department_x, 3)
    f.food_law()
    item = f.item(department_x)
    plan = services.plan_create(item=item, title="抽查", ratios=RATIOS, actor=dept_admin)
    return item, plan, pool


def test_a_manager_commits_draws_and_publishes_through_the_pages(setup, login, dept_admin):
    item, plan, pool = setup
    client = login(dept_admin)
    url = f"/workbench/supervision/plans/{plan.pk}/"
    assert client.get(url).status_code == 200
    client.post(url, {"action": "commit"})
    client.post(url, {"action": "draw"})
    plan.refresh_from_db()
    assert plan.state == DrawPlan.State.DRAWN and plan.seed
    assert client.get(f"/supervision/draws/{plan.pk}/").status_code == 404  # not published yet
    client.post(url, {"action": "publish"})
    public = login(None).get(f"/supervision/draws/{plan.pk}/")
    assert public.status_code == 200 and plan.seed in public.content.decode()
    bundle = login(None).get(f"/api/supervision/draws/{plan.pk}/replay").json()
    from yiwang.supervision import draw

    assert draw.replay_bundle(bundle)[0] is True


def test_an_inspector_records_on_the_spot_and_bad_input_is_explained(setup, login, dept_admin):
    from yiwang.supervision import services

    item, plan, pool = setup
    plan = services.draw_run(
        plan=services.draw_seed(plan=services.plan_commit(plan=plan, actor=dept_admin), actor=dept_admin),
        actor=dept_admin,
    )
    inspection = plan.inspections.first()
    inspector = inspection.assignments.first().official.user
    client = login(inspector)
    url = f"/workbench/supervision/inspections/{inspection.pk}/"
    page = client.post(url, {"result": "rectify", "findings": "", "inspected_on": timezone.localdate()})
    assert page.status_code == 200 and "请说明发现的问题" in page.content.decode()
    client.post(url, {"result": "pass", "findings": "", "inspected_on": timezone.localdate()})
    inspection.refresh_from_db()
    assert inspection.state == Inspection.State.RECORDED


def test_an_inspector_not_drawn_sees_no_inspection_and_a_citizen_no_workbench(
    setup, login, dept_admin, citizen
):
    from yiwang.supervision import services

    item, plan, pool = setup
    plan = services.draw_run(
        plan=services.draw_seed(plan=services.plan_commit(plan=plan, actor=dept_admin), actor=dept_admin),
        actor=dept_admin,
    )
    inspection = plan.inspections.first()
    drawn = set(inspection.assignments.values_list("official_id", flat=True))
    other = next(o for o in pool if o.pk not in drawn)
    assert Role.INSPECTOR in other.roles.values_list("role", flat=True)
    assert login(other.user).get(f"/workbench/supervision/inspections/{inspection.pk}/").status_code == 404
    assert login(citizen).get("/workbench/supervision/").status_code == 403


def test_a_plan_with_impossible_ratios_gets_a_message_on_the_page(setup, login, dept_admin):
    item, _plan, _pool = setup
    page = login(dept_admin).post(
        "/workbench/supervision/plans/new",
        {
            "item": item.pk,
            "title": "x",
            "ratio_A": 0,
            "ratio_B": 20000,
            "ratio_C": 0,
            "ratio_D": 0,
            "inspectors_per_entity": 2,
        },
    )
    assert page.status_code == 200 and DrawPlan.objects.count() == 1


def test_a_clause_reference_that_does_not_exist_is_shown_to_fix(setup, login, dept_admin):
    page = login(dept_admin).post(
        "/workbench/supervision/items/new",
        {
            "code": "X-2",
            "name": "x",
            "kind": "inspection",
            "basis": "food-safety-law:999",
            "publish_workdays": 20,
        },
    )
    assert page.status_code == 200 and "food-safety-law:999" in page.content.decode()


def test_the_entity_api_shows_only_what_is_public(setup, login):
    entity = setup[1].item.department  # noqa: F841 — the fixture built the entities
    from yiwang.supervision.models import MarketEntity

    code = MarketEntity.objects.first().credit_code
    data = login(None).get(f"/api/supervision/entities/{code}").json()
    assert set(data) == {"credit_code", "name", "region_code", "industry", "registration_status", "results"}
    assert login(None).get("/api/supervision/entities/nonsense").status_code == 404


def test_an_entitys_public_page_shows_no_tier_and_no_unpublished_result(setup, login, dept_admin):
    from yiwang.supervision import services
    from yiwang.supervision.models import MarketEntity

    _item, plan, _pool = setup
    plan = services.draw_run(
        plan=services.draw_seed(plan=services.plan_commit(plan=plan, actor=dept_admin), actor=dept_admin),
        actor=dept_admin,
    )
    inspection = plan.inspections.first()
    services.inspection_record(
        inspection=inspection,
        result="rectify",
        findings="未公示许可证",
        inspected_on=timezone.localdate(),
        actor=inspection.assignments.first().official.user,
    )
    entity = MarketEntity.objects.get(pk=inspection.entity_id)
    page = login(None).get(f"/supervision/entities/{entity.credit_code}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and entity.name in text
    assert "rectification ordered" not in text and "No published result" in text
    services.plan_publish(plan=plan, actor=dept_admin)
    services.inspections_publish(plan=plan, actor=dept_admin)
    text = login(None).get(f"/supervision/entities/{entity.credit_code}/", HTTP_ACCEPT_LANGUAGE="en").content
    assert "rectification ordered" in text.decode() and "未公示许可证" not in text.decode()
