"""Credit scoring: the rules (credit.py) and the recomputation service (credit_services)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.audit.models import AuditEntry
from yiwang.supervision import credit, credit_services
from yiwang.supervision.models import CreditScore, MarketEntity, Penalty
from yiwang.supervision.services import InvalidInput

from . import factories

TODAY = dt.date(2026, 6, 1)


def test_an_entity_without_records_is_tier_b_with_an_empty_explanation():
    assert credit.score(credit.Records(), today=TODAY) == (credit.BASE, "B", [])


def test_every_record_that_counted_is_explained_with_its_points():
    records = credit.Records(
        inspections=[("#1", "fail", TODAY - dt.timedelta(days=10))],
        penalties=[("罚-1", "fine", Decimal("200000"), TODAY - dt.timedelta(days=5))],
        licences_revoked=["L-9"],
        complaints=3,
    )
    total, tier, lines = credit.score(records, today=TODAY)
    assert [(line["kind"], line["points"]) for line in lines] == [
        ("inspection:fail", -15),
        ("penalty:fine", credit.LARGE_FINE_POINTS),
        ("licence:revoked", -20),
        ("complaints", -6),
    ]
    assert total == 80 - 15 - 20 - 20 - 6 == 19 and tier == "D"


def test_records_older_than_the_window_do_not_count():
    old = TODAY - dt.timedelta(days=credit.WINDOW_DAYS + 1)
    records = credit.Records(
        inspections=[("#1", "fail", old)], penalties=[("p", "revocation", Decimal(0), old)]
    )
    assert credit.score(records, today=TODAY) == (80, "B", [])


def test_passed_inspections_earn_at_most_the_cap():
    records = credit.Records(inspections=[(f"#{i}", "pass", TODAY) for i in range(10)])
    total, tier, lines = credit.score(records, today=TODAY)
    assert total == 80 + credit.PASS_CAP and tier == "A"
    assert sum(line["points"] for line in lines) == credit.PASS_CAP


def test_a_listed_entity_is_tier_d_whatever_its_score():
    records = credit.Records(inspections=[(f"#{i}", "pass", TODAY) for i in range(5)], listed=["失信-1"])
    total, tier, lines = credit.score(records, today=TODAY)
    assert total == 95 and tier == "D" and lines[-1]["kind"] == "dishonesty:listed"


def test_bad_ratings_cost_and_only_bad_free_ratings_earn():
    assert credit.score(credit.Records(ratings=(2, 5)), today=TODAY)[0] == 70
    assert credit.score(credit.Records(ratings=(0, 5)), today=TODAY)[0] == 85
    assert credit.score(credit.Records(ratings=(0, 4)), today=TODAY)[0] == 80  # too few to count


results = st.sampled_from(["pass", "rectify", "fail", "absent"])
kinds = st.sampled_from(["warning", "fine", "suspension", "revocation"])
days = st.integers(min_value=0, max_value=5 * 365).map(lambda n: TODAY - dt.timedelta(days=n))


@given(
    inspections=st.lists(st.tuples(st.text(max_size=3), results, days), max_size=12),
    penalties=st.lists(
        st.tuples(st.text(max_size=3), kinds, st.decimals(min_value=0, max_value=10**7, places=2), days),
        max_size=6,
    ),
    complaints=st.integers(min_value=0, max_value=1000),
    listed=st.booleans(),
)
def test_the_score_is_bounded_the_tier_follows_it_and_the_points_explain_it(
    inspections, penalties, complaints, listed
):
    records = credit.Records(
        inspections=inspections, penalties=penalties, complaints=complaints, listed=["x"] if listed else []
    )
    total, tier, lines = credit.score(records, today=TODAY)
    assert 0 <= total <= 100
    assert total == max(0, min(100, credit.BASE + sum(line["points"] for line in lines)))
    assert tier == ("D" if listed else credit.tier_of(total))
    # a record more can never raise a tier: another failed inspection today
    worse = credit.Records(
        inspections=[*inspections, ("z", "fail", TODAY)], penalties=penalties, complaints=complaints
    )
    assert credit.score(worse, today=TODAY)[0] <= max(0, total) or listed


# --- the service ---------------------------------------------------------------------------------


@pytest.fixture
def some(department_x):
    return factories.entities(3, department_x)


@pytest.mark.django_db
def test_recomputing_all_scores_every_entity_and_audits_only_tier_changes(some, department_x):
    scored, changed = credit_services.credit_recompute(actor="test")
    assert scored == 3 and changed == 0  # all B, as before
    assert CreditScore.objects.count() == 3
    assert not AuditEntry.objects.filter(event="supervision:credit:change").exists()
    credit_services.penalty_record(
        entity=some[0],
        department=department_x,
        decision_number="西市监罚〔2026〕1号",
        decided_on=dt.date(2026, 1, 5),
        kind="suspension",
        amount="0",
        actor="test",
    )
    entity = MarketEntity.objects.get(pk=some[0].pk)
    assert entity.credit_tier == "C" and entity.credit.score == 55
    assert entity.credit.explanation[0]["ref"] == "西市监罚〔2026〕1号"
    entry = AuditEntry.objects.get(event="supervision:credit:change")
    assert entry.data["changes"] == [[entity.credit_code, "B", "C"]]


@pytest.mark.django_db
def test_recorded_inspection_results_count_towards_the_score(department_x, dept_admin):
    from django.utils import timezone

    from yiwang.supervision import services
    from yiwang.supervision.tests.test_services import _drawn

    plan, _rows, _pool = _drawn(department_x, dept_admin)
    inspection = plan.inspections.first()
    drawn = inspection.assignments.first().official
    services.inspection_record(
        inspection=inspection,
        result="fail",
        findings="无证经营",
        inspected_on=timezone.localdate(),
        actor=drawn.user,
    )
    credit_services.credit_recompute(entity_ids=[inspection.entity_id], actor="test")
    score = CreditScore.objects.get(entity_id=inspection.entity_id)
    assert score.explanation == [
        {
            "kind": "inspection:fail",
            "ref": f"#{inspection.pk}",
            "on": timezone.localdate().isoformat(),
            "points": -15,
        }
    ]
    assert score.score == 65 and MarketEntity.objects.get(pk=inspection.entity_id).credit_tier == "C"


@pytest.mark.django_db
def test_a_bad_penalty_is_refused_with_every_field_named_and_nothing_saved(some, department_x):
    with pytest.raises(InvalidInput) as refused:
        credit_services.penalty_record(
            entity=some[0],
            department=department_x,
            decision_number="",
            decided_on=dt.date(2999, 1, 1),
            kind="jail",
            amount="-3",
            actor="test",
        )
    assert set(refused.value.errors) == {"decision_number", "decided_on", "kind", "amount"}
    assert not Penalty.objects.exists() and not CreditScore.objects.exists()


@pytest.mark.django_db
def test_complaints_come_from_the_configured_feedback_source(some, settings):
    settings.SUPERVISION_FEEDBACK_SOURCE = "yiwang.supervision.tests.test_credit.ManyComplaints"
    ManyComplaints.code = some[2].credit_code
    credit_services.credit_recompute(actor="test")
    score = CreditScore.objects.get(entity=some[2])
    assert score.score == 60 and score.tier == "C"
    assert score.explanation == [{"kind": "complaints", "ref": "40", "on": "", "points": -20}]


class ManyComplaints:
    code = ""

    def complaints(self, credit_codes, *, since):
        return {self.code: 40}

    def ratings(self, credit_codes, *, since):
        return {}

    def daily_counts(self, *, since, until):
        return []


@pytest.mark.django_db
def test_by_default_complaints_are_the_12345_complaints_naming_the_entity(some, citizen, region):
    """The default source is the platform's 12345: complaints filed about an entity (by its unified
    social credit code) cost it points; suggestions and complaints about others do not."""
    from yiwang.feedback import services as feedback_services

    target, other = some[0], some[1]
    for n in range(3):
        feedback_services.item_file(
            kind="complaint",
            text=f"这家店卖过期食品，第{n + 1}次反映",
            region=region,
            actor=citizen,
            entity_credit_code=target.credit_code,
        )
    feedback_services.item_file(
        kind="suggestion",
        text="建议多开几家店",
        region=region,
        actor=citizen,
        entity_credit_code=other.credit_code,
    )
    credit_services.credit_recompute(actor="test")
    explained = CreditScore.objects.get(entity=target).explanation
    assert {"kind": "complaints", "ref": "3", "on": "", "points": -6} in explained
    assert CreditScore.objects.get(entity=other).explanation == []
