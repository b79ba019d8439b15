"""Two officials acting on the same task at the same moment: one succeeds, the other is told it
was already handled, and the case moves once. Real threads and transactions, on PostgreSQL (where
row locks decide); SQLite serialises writers with IMMEDIATE transactions and is covered by the
sequential tests."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from yiwang.applications import services
from yiwang.applications.models import Case, CaseEvent, Task

from .conftest import complete_draft

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is PostgreSQL's; SQLite serialises writers"),
]


def test_one_of_two_simultaneous_actions_wins(item, applicant_material, citizen, clerk_x, official_x):
    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    task = Task.objects.get(case=case, state=Task.State.OPEN)
    barrier = threading.Barrier(2)
    outcomes = {}

    def act(name, actor, decision, comment):
        try:
            barrier.wait(timeout=10)
            services.task_complete(actor=actor, task=task, decision=decision, comment=comment)
            outcomes[name] = "ok"
        except services.AlreadyHandled:
            outcomes[name] = "already handled"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("a", clerk_x, "accept", "")),
        threading.Thread(target=act, args=("b", official_x, "reject", "材料不全")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["already handled", "ok"]
    case = Case.objects.get(pk=case.pk)
    assert case.events.filter(kind=CaseEvent.Kind.DECIDED).count() == 1
    winner = "a" if outcomes["a"] == "ok" else "b"
    assert case.status == (Case.Status.IN_REVIEW if winner == "a" else Case.Status.REJECTED)
