import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_official
from yiwang.exchange import rowquery, selectors, services
from yiwang.exchange.errors import InvalidInput, NotAllowed, WrongState
from yiwang.exchange.models import AccessRequest, DataResource, Grant, RequestState, ResourceRow
from yiwang.exchange.tests.conftest import POPULATION_FIELDS, resource_data
from yiwang.identity.models import Role

pytestmark = pytest.mark.django_db

CSV = (
    "id_number,姓名,household_region,居住起始日期,years\n"
    "610113199005171310,张三,610113,2015-03-01,10\n"
    "610113198611022428,李四,610102,2020-07-15,5\n"
)


def events(prefix="exchange:"):
    return list(AuditEntry.objects.filter(event__startswith=prefix).values_list("event", flat=True))


# --- resources -------------------------------------------------------------------------------


def test_steward_registers_a_draft_with_its_fields_audited(steward, gat):
    resource = services.resource_register(
        actor=steward, provider=gat, data=resource_data(), fields=POPULATION_FIELDS
    )
    assert resource.state == "draft"
    assert [f.name for f in selectors.fields_of(resource)] == [f["name"] for f in POPULATION_FIELDS]
    assert events() == ["exchange:resource:register"]


def test_bad_resource_is_refused_with_the_fields_to_fix_and_nothing_saved(steward, gat):
    with pytest.raises(InvalidInput) as exc:
        services.resource_register(
            actor=steward, provider=gat, data=resource_data(share_conditions=""), fields=POPULATION_FIELDS
        )
    assert "share_conditions" in exc.value.errors
    assert not DataResource.objects.exists() and not events()


def test_a_code_is_registered_once(population, steward, gat):
    with pytest.raises(InvalidInput) as exc:
        services.resource_register(
            actor=steward, provider=gat, data=resource_data(), fields=POPULATION_FIELDS
        )
    assert "code" in exc.value.errors


def test_only_the_providers_stewards_register(gat, official_x, steward_y):
    for actor in (official_x, steward_y):
        with pytest.raises(NotAllowed):
            services.resource_register(
                actor=actor, provider=gat, data=resource_data(), fields=POPULATION_FIELDS
            )


def test_a_steward_above_manages_the_departments_below_but_not_the_reverse(gat, gat_child):
    above = make_official("above", gat, [Role.DATA_STEWARD])
    below = make_official("below", gat_child, [Role.DATA_STEWARD])
    data = resource_data(code="C01009", kind="department")
    resource = services.resource_register(
        actor=above, provider=gat_child, data=data, fields=POPULATION_FIELDS
    )
    assert resource.provider == gat_child
    with pytest.raises(NotAllowed):
        services.resource_register(
            actor=below,
            provider=gat,
            data=resource_data(code="C01010", kind="department"),
            fields=POPULATION_FIELDS,
        )


def test_publish_only_a_draft(population, steward):
    with pytest.raises(WrongState):
        services.resource_publish(actor=steward, resource=population)


def test_fields_of_a_resource_with_rows_keep_their_storage_shape(population, steward):
    services.resource_load_rows(actor=steward, resource=population, content=CSV.encode(), filename="p.csv")
    fields = [dict(f) for f in POPULATION_FIELDS]
    fields[2]["label_zh"] = "户籍地"
    fields[2]["grade"] = 3
    services.resource_update(actor=steward, resource=population, data={}, fields=fields)
    fields[1]["personal"] = ""
    with pytest.raises(WrongState):
        services.resource_update(actor=steward, resource=population, data={}, fields=fields)


def test_update_revalidates(population, steward):
    with pytest.raises(InvalidInput) as exc:
        services.resource_update(actor=steward, resource=population, data={"open_class": "unconditional"})
    assert "open_class" in exc.value.errors
    population.refresh_from_db()
    assert population.open_class == "none"


