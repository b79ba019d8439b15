"""Risk warnings: the rules, the anomaly detector, the task lifecycle (table-driven) and the scan."""

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.audit.models import AuditEntry
from yiwang.supervision import risk, risk_services, risk_workflow
from yiwang.supervision.feedback_source import DailyCount
from yiwang.supervision.models import RiskWarning
from yiwang.supervision.services import InvalidInput, NotAllowed, WrongState

TODAY = dt.date(2026, 6, 10)


def days_back(values, *, region="610102", topic="噪音"):
    """DailyCount rows: values[0] is today, values[1] yesterday, …"""
    return [DailyCount(TODAY - dt.timedelta(days=i), region, topic, v) for i, v in enumerate(values) if v]


def test_the_poisson_tail_matches_its_definition():
    assert risk.poisson_tail(0, 3.0) == 1.0
    assert risk.poisson_tail(1, 2.0) == pytest.approx(1 - 2.718281828**-2)
    assert risk.poisson_tail(12, 2.0) < 1e-5


def test_a_quiet_series_raises_nothing_and_a_sudden_day_is_anomalous():
    quiet = [2, 1, 3, 2, 2, 1, 2, 3, 2, 1, 2, 2, 3, 1, 2, 2, 1, 3, 2, 2, 1, 2, 3, 2, 2, 1, 2, 2, 2]
    assert risk.anomalies(days_back(quiet), today=TODAY) == []
    found = risk.anomalies(days_back([15, *quiet[1:]]), today=TODAY)
    assert [(f["region_code"], f["topic"], f["count"]) for f in found] == [("610102", "噪音", 15)]
    assert found[0]["p"] < risk.ALPHA and found[0]["z"] > 3.5


def test_an_earlier_spike_does_not_hide_todays_the_baseline_is_the_median():
    window = [2] * 28
    window[3] = 60  # one loud day four days ago
    found = risk.anomalies(days_back([12, *window]), today=TODAY)
    assert found and found[0]["baseline"] == 2


def test_few_complaints_are_never_anomalous_however_unusual():
    assert risk.anomalies(days_back([risk.MIN_COUNT - 1] + [0] * 28), today=TODAY) == []


@given(st.lists(st.integers(min_value=0, max_value=4), min_size=29, max_size=29))
def test_a_day_below_the_minimum_is_never_reported(values):
    values[0] = min(values[0], risk.MIN_COUNT - 1)
    assert risk.anomalies(days_back(values), today=TODAY) == []


def test_a_spike_needs_its_ratio_and_its_minimum():
    base = [1] * 35
    assert risk.spikes(days_back(base), today=TODAY) == []
    spiking = [3] * 7 + [1] * 28
    assert [s["count"] for s in risk.spikes(days_back(spiking), today=TODAY)] == [21]
    small = [1] * 7 + [0] * 28
    assert risk.spikes(days_back(small), today=TODAY) == []  # 7 < SPIKE_MIN


def test_repeated_failures_count_only_failures_within_the_year():
    old = TODAY - dt.timedelta(days=400)
    results = [("A", "fail", TODAY), ("A", "absent", TODAY), ("B", "fail", TODAY), ("B", "fail", old)]
    results += [("C", "rectify", TODAY), ("C", "pass", TODAY)]
    assert risk.repeated_failures(results, today=TODAY) == {"A": 2}


def test_an_expired_licence_with_complaints_is_a_warning_and_without_is_not():
    found = risk.expired_with_complaints({"A": ["L1"], "B": ["L2"]}, {"A": 2})
    assert found == {"A": {"licences": ["L1"], "complaints": 2}}


# --- the lifecycle -------------------------------------------------------------------------------

ALLOWED = {
    ("dispatched", "handling"),
    ("handling", "feedback"),
    ("feedback", "handling"),
    ("feedback", "closed"),
}


@pytest.mark.parametrize(("before", "after"), list(itertools.product(risk_workflow.STATES, repeat=2)))
def test_the_transition_table(before, after):
    assert risk_workflow.may_transition(before, after) == ((before, after) in ALLOWED)


# --- the scan and the tasks ----------------------------------------------------------------------


