"""The statements a granted gateway call costs, pinned so they cannot creep back (issue 11's aim:
the gateway adds less than 5 ms over the bare query; see bench/bench_gateway.py).

A granted lookup is: one read of the resource, its provider, the consumer's grants and the
fields; the count against the rate limit (one upsert that also reads the previous period); the
rows; the CallLog, its CallSubjects and the audit entry — the count, the rows and the records in
one transaction. Inside a test's transaction that transaction is a savepoint (SAVEPOINT and
RELEASE in place of BEGIN and COMMIT): the same number of statements either way. On PostgreSQL
the CallLog with its CallSubjects and the audit entry with its nodes are one statement each, and
the hot statements are prepared (``core.prepared``).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.audit import merkle, selectors
from yiwang.exchange import gateway
from yiwang.exchange.errors import NotAllowed
from yiwang.exchange.models import CallLog, CallOutcome, Channel
from yiwang.exchange.tests.gateway.world import LI, ZHANG, make_grant

pytestmark = pytest.mark.django_db


def _granted_call() -> int:
    """lookup, savepoint, rate limit, rows, CallLog, CallSubject, audit (claim, entry, nodes),
    release; on PostgreSQL the CallLog with its CallSubjects, and the audit entry with its nodes,
    are one statement each (data-modifying WITHs)."""
    return 8 if connection.vendor == "postgresql" else 10


def _recorded_refusal() -> int:
    """savepoint, CallLog (with its no CallSubjects), audit (claim, entry, nodes), release."""
    return 5 if connection.vendor == "postgresql" else 6


def _audit_reads() -> int:
    """The audit append reads the left siblings of the new leaf only when there are any."""
    return 1 if merkle.left_siblings_for_append(selectors.tree_size()) else 0


def _lookup(consumer, number, **extra):
    return gateway.query(
        consumer=consumer,
        resource_code="A01001",
        fields=["name", "household_region"],
        filters={"id_number": number},
        purpose="核验申请人户籍",
        channel=extra.pop("channel", Channel.PLATFORM),
        **extra,
    )


def test_a_granted_lookup_costs_a_fixed_number_of_statements(grant_x, department_x):
    _lookup(department_x, ZHANG["id_number"])  # the first call of the minute: the counter row is new
    expected = _granted_call() + _audit_reads()
    with CaptureQueriesContext(connection) as captured:
        result = _lookup(department_x, LI["id_number"])
    assert len(result.rows) == 1
    assert len(captured) == expected, "\n".join(q["sql"][:120] for q in captured.captured_queries)
    # one statement reads the resource, the grants and the fields
    lookups = [q["sql"] for q in captured.captured_queries if "exchange_grant" in q["sql"]]
    assert len(lookups) == 1 and "exchange_resourcefield" in lookups[0]


def test_more_grants_and_fields_do_not_add_statements(grant_x, department_x, population):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    for days in (400, 300, 200):  # old grants, long expired
        make_grant(
            population,
            department_x,
            ["name"],
            valid_from=now - dt.timedelta(days=days + 30),
            valid_until=now - dt.timedelta(days=days),
        )
    make_grant(population, department_x, ["name", "household_region"])  # a second grant in force
    _lookup(department_x, ZHANG["id_number"])
    expected = _granted_call() + _audit_reads()
    with CaptureQueriesContext(connection) as captured:
        result = _lookup(department_x, LI["id_number"])
    assert [row["household_region"] for row in result.rows] == ["610113"]
    assert len(captured) == expected, "\n".join(q["sql"][:120] for q in captured.captured_queries)


def test_a_call_refused_for_its_grant_is_recorded_in_few_statements(population, department_x):
    with pytest.raises(NotAllowed):
        _lookup(department_x, ZHANG["id_number"])
    # lookup, the check for grants to others, then the record
    expected = 2 + _recorded_refusal() + _audit_reads()
    with CaptureQueriesContext(connection) as captured, pytest.raises(NotAllowed):
        _lookup(department_x, LI["id_number"])
    assert [log.outcome for log in CallLog.objects.all()] == [CallOutcome.DENIED] * 2
    assert len(captured) == expected, "\n".join(q["sql"][:120] for q in captured.captured_queries)