def test_retire_revokes_grants_and_refuses_waiting_requests(
    population, steward, official_x, department_x, later
):
    grant = services.grant_create(
        actor=steward,
        resource=population,
        consumer=department_x,
        fields=["name"],
        purpose="办理业务核验",
        valid_until=later,
    )
    req = services.access_request(
        actor=official_x,
        resource=population,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    services.resource_retire(actor=steward, resource=population, reason="数据迁移至新资源")
    grant.refresh_from_db()
    req.refresh_from_db()
    assert grant.revoked_at is not None and not grant.in_force()
    assert req.state == RequestState.REFUSED and req.decision_reason == "数据迁移至新资源"
    with pytest.raises(WrongState):
        services.resource_update(actor=steward, resource=population, data={"name": "x"})


# --- rows ------------------------------------------------------------------------------------


def test_csv_rows_load_with_personal_fields_sealed(population, steward):
    n = services.resource_load_rows(
        actor=steward, resource=population, content=CSV.encode(), filename="p.csv"
    )
    assert n == 2
    population.refresh_from_db()
    assert population.row_count == 2 and population.loaded_at is not None
    row = ResourceRow.objects.get(resource=population, row_no=1)
    assert "name" not in row.data and "张三" not in str(row.data) and "610113199005171310" not in row.key
    page = rowquery.run(
        population,
        selectors.fields_of(population),
        rowquery.RowQuery(filters={"id_number": "610113199005171310"}),
    )
    assert page.rows[0]["name"] == "张三" and page.rows[0]["years"] == 10
    assert page.rows[0]["residence_since"] == "2015-03-01"
    assert "exchange:resource:load_rows" in events()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_with_bom_or_gb18030(population, steward, encoding):
    assert (
        services.resource_load_rows(
            actor=steward, resource=population, content=CSV.encode(encoding), filename="人口.CSV"
        )
        == 2
    )


def test_xlsx_rows_load(population, steward):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id_number", "name", "household_region", "residence_since", "years"])
    sheet.append(["610113199005171310", "张三", "610113", dt.datetime(2015, 3, 1), 10])  # noqa: DTZ001 — no zone in a sheet
    sheet.append([None, None, None, None, None])  # blank lines are skipped
    out = io.BytesIO()
    book.save(out)
    assert (
        services.resource_load_rows(
            actor=steward, resource=population, content=out.getvalue(), filename="p.xlsx"
        )
        == 1
    )
    page = rowquery.run(population, selectors.fields_of(population), rowquery.RowQuery(filters={"years": 10}))
    assert page.rows[0]["residence_since"] == "2015-03-01"


def test_every_bad_cell_is_named_by_line_and_column_and_nothing_changes(population, steward):
    services.resource_load_rows(actor=steward, resource=population, content=CSV.encode(), filename="p.csv")
    before = list(ResourceRow.objects.filter(resource=population).values_list("pk", flat=True))
    bad = (
        "id_number,name,household_region,residence_since,years\n"
        "610113199005171310,张三,610113,2015-13-01,10\n"
        "610113199005171310,张三,610113,2015-03-01,ten\n"
        ",王五,610113,2015-03-01,1\n"
    )
    with pytest.raises(InvalidInput) as exc:
        services.resource_load_rows(
            actor=steward, resource=population, content=bad.encode(), filename="p.csv"
        )
    assert set(exc.value.errors) == {
        "line 2, column D",
        "line 3, column A",
        "line 3, column E",
        "line 4, column A",
    }
    assert "4" in exc.value.message
    assert list(ResourceRow.objects.filter(resource=population).values_list("pk", flat=True)) == before
    population.refresh_from_db()
    assert population.row_count == 2


@pytest.mark.parametrize(
    "content, filename, key",
    [
        (b"id_number,name\n1,2\n", "p.csv", "line 1"),  # columns missing
        (b"id_number,name,household_region,residence_since,years,extra\n", "p.csv", "line 1, column F"),
        (b"\xff\xfe\x00garbage\x81", "p.csv", "file"),
        (b"not a zip", "p.xlsx", "file"),
        (b"", "p.csv", "file"),
        (b"x", "p.pdf", "file"),
    ],
)
def test_broken_uploads_say_why(population, steward, content, filename, key):
    with pytest.raises(InvalidInput) as exc:
        services.resource_load_rows(actor=steward, resource=population, content=content, filename=filename)
    assert key in exc.value.errors
    assert not ResourceRow.objects.exists()


def test_only_the_provider_loads_rows(population, official_x):
    with pytest.raises(NotAllowed):
        services.resource_load_rows(
            actor=official_x, resource=population, content=CSV.encode(), filename="p.csv"
        )


# --- requests and grants ---------------------------------------------------------------------


def test_an_unconditional_resource_is_granted_at_once(open_resource, official_x, department_x, later):
    req = services.access_request(
        actor=official_x,
        resource=open_resource,
        consumer=department_x,
        fields=["station"],
        purpose="核对派出所地址",
        valid_until=later,
    )
    assert req.state == RequestState.APPROVED
    grant = req.grant
    assert grant.in_force() and grant.fields == ["station"] and grant.consumer == department_x
    assert selectors.grants_in_force(consumer_id=department_x.pk, resource=open_resource).get() == grant
    # the grant runs through the whole last day, in Beijing time
    assert timezone.localtime(grant.valid_until).date() == later + dt.timedelta(days=1)
    assert events()[-2:] == ["exchange:request:create", "exchange:grant:create"]


def test_a_conditional_resource_waits_for_the_providers_steward(
    population, official_x, department_x, steward, later
):
    req = services.access_request(
        actor=official_x,
        resource=population,
        consumer=department_x,
        fields=["years", "name", "years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    assert req.state == RequestState.PENDING and req.fields == ["name", "years"]
    assert not Grant.objects.exists()
    with pytest.raises(NotAllowed):
        services.request_decide(actor=official_x, request=req, approve=True)
    with pytest.raises(InvalidInput):
        services.request_decide(actor=steward, request=req, approve=True, unmasked_fields=["years"])
    req = services.request_decide(actor=steward, request=req, approve=True, unmasked_fields=["name"])
    assert req.state == RequestState.APPROVED and req.grant.unmasked_fields == ["name"]
    with pytest.raises(WrongState):
        services.request_decide(actor=steward, request=req, approve=False, reason="x")


def test_refusing_needs_a_reason(population, official_x, department_x, steward, later):
    req = services.access_request(
        actor=official_x,
        resource=population,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    with pytest.raises(InvalidInput):
        services.request_decide(actor=steward, request=req, approve=False)
    req = services.request_decide(actor=steward, request=req, approve=False, reason="用途与职责不符")
    assert req.state == RequestState.REFUSED and not Grant.objects.exists()


def test_a_not_shared_resource_cannot_be_requested_and_nothing_is_saved(
    steward, gat, official_x, department_x, later
):
    resource = services.resource_register(
        actor=steward,
        provider=gat,
        data=resource_data(
            code="C09001",
            kind="department",
            share_class="none",
            share_conditions="",
            no_share_basis="涉及国家秘密",
        ),
        fields=POPULATION_FIELDS,
    )
    services.resource_publish(actor=steward, resource=resource)
    before = AuditEntry.objects.count()
    with pytest.raises(NotAllowed) as exc:
        services.access_request(
            actor=official_x,
            resource=resource,
            consumer=department_x,
            fields=["years"],
            purpose="核验居住年限",
            valid_until=later,
        )
    assert "涉及国家秘密" in exc.value.message
    assert not AccessRequest.objects.exists() and AuditEntry.objects.count() == before
    with pytest.raises(NotAllowed):
        services.grant_create(
            actor=steward,
            resource=resource,
            consumer=department_x,
            fields=["years"],
            purpose="核验居住年限",
            valid_until=later,
        )


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"fields": []}, "fields"),
        ({"fields": ["nope"]}, "fields"),
        ({"purpose": "x"}, "purpose"),
        ({"valid_until": "2027-01-01"}, "valid_until"),
        ({"valid_until": dt.date(2000, 1, 1)}, "valid_until"),
        ({"valid_until": dt.date(2100, 1, 1)}, "valid_until"),
    ],
)
def test_bad_requests_name_what_to_fix(population, official_x, department_x, later, changes, key):
    args = {"fields": ["years"], "purpose": "核验居住年限", "valid_until": later} | changes
    with pytest.raises(InvalidInput) as exc:
        services.access_request(actor=official_x, resource=population, consumer=department_x, **args)
    assert key in exc.value.errors


