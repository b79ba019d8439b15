"""The one-step submit (POST /api/applications/cases) stays within its statement budget, and
what it answers from memory is what the database holds (issue 9 §9)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.applications.models import Case, CaseEvent, Task
from yiwang.audit.models import AuditEntry
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import make_item

from .conftest import VALID_DATA
from .test_api import call, ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(login, citizen):
    return login(citizen)


@pytest.fixture
def no_material_item(department_x):
    return make_item(
        code="610100-MZ-GF-0002",
        name="高龄津贴申领",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
    )


# Statements of one submit as the test client sends it: the session and the user (2), the
# item, the Idempotency-Key check, then in one transaction (here a savepoint pair inside the
# test's transaction) the person, the person's lock, the drafts quota, the active process, the
# materials, the case number, the case, its event, its task, the actor's official record (for
# the audit leaf), the audit append (4) and the notice. Was 34 before issue 9 §9.
SUBMIT_STATEMENT_CEILING = 21


def test_one_step_submit_stays_within_its_statement_budget(me, no_material_item):
    body = {"item": no_material_item.code, "data": VALID_DATA}
    ok(call(me, "post", "/cases", body, HTTP_IDEMPOTENCY_KEY="warm-up-0001"), 201)  # session, caches
    with CaptureQueriesContext(connection) as ctx:
        answer = ok(call(me, "post", "/cases", body, HTTP_IDEMPOTENCY_KEY="counted-0001"), 201)
    statements = [q["sql"] for q in ctx.captured_queries]
    assert len(statements) <= SUBMIT_STATEMENT_CEILING, "\n".join(s[:120] for s in statements)
    case_table = Case._meta.db_table
    assert sum(s.startswith(f'INSERT INTO "{case_table}"') for s in statements) == 1
    assert not any(s.startswith(f'UPDATE "{case_table}"') for s in statements)  # inserted submitted

    case = Case.objects.get(number=answer["number"])
    assert case.status == Case.Status.SUBMITTED and case.submitted_at and case.workflow
    assert answer["status"] == case.status and answer["department"] == case.department.name
    assert [e["kind"] for e in answer["timeline"]] == list(
        CaseEvent.objects.filter(case=case).order_by("at", "pk").values_list("kind", flat=True)
    )
    assert answer["open_tasks"] == []  # the clerk's task is not the applicant's
    assert Task.objects.filter(case=case, state=Task.State.OPEN, role="clerk").count() == 1
    assert AuditEntry.objects.filter(event="applications:case:submit", target_id=str(case.pk)).count() == 1


def test_a_retry_after_the_counted_submit_still_returns_the_same_case(me, no_material_item):
    body = {"item": no_material_item.code, "data": VALID_DATA}
    first = ok(call(me, "post", "/cases", body, HTTP_IDEMPOTENCY_KEY="retry-0001"), 201)
    again = ok(call(me, "post", "/cases", body, HTTP_IDEMPOTENCY_KEY="retry-0001"), 200)
    # The first answer was built from memory, the retry's from the database: the same.
    assert again["number"] == first["number"] and again["timeline"] == first["timeline"]
    assert again["open_tasks"] == first["open_tasks"] and again["department"] == first["department"]
    assert Case.objects.count() == 1
