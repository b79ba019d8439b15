import pytest

from yiwang.exchange import rowquery
from yiwang.exchange import rows as rowstore
from yiwang.exchange.models import DataResource, ResourceField, ResourceRow
from yiwang.identity.models import Department, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource():
    region = Region.objects.create(code="610000", name="省", level=Region.Level.PROVINCE)
    dept = Department.objects.create(code="610000-GAT", name="公安厅", region=region)
    res = DataResource.objects.create(
        code="A01001",
        name="人口",
        provider=dept,
        kind="basic",
        share_class="conditional",
        update_frequency="daily",
        key_field="id_number",
    )
    fields = [
        ResourceField.objects.create(
            resource=res, name="id_number", label_zh="身份号码", personal="id_number", grade=3
        ),
        ResourceField.objects.create(resource=res, name="name", label_zh="姓名", personal="name", grade=3),
        ResourceField.objects.create(resource=res, name="region", label_zh="区划", grade=2, position=2),
        ResourceField.objects.create(resource=res, name="years", label_zh="年限", type="integer", position=3),
    ]
    records = [
        {"id_number": "610113197001157978", "name": "周六", "region": "610113", "years": 12},
        {"id_number": "11010519491231002X", "name": "张三", "region": "610102", "years": 3},
        {"id_number": "110105194912310045", "name": "李四", "region": "610113", "years": 7},
    ]
    ResourceRow.objects.bulk_create(rowstore.build_rows(res, fields, records))
    return res, fields


def test_personal_values_are_sealed_and_found_by_key(resource):
    res, fields = resource
    row = ResourceRow.objects.get(resource=res, row_no=1)
    assert "name" not in row.data and "id_number" not in row.data
    assert "610113197001157978" not in row.key
    page = rowquery.run(res, fields, rowquery.RowQuery(filters={"id_number": "610113197001157978"}))
    assert page.total == 1 and page.rows[0]["name"] == "周六"
    # the check character is compared case-blind
    page = rowquery.run(res, fields, rowquery.RowQuery(filters={"id_number": "11010519491231002x"}))
    assert [r["name"] for r in page.rows] == ["张三"]


def test_filters_sort_and_paging(resource):
    res, fields = resource
    page = rowquery.run(
        res, fields, rowquery.RowQuery(filters={"region": "610113"}, sort=[("years", True)], limit=1)
    )
    assert page.total == 2 and [r["years"] for r in page.rows] == [12]
    page = rowquery.run(res, fields, rowquery.RowQuery(filters={"years": ["3", 7]}))
    assert sorted(r["years"] for r in page.rows) == [3, 7]
    assert rowquery.run(res, fields, rowquery.RowQuery(filters={}, q="6101")).total == 3


@pytest.mark.parametrize(
    "query, words",
    [
        (rowquery.RowQuery(filters={"nope": 1}), "nope"),
        (rowquery.RowQuery(filters={"name": "周六"}), "id_number"),
        (rowquery.RowQuery(filters={"years": "many"}), "years"),
        (rowquery.RowQuery(filters={"years": []}), "years"),
        (rowquery.RowQuery(filters={}, sort=[("name", False)]), "name"),
        (rowquery.RowQuery(filters={}, limit=5000), "limit"),
        (rowquery.RowQuery(filters={}, offset=-1), "offset"),
        (rowquery.RowQuery(filters={}, limit="x"), "limit"),
    ],
)
def test_bad_queries_say_what_to_fix(resource, query, words):
    res, fields = resource
    with pytest.raises(rowquery.QueryError) as exc:
        rowquery.run(res, fields, query)
    assert words in exc.value.message
