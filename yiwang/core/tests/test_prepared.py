"""``core.prepared`` (statements prepared once per connection on PostgreSQL) and
``core.bulk.insert_with_children`` (a row and its child rows in one statement there)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from yiwang.core import bulk, prepared
from yiwang.exchange.models import CallLog, CallSubject, Channel

pytestmark = pytest.mark.django_db

SQL = "SELECT %s + 1"


def test_a_prepared_statement_answers_and_is_logged_like_any_other():
    with CaptureQueriesContext(connection) as captured, prepared.cursor() as cursor:
        for n in (1, 41):
            cursor.execute(SQL, [n])
            assert cursor.fetchone()[0] == n + 1
    assert len(captured) == 2


def test_prepared_statements_are_only_on_postgresql_and_can_be_turned_off():
    assert prepared.enabled() is (connection.vendor == "postgresql")
    with override_settings(PREPARED_STATEMENTS=False):
        assert not prepared.enabled()
        with prepared.cursor() as cursor:
            cursor.execute(SQL, [2])
            assert cursor.fetchone()[0] == 3


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_keeps_the_statement_prepared_for_the_connection():
    marker = "SELECT %s + 2 AS prepared_marker"
    with prepared.cursor() as cursor:
        cursor.execute(marker, [1])
        cursor.execute(marker, [2])
        assert cursor.fetchone()[0] == 4
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%prepared_marker%"]
        )
        assert cursor.fetchone()[0] == 1


def _log(consumer) -> CallLog:
    return CallLog(channel=Channel.API, consumer=consumer, resource_code="A01001", outcome="ok", rows=2)


@pytest.mark.parametrize("subjects", [[], ["a" * 64], ["b1", "b2", "b3"]])
def test_a_row_and_its_child_rows_are_inserted_together(department_x, subjects):
    log = _log(department_x)
    bulk.insert_with_children(log, CallSubject, "call", "subject_index", subjects)
    assert log.pk is not None and not log._state.adding
    stored = CallLog.objects.get(pk=log.pk)
    assert (stored.consumer_id, stored.rows, stored.fields, stored.at) == (department_x.pk, 2, [], log.at)
    assert sorted(CallSubject.objects.filter(call=log).values_list("subject_index", flat=True)) == subjects


def test_a_child_row_that_breaks_a_constraint_leaves_nothing_half_saved(department_x):
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_with_children(_log(department_x), CallSubject, "call", "subject_index", ["same", "same"])
    assert not CallLog.objects.exists() and not CallSubject.objects.exists()


def test_a_prepared_statement_is_logged_with_its_text_every_time():
    with CaptureQueriesContext(connection) as captured, prepared.cursor() as cursor:
        for n in range(3):
            cursor.execute("SELECT %s + 3 AS logged_marker", [n])
    assert all("logged_marker" in q["sql"] for q in captured.captured_queries)
