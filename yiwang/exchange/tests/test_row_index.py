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