class Spiking:
    def complaints(self, credit_codes, *, since):
        return {}

    def ratings(self, credit_codes, *, since):
        return {}

    def daily_counts(self, *, since, until):
        loud = [15, 10, 10, 10, 10, 10, 10, *([2] * 29)]
        return days_back(loud, region="610102", topic="食品安全") + days_back(
            loud, region="620102", topic="食品安全"
        )


@pytest.fixture
def spiking(settings):
    settings.SUPERVISION_FEEDBACK_SOURCE = "yiwang.supervision.tests.test_risk.Spiking"


@pytest.mark.django_db
def test_a_scan_raises_warnings_in_its_area_once_with_a_deadline_in_working_days(
    spiking, department_x, dept_admin
):
    raised = risk_services.warnings_scan(department=department_x, actor=dept_admin, today=TODAY)
    assert sorted(w.rule for w in raised) == ["anomaly", "complaint_spike"]
    assert {w.region_code for w in raised} == {"610102"}  # not 620102: another province
    anomaly = next(w for w in raised if w.rule == "anomaly")
    assert anomaly.due_date == dt.date(2026, 6, 15)  # 3 working days from Wednesday 10 June
    assert risk_services.warnings_scan(department=department_x, actor=dept_admin, today=TODAY) == []
    assert AuditEntry.objects.filter(event="supervision:warning:raise").count() == 2


@pytest.mark.django_db
def test_repeated_failed_inspections_raise_a_warning_on_the_entity(department_x, dept_admin):
    from django.utils import timezone

    from yiwang.supervision import services
    from yiwang.supervision.tests.test_services import _drawn

    plan, _rows, _pool = _drawn(department_x, dept_admin)
    first = plan.inspections.first()
    inspector = first.assignments.first().official
    services.inspection_record(
        inspection=first,
        result="fail",
        findings="无证",
        inspected_on=timezone.localdate(),
        actor=inspector.user,
    )
    # the same entity failed another plan's inspection too (made here without a second draw)
    from yiwang.supervision.models import DrawPlan, Inspection

    other = DrawPlan.objects.create(
        item=plan.item,
        department=department_x,
        title="另一次抽查",
        post_approval_only=False,
        ratios={"B": 100},
        created_by=dept_admin,
    )
    Inspection.objects.create(
        plan=other,
        entity=first.entity,
        position=1,
        tier="B",
        state="recorded",
        result="absent",
        inspected_on=timezone.localdate(),
    )
    (warning,) = risk_services.warnings_scan(department=department_x, actor=dept_admin)
    assert warning.rule == "failed_inspections" and warning.entity_id == first.entity_id
    assert warning.detail == {"failed": 2}


@pytest.mark.django_db
def test_a_warning_moves_dispatch_handle_feedback_close_audited_and_refuses_the_rest(
    spiking, department_x, dept_admin, inspector, official_y
):
    warning = risk_services.warnings_scan(department=department_x, actor=dept_admin, today=TODAY)[0]
    with pytest.raises(WrongState):
        risk_services.warning_move(warning=warning, to="closed", actor=dept_admin)
    with pytest.raises(NotAllowed):
        risk_services.warning_move(warning=warning, to="handling", actor=official_y)
    risk_services.warning_move(warning=warning, to="handling", actor=inspector)
    with pytest.raises(InvalidInput):
        risk_services.warning_move(warning=warning, to="feedback", note=" ", actor=inspector)
    risk_services.warning_move(warning=warning, to="feedback", note="已约谈并现场检查", actor=inspector)
    with pytest.raises(NotAllowed):
        risk_services.warning_move(warning=warning, to="closed", actor=inspector)
    closed = risk_services.warning_move(warning=warning, to="closed", actor=dept_admin)
    assert closed.state == RiskWarning.State.CLOSED and closed.closed_at and "已约谈" in closed.note
    assert AuditEntry.objects.filter(event="supervision:warning:move").count() == 3


@pytest.mark.django_db
def test_an_open_warning_past_its_date_is_overdue(spiking, department_x, dept_admin):
    from yiwang.supervision import credit_selectors

    risk_services.warnings_scan(department=department_x, actor=dept_admin, today=TODAY)
    qs = credit_selectors.warnings_for(dept_admin)
    assert qs.count() == 2
    assert credit_selectors.overdue(qs).count() == 2  # TODAY's deadlines are long past
