"""A lookup by key uses the (resource, key, row_no) index: no scan of the resource's rows and no
sort (migration 0002)."""

import pytest
from django.db import connection

from yiwang.exchange import rowquery, selectors, services
from yiwang.exchange.models import ResourceRow

pytestmark = pytest.mark.django_db


def test_a_key_lookup_reads_the_index_in_row_order(population, steward):
    csv = "id_number,name,household_region,residence_since,years\n" + "".join(
        f"61011319900517{n:04d},某{n},610113,2015-03-01,{n % 30}\n" for n in range(300)
    )
    services.resource_load_rows(actor=steward, resource=population, content=csv.encode(), filename="p.csv")
    fields = selectors.fields_of(population)
    qs = rowquery.rows_queryset(
        population, fields, rowquery.RowQuery(filters={"id_number": "610113199005170007"})
    )
    plan = qs.explain()
    if connection.vendor == "sqlite":
        assert "resource_row_key_no" in plan, plan
        assert "TEMP B-TREE" not in plan.upper(), plan  # no sort: the index gives row order
        assert "SCAN" not in plan.replace("SEARCH", ""), plan
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        assert "resource_row_key_no" in qs.explain(), plan
    assert [r.row_no for r in qs] == [8]
    assert ResourceRow.objects.filter(resource=population).count() == 300


def _load(population, steward, n=300):
    csv = "id_number,name,household_region,residence_since,years\n" + "".join(
        f"61011319900517{i:04d},某{i},{610113 + i % 3},2015-03-01,{i % 30}\n" for i in range(n)
    )
    services.resource_load_rows(actor=steward, resource=population, content=csv.encode(), filename="p.csv")
    population.refresh_from_db()
    return selectors.fields_of(population)


def test_a_filter_on_another_field_is_answered_from_the_gin_index_on_postgresql(population, steward):
    fields = _load(population, steward)
    query = rowquery.RowQuery(filters={"household_region": "610114"})
    qs = rowquery.rows_queryset(population, fields, query)
    if connection.vendor == "postgresql":
        # containment, which the index answers (on a table this small the planner rightly
        # prefers the resource's rows; the same condition alone shows the index serves it)
        assert '"exchange_resourcerow"."data" @>' in str(qs.query)
        alone = ResourceRow.objects.filter(data__contains={"household_region": "610114"})
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        assert "resource_row_data_gin" in alone.explain()
    page = rowquery.run(population, fields, query)
    assert page.total == 100 and len(page.rows) == 100
    assert {row["household_region"] for row in page.rows} == {"610114"}
    several = rowquery.run(
        population, fields, rowquery.RowQuery(filters={"household_region": ["610113", "610115"]})
    )
    assert several.total == 200


def test_a_page_is_counted_only_when_it_does_not_say_how_many_match(population, steward):
    from django.test.utils import CaptureQueriesContext

    fields = _load(population, steward)
    cases = [
        ({"filters": {"id_number": "610113199005170007"}}, 1, 1),  # one match, the page not full
        ({"filters": {}, "offset": 50, "limit": 10}, 300, 1),  # nothing filtered: the row count
        ({"filters": {"household_region": "610113"}, "limit": 10}, 100, 2),  # a full page: counted
        ({"filters": {"household_region": "610113"}, "offset": 95}, 100, 2),  # from an offset: counted
    ]
    for asked, total, statements in cases:
        with CaptureQueriesContext(connection) as captured:
            page = rowquery.run(population, fields, rowquery.RowQuery(**asked))
        assert (page.total, len(captured)) == (total, statements), asked
