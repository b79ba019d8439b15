import datetime as dt

import pytest
from django.utils import timezone

from yiwang.audit.models import AuditEntry
from yiwang.exchange import basedata
from yiwang.supervision import services
from yiwang.supervision.models import DrawPlan, Inspection, ItemBasis, MarketEntity
from yiwang.supervision.tests import factories as f

pytestmark = pytest.mark.django_db

RATIOS = {"A": 0, "B": 5000, "C": 10000, "D": 10000}


def events(prefix="supervision:"):
    return list(AuditEntry.objects.filter(event__startswith=prefix).values_list("event", flat=True))


def test_entities_come_from_the_register_with_their_attributes(department_x, agent):
    from yiwang.identity.models import Enterprise

    enterprise = Enterprise.objects.get()
    records = f.register_records(3) + [
        {
            "credit_code": enterprise.credit_code,
            "name": enterprise.name,
            "region_code": "610100",
            "status": "存续",
        }
    ]
    basedata.put_records(basedata.LEGAL_ENTITY, records, actor="test", provider=department_x)
    assert services.entities_sync(actor="test") == (4, 0)
    assert services.entities_sync(actor="test") == (0, 4)
    entity = MarketEntity.objects.get(credit_code=records[0]["credit_code"])
    assert (entity.region_code, entity.industry, entity.scale, entity.credit_tier) == (
        "610102",
        "I",
        "small",
        "B",
    )
    assert MarketEntity.objects.get(credit_code=enterprise.credit_code).enterprise == enterprise
    assert events().count("supervision:entity:sync") == 2


def test_a_clause_reference_that_does_not_exist_is_refused_and_nothing_saved(department_x):
    f.food_law()
    with pytest.raises(services.InvalidInput) as refused:
        f.item(department_x, basis=["food-safety-law:87", "food-safety-law:999", "no-such-law:1"])
    assert "food-safety-law:999" in refused.value.message and "no-such-law:1" in refused.value.message
    assert not ItemBasis.objects.exists()


def test_amending_a_clause_flags_every_item_resting_on_it(department_x):
    law = f.food_law()
    item = f.item(department_x)
    other = f.item(department_x, code="SCJG-JC-002", basis=["food-safety-law:110"])
    clause = law.clauses.get(number="87")
    new = services.clause_amend(
        clause=clause, text="修订后的条文。", effective_from=dt.date(2025, 1, 1), actor="t"
    )
    item.refresh_from_db()
    other.refresh_from_db()
    assert item.needs_review and not other.needs_review
    assert new.version == 2 and services.resolve_references(["food-safety-law:87"]) == [new]
    services.item_confirm_basis(item=item, actor="test")
    item.refresh_from_db()
    assert not item.needs_review and list(item.clauses.all()) == [new]


def test_repealing_the_only_clause_leaves_the_item_flagged_until_relinked(department_x):
    law = f.food_law()
    item = f.item(department_x)
    services.clause_repeal(
        clause=law.clauses.get(number="87"), effective_until=dt.date(2025, 1, 1), actor="t"
    )
    with pytest.raises(services.WrongState):
        services.item_confirm_basis(item=item, actor="test")
    services.item_link_clause(item=item, reference="food-safety-law:110", actor="test")
    services.item_confirm_basis(item=item, actor="test")
    item.refresh_from_db()
    assert not item.needs_review and [c.number for c in item.clauses.all()] == ["110"]


def _plan(department, actor, **kw):
    f.food_law()
    item = f.item(department)
    return services.plan_create(
        item=item, title="2026年食品经营抽查", ratios=kw.pop("ratios", RATIOS), actor=actor, **kw
    )


def test_impossible_ratios_are_refused(department_x, dept_admin):
    f.food_law()
    item = f.item(department_x)
    with pytest.raises(services.InvalidInput) as refused:
        services.plan_create(item=item, title="x", ratios={"B": 20000}, actor=dept_admin)
    assert "ratio_B" in refused.value.errors
    with pytest.raises(services.InvalidInput):
        services.plan_create(item=item, title="x", ratios={"A": 0}, actor=dept_admin)
    assert not DrawPlan.objects.exists()


def test_too_few_inspectors_is_refused_and_nothing_recorded(department_x, dept_admin, inspector):
    f.entities(5, department_x)
    plan = _plan(department_x, dept_admin)
    with pytest.raises(services.InvalidInput) as refused:
        services.plan_commit(plan=plan, actor=dept_admin)
    assert "1" in refused.value.message
    plan.refresh_from_db()
    assert plan.state == DrawPlan.State.DRAFT and "supervision:plan:commit" not in events()


def test_a_declared_relation_that_leaves_too_few_free_inspectors_is_refused(department_x, dept_admin):
    rows = f.entities(3, department_x)
    pool = f.inspectors(department_x, 2)
    services.relation_declare(official=pool[0], entity=rows[0], reason="配偶任股东", actor="test")
    plan = _plan(department_x, dept_admin)
    with pytest.raises(services.InvalidInput) as refused:
        services.plan_commit(plan=plan, actor=dept_admin)
    assert rows[0].credit_code in refused.value.message