def test_requests_are_for_ones_own_department_of_published_resources(
    population, official_x, official_y, department_x, steward, gat, later
):
    with pytest.raises(NotAllowed):
        services.access_request(
            actor=official_y,
            resource=population,
            consumer=department_x,
            fields=["years"],
            purpose="核验居住年限",
            valid_until=later,
        )
    draft = services.resource_register(
        actor=steward, provider=gat, data=resource_data(code="A01002"), fields=POPULATION_FIELDS
    )
    with pytest.raises(WrongState):
        services.access_request(
            actor=official_x,
            resource=draft,
            consumer=department_x,
            fields=["years"],
            purpose="核验居住年限",
            valid_until=later,
        )


def test_a_double_request_is_refused(population, official_x, department_x, later):
    args = {
        "resource": population,
        "consumer": department_x,
        "fields": ["years"],
        "purpose": "核验居住年限",
        "valid_until": later,
    }
    services.access_request(actor=official_x, **args)
    with pytest.raises(WrongState):
        services.access_request(actor=official_x, **args)
    assert AccessRequest.objects.count() == 1


def test_withdraw_a_waiting_request(population, official_x, official_y, department_x, later):
    req = services.access_request(
        actor=official_x,
        resource=population,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    with pytest.raises(NotAllowed):
        services.request_withdraw(actor=official_y, request=req)
    assert services.request_withdraw(actor=official_x, request=req).state == RequestState.WITHDRAWN
    with pytest.raises(WrongState):
        services.request_withdraw(actor=official_x, request=req)


def test_standing_grant_and_revoke(population, steward, department_x, official_x, later):
    grant = services.grant_create(
        actor=steward,
        resource=population,
        consumer=department_x,
        fields=["household_region", "years"],
        purpose="秒批规则核验户籍与居住年限",
        valid_until=later,
        standing=True,
    )
    assert grant.standing and list(selectors.standing_grants(consumer_id=department_x.pk)) == [grant]
    with pytest.raises(NotAllowed):
        services.grant_revoke(actor=official_x, grant=grant, reason="x")
    with pytest.raises(InvalidInput):
        services.grant_revoke(actor=steward, grant=grant, reason=" ")
    grant = services.grant_revoke(actor=steward, grant=grant, reason="规则停用")
    assert not grant.in_force() and not selectors.standing_grants().exists()
    with pytest.raises(WrongState):
        services.grant_revoke(actor=steward, grant=grant, reason="again")


def test_a_field_under_a_grant_is_not_removed(population, steward, department_x, later):
    services.grant_create(
        actor=steward,
        resource=population,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    with pytest.raises(WrongState):
        services.resource_update(actor=steward, resource=population, data={}, fields=POPULATION_FIELDS[:4])


# --- inventories ---------------------------------------------------------------------------------


def test_demand_file_match_close(population, official_x, official_y, department_x, steward):
    demand = services.demand_file(
        actor=official_x,
        department=department_x,
        title="申请人居住年限",
        description="个体工商户登记需核验居住年限",
        purpose="登记核验",
    )
    with pytest.raises(NotAllowed):
        services.demand_match(actor=official_y, demand=demand, resource=population)
    demand = services.demand_match(actor=steward, demand=demand, resource=population)
    assert demand.state == "matched" and list(demand.matched_resources.all()) == [population]
    with pytest.raises(WrongState):
        services.demand_match(actor=official_x, demand=demand, resource=population)
    demand = services.demand_update(actor=official_x, demand=demand, close=True)
    assert demand.state == "closed"
    with pytest.raises(InvalidInput):
        services.demand_file(actor=official_x, department=department_x, title="", description="", purpose="")


def test_systems_inventory(steward, gat, official_x):
    system = services.system_register(
        actor=steward,
        department=gat,
        code="610000-GAT-RK01",
        data={"name": "人口信息管理系统", "network": "政务外网"},
    )
    assert system.is_active
    system = services.system_update(actor=steward, system=system, data={"is_active": False})
    assert not system.is_active
    with pytest.raises(NotAllowed):
        services.system_register(actor=official_x, department=gat, code="X1", data={"name": "x"})
    with pytest.raises(InvalidInput) as exc:
        services.system_register(actor=steward, department=gat, code="610000-GAT-RK01", data={"name": "x"})
    assert "code" in exc.value.errors
    assert events().count("exchange:system:register") == 1


def test_a_resource_that_stops_being_shared_grants_nothing_more(
    steward, gat, official_x, department_x, later
):
    resource = services.resource_register(
        actor=steward,
        provider=gat,
        data=resource_data(code="C01005", kind="department"),
        fields=POPULATION_FIELDS,
    )
    services.resource_publish(actor=steward, resource=resource)
    req = services.access_request(
        actor=official_x,
        resource=resource,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    grant = services.grant_create(
        actor=steward,
        resource=resource,
        consumer=department_x,
        fields=["name"],
        purpose="核验居住年限",
        valid_until=later,
    )
    unshare = {"share_class": "none", "no_share_basis": "依法停止共享"}
    with pytest.raises(WrongState):  # a grant in force reads it
        services.resource_update(actor=steward, resource=resource, data=unshare)
    services.grant_revoke(actor=steward, grant=grant, reason="停止共享")
    services.resource_update(actor=steward, resource=resource, data=unshare)
    with pytest.raises(NotAllowed):
        services.request_decide(actor=steward, request=req, approve=True)
    assert (
        services.request_decide(actor=steward, request=req, approve=False, reason="已停止共享").state
        == "refused"
    )


def test_the_standing_grants_selector_agrees_with_grant_in_force(population, steward, department_x, later):
    """``selectors.standing_grants`` is the query form of ``Grant.in_force``: in force, not yet
    valid, expired and revoked standing grants, and a grant that is not standing."""
    now = timezone.now()
    made = []
    for standing, starts, ends, revoked in [
        (True, now - dt.timedelta(days=1), now + dt.timedelta(days=1), None),
        (True, now + dt.timedelta(hours=1), now + dt.timedelta(days=1), None),
        (True, now - dt.timedelta(days=2), now - dt.timedelta(seconds=1), None),
        (True, now - dt.timedelta(days=1), now + dt.timedelta(days=1), now),
        (False, now - dt.timedelta(days=1), now + dt.timedelta(days=1), None),
    ]:
        grant = services.grant_create(
            actor=steward,
            resource=population,
            consumer=department_x,
            fields=["years"],
            purpose="秒批规则核验居住年限",
            valid_until=later,
            standing=standing,
        )
        Grant.objects.filter(pk=grant.pk).update(valid_from=starts, valid_until=ends, revoked_at=revoked)
        made.append(Grant.objects.get(pk=grant.pk))
    expected = {g.pk for g in made if g.standing and g.in_force(now)}
    assert expected == {made[0].pk}
    assert {g.pk for g in selectors.standing_grants(consumer_id=department_x.pk, at=now)} == expected