def _drawn(department, actor, n_entities=20, n_inspectors=4, tiers="BCD"):
    rows = f.entities(n_entities, department, tiers=tiers)
    pool = f.inspectors(department, n_inspectors)
    plan = _plan(department, actor)
    plan = services.plan_commit(plan=plan, actor=actor)
    plan = services.draw_seed(plan=plan, actor=actor)
    plan = services.draw_run(plan=plan, actor=actor)
    return plan, rows, pool


def test_a_draw_is_seeded_after_its_commitment_and_replays_identically(department_x, dept_admin):
    plan, rows, pool = _drawn(department_x, dept_admin)
    assert plan.state == DrawPlan.State.DRAWN
    assert plan.commit_leaf_index < plan.sth_tree_size <= plan.seed_leaf_index < plan.draw_leaf_index
    # B: half of 7 → 4, C and D: all
    tiers = [i.tier for i in plan.inspections.all()]
    assert tiers.count("B") == 4 and tiers.count("C") == 7 and tiers.count("D") == 6
    for inspection in plan.inspections.all():
        assert inspection.assignments.count() == 2
    assert services.replay(plan)[0] is True
    assert events()[-3:] == ["supervision:plan:commit", "supervision:draw:seed", "supervision:draw:run"]


def test_a_tampered_result_does_not_replay(department_x, dept_admin):
    plan, _rows, _pool = _drawn(department_x, dept_admin)
    first = plan.inspections.first().assignments.first()
    spare = next(o for o in f.inspectors(department_x, 1, prefix="extra"))
    first.official = spare
    first.save()
    assert services.replay(plan)[0] is False


def test_the_last_inspector_of_an_entity_is_not_drawn_for_it_again(department_x, dept_admin):
    plan, rows, pool = _drawn(department_x, dept_admin, n_inspectors=4)
    before = {
        i.entity_id: set(i.assignments.values_list("official_id", flat=True)) for i in plan.inspections.all()
    }
    again = services.plan_create(
        item=plan.item, title="复查", ratios={"B": 10000, "C": 10000, "D": 10000}, actor=dept_admin
    )
    again = services.draw_run(
        plan=services.draw_seed(plan=services.plan_commit(plan=again, actor=dept_admin), actor=dept_admin),
        actor=dept_admin,
    )
    for inspection in again.inspections.all():
        now = set(inspection.assignments.values_list("official_id", flat=True))
        assert not now & before.get(inspection.entity_id, set())


def test_a_draw_runs_once(department_x, dept_admin):
    plan, _rows, _pool = _drawn(department_x, dept_admin)
    with pytest.raises(services.WrongState):
        services.draw_run(plan=plan, actor=dept_admin)
    with pytest.raises(services.WrongState):
        services.draw_seed(plan=plan, actor=dept_admin)


def test_only_a_drawn_inspector_records_and_results_publish_with_a_deadline(department_x, dept_admin):
    plan, _rows, pool = _drawn(department_x, dept_admin)
    inspection = plan.inspections.first()
    drawn = inspection.assignments.first().official
    other = next(o for o in pool if not inspection.assignments.filter(official=o).exists())
    today = timezone.localdate()
    with pytest.raises(services.NotAllowed):
        services.inspection_record(
            inspection=inspection, result="pass", findings="", inspected_on=today, actor=other.user
        )
    with pytest.raises(services.InvalidInput):
        services.inspection_record(
            inspection=inspection, result="rectify", findings="", inspected_on=today, actor=drawn.user
        )
    services.inspection_record(
        inspection=inspection, result="pass", findings="", inspected_on=today, actor=drawn.user
    )
    inspection.refresh_from_db()
    assert inspection.publish_due > today
    with pytest.raises(services.WrongState):
        services.inspections_publish(plan=plan, actor=dept_admin)
    services.plan_publish(plan=plan, actor=dept_admin)
    assert services.inspections_publish(plan=plan, actor=dept_admin) == 1
    inspection.refresh_from_db()
    assert inspection.state == Inspection.State.PUBLISHED


def test_a_result_past_its_deadline_is_flagged_overdue(department_x, dept_admin):
    from yiwang.supervision import selectors

    plan, _rows, _pool = _drawn(department_x, dept_admin)
    inspection = plan.inspections.first()
    drawn = inspection.assignments.first().official
    services.inspection_record(
        inspection=inspection, result="pass", findings="", inspected_on=timezone.localdate(), actor=drawn.user
    )
    inspection.refresh_from_db()
    later = inspection.publish_due + dt.timedelta(days=1)
    assert list(selectors.overdue(today=later)) == [inspection]
    assert not selectors.overdue(today=inspection.publish_due).exists()
