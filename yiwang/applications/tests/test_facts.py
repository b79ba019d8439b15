"""Bound government facts (issue 11 §4): the 秒批 subsidy decides on the age, household
registration and years of residence taken from the population base data through the exchange's
gateway, never on the applicant's declarations; the case records where each fact came from."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from yiwang.applications import engine, facts, schemaforms, services
from yiwang.applications.models import Case, Task
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import _department, force_sign_in, make_official
from yiwang.exchange import basedata, rows
from yiwang.exchange.models import CallLog, CallSubject, DataResource, Grant, ResourceField, ResourceRow
from yiwang.exchange.vault import key_index
from yiwang.identity import pii
from yiwang.identity.models import Person, Role

POPULATION = basedata.POPULATION

FACT_SCHEMA = {
    "type": "object",
    "properties": {
        "age": {
            "type": "integer",
            "title": "年龄（周岁）",
            "x-fact": {"resource": POPULATION, "field": "birth_date", "derive": "years"},
        },
        "residence_years": {
            "type": "integer",
            "title": "在本市居住年限（年）",
            "x-fact": {"resource": POPULATION, "field": "residence_since", "derive": "years"},
        },
        "household_registered": {
            "type": "boolean",
            "title": "是否本市户籍",
            "x-fact": {"resource": POPULATION, "field": "household_region", "derive": "in_region"},
        },
    },
    "required": ["age", "residence_years", "household_registered"],
}
FACT_FIELDS = ["birth_date", "household_region", "residence_since"]


@pytest.fixture
def gat(province):
    return _department("610000-GAT", "陕西省公安厅", province)


@pytest.fixture
def population(gat) -> DataResource:
    spec = basedata.BASE_RESOURCES[POPULATION]
    resource = DataResource.objects.create(
        code=POPULATION,
        name=spec["name"],
        provider=gat,
        kind=spec["kind"],
        share_class="conditional",
        share_conditions="仅用于政务服务事项办理",
        open_class="closed",
        update_frequency="realtime",
        source_kind="table",
        key_field=spec["key_field"],
        state="published",
    )
    ResourceField.objects.bulk_create(
        ResourceField(
            resource=resource, name=n, label_zh=zh, label_en=en, type=t, grade=g, personal=p, position=i
        )
        for i, (n, zh, en, t, g, p) in enumerate(spec["fields"])
    )
    return resource


def years_ago(years: int, days: int = 0) -> str:
    today = timezone.localdate()
    try:
        then = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        then = today.replace(year=today.year - years, day=28)
    return (then - dt.timedelta(days=days)).isoformat()


def put_row(resource: DataResource, person: Person, **values) -> None:
    """The person's record in the population base data (replacing any earlier one)."""
    id_number = pii.id_number_of(person)
    fields = list(resource.fields.all())
    record = {
        "id_number": id_number,
        "name": person.name,
        "gender": "男",
        "birth_date": years_ago(70),
        "household_region": "610102",
        "household_address": "陕西省西安市新城区演示路1号",
        "residence_region": "610102",
        "residence_since": years_ago(10),
        "phone": "13800001111",
        **values,
    }
    ResourceRow.objects.filter(resource=resource, key=rows.key_for(resource, fields, id_number)).delete()
    start = (ResourceRow.objects.filter(resource=resource).count() or 0) + 1000
    ResourceRow.objects.bulk_create(rows.build_rows(resource, fields, [record], start=start))


@pytest.fixture
def standing_grant(population, department_x) -> Grant:
    return Grant.objects.create(
        resource=population,
        consumer=department_x,
        fields=["id_number", *FACT_FIELDS],
        unmasked_fields=FACT_FIELDS,
        purpose="政务服务事项办理（秒批、表单预填）",
        standing=True,
        valid_until=timezone.now() + dt.timedelta(days=365),
    )


@pytest.fixture
def fact_item(department_x, dept_admin, standing_grant) -> ServiceItem:
    item = make_item(
        code="610100-MZ-GF-0009",
        name="老年人便民摊点经营补贴",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=5,
    )
    item.materials.all().delete()
    services.form_attach(actor=dept_admin, item=item, schema=FACT_SCHEMA)
    services.process_attach(
        actor=dept_admin,
        item=item,
        bpmn=(engine.PROCESSES_DIR / "instant.bpmn").read_text(),
        dmn=(engine.PROCESSES_DIR / "instant.dmn").read_text(),
    )
    return item


def apply(user, item, declared: dict | None = None) -> Case:
    case = services.case_start(actor=user, item=item, data=declared or {})
    try:
        return services.case_submit(actor=user, case=case)
    except services.InvalidInput as exc:
        raise AssertionError((exc.errors, case.data, case.facts)) from exc


def person_of(user) -> Person:
    return Person.objects.get(user=user)


# --- the schema: what a department may bind ----------------------------------------------------


def fact(**spec):
    return {"resource": "A01001", "field": "a", **spec}


@pytest.mark.parametrize(
    ("prop", "says"),
    [
        ({"type": "integer", "x-fact": "A01001.birth_date"}, '"x-fact" must be an object'),
        ({"type": "integer", "x-fact": fact(resource="population")}, "A01001"),
        ({"type": "integer", "x-fact": fact(field="Birth Date")}, '"field"'),
        ({"type": "string", "x-fact": fact(derive="age")}, "years"),
        ({"type": "string", "x-fact": fact(derive="years")}, "integer"),
        ({"type": "string", "x-source": "person.name", "x-fact": fact()}, '"x-source"'),
    ],
)
def test_a_malformed_binding_is_refused_with_what_to_change(prop, says):
    with translation.override("en"), pytest.raises(schemaforms.SchemaError) as refused:
        schemaforms.check_schema({"type": "object", "properties": {"f": {"title": "x", **prop}}})
    assert says in "; ".join(refused.value.messages)


def test_binding_needs_a_standing_grant_in_force(population, department_x, dept_admin):
    item = make_item(code="610100-MZ-GF-0010", name="补贴", department=department_x)
    with pytest.raises(services.InvalidInput) as refused:
        services.form_attach(actor=dept_admin, item=item, schema=FACT_SCHEMA)
    problems = refused.value.errors["schema"]
    assert "常设授权" in problems and "birth_date" in problems
    unknown = {**FACT_SCHEMA, "properties": {"age": {**FACT_SCHEMA["properties"]["age"]}}, "required": []}
    unknown["properties"]["age"]["x-fact"] = {"resource": POPULATION, "field": "shoe_size", "derive": "years"}
    with pytest.raises(services.InvalidInput) as refused:
        services.form_attach(actor=dept_admin, item=item, schema=unknown)
    assert "shoe_size" in refused.value.errors["schema"]


@pytest.mark.parametrize(
    ("code", "prefix"), [("610100", "6101"), ("610000", "61"), ("610102", "610102"), ("611000", "6110")]
)
def test_a_region_holds_the_codes_that_start_like_it(code, prefix):
    assert facts.region_prefix(code) == prefix


# --- the done-means test -----------------------------------------------------------------------


def test_the_subsidy_decides_on_population_data_and_changes_when_the_data_changes(
    fact_item, population, citizen
):
    person = person_of(citizen)
    put_row(population, person)  # 70, registered in 新城区 (Xi'an), resident for 10 years
    # What the applicant types is never used: they declare the opposite of the records.
    case = apply(citizen, fact_item, {"age": 20, "residence_years": 0, "household_registered": False})
    assert case.is_approved and [h["rule_id"] for h in case.rule_hits] == ["rule_all_met"]
    assert case.data["age"] == 70 and case.data["residence_years"] == 10 and case.data["household_registered"]
    by_field = {f["field"]: f for f in case.facts}
    assert set(by_field) == {"age", "residence_years", "household_registered"}
    assert {f["provider"] for f in case.facts} == {"610000-GAT"} and {f["resource"] for f in case.facts} == {
        POPULATION
    }
    assert by_field["age"]["source_field"] == "birth_date" and by_field["age"]["call"]
    call = CallLog.objects.get(pk=by_field["age"]["call"])
    assert call.outcome == "ok" and call.channel == "platform" and call.consumer_id == fact_item.department_id
    assert call.reference == case.number and sorted(call.fields) == FACT_FIELDS
    assert CallSubject.objects.filter(call=call, subject_index=key_index(pii.id_number_of(person))).exists()

    put_row(population, person, household_region="610402")  # moved the registration to 咸阳
    moved = apply(citizen, fact_item)
    assert not moved.is_approved and [h["rule_id"] for h in moved.rule_hits] == ["rule_not_registered"]
    assert moved.data["household_registered"] is False

    put_row(population, person, residence_since=years_ago(0, days=100))  # arrived 100 days ago
    recent = apply(citizen, fact_item)
    assert [h["rule_id"] for h in recent.rule_hits] == ["rule_residence_under_1"]

    put_row(population, person, birth_date=years_ago(60, days=-1))  # 60 tomorrow: still 59 today
    young = apply(citizen, fact_item)
    assert young.data["age"] == 59 and [h["rule_id"] for h in young.rule_hits] == ["rule_age_under_60"]


def test_a_missing_fact_never_decides_the_case_goes_to_a_clerk_with_the_reason(
    fact_item, population, citizen
):
    case = apply(citizen, fact_item)  # no record of this person in the population base data
    assert not case.rule_hits and not case.is_approved
    halt = Task.objects.get(case=case, state=Task.State.OPEN)
    assert halt.role == Role.CLERK
    comment = case.events.order_by("-pk").first().comment
    assert "陕西省公安厅" in comment or "公安厅" in comment
    assert all(f.get("missing") for f in case.facts)


def test_a_revoked_grant_stops_the_facts_and_the_rules(fact_item, population, citizen, standing_grant):
    put_row(population, person_of(citizen))
    standing_grant.revoked_at = timezone.now()
    standing_grant.save(update_fields=["revoked_at"])
    case = apply(citizen, fact_item)
    assert not case.rule_hits and not case.is_approved
    assert Task.objects.get(case=case, state=Task.State.OPEN).role == Role.CLERK
    assert CallLog.objects.filter(resource=population, outcome="denied").exists()


def test_the_citizen_and_the_official_see_where_each_fact_came_from(
    client, fact_item, population, citizen, department_x
):
    put_row(population, person_of(citizen), household_region="610402")
    case = apply(citizen, fact_item)
    page = force_sign_in(client, citizen).get(f"/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert page.status_code == 200 and "政府使用了以下数据" in text and "人口基础信息" in text
    assert "陕西省公安厅" in text
    reviewer = make_official("reviewer_f", department_x, [Role.REVIEWER])
    task = Task.objects.get(case=case, state=Task.State.OPEN)
    client.logout()
    official = force_sign_in(client, reviewer).get(f"/workbench/tasks/{task.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert official.status_code == 200
    assert "Evidence: facts from shared government data" in official.content.decode()


def test_the_form_editor_offers_the_departments_standing_grants_and_nothing_else(
    login, fact_item, dept_admin, standing_grant, population
):
    def offered():
        page = login(dept_admin).get(
            f"/workbench/processes/{fact_item.code}/form/", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert page.status_code == 200
        return {o["value"]: o for o in page.context["editor_data"]["facts"]}

    options = offered()
    years = options["fact:A01001:birth_date:years"]
    assert years["type"] == "integer" and years["fact"] == {
        "resource": "A01001",
        "field": "birth_date",
        "derive": "years",
    }
    assert options["fact:A01001:household_region:in_region"]["type"] == "boolean"
    assert "陕西省公安厅" in years["label"] and "Date of birth" in years["label"]
    assert not any(":name:" in v or ":phone:" in v for v in options)  # not granted
    assert "person.name" in options  # the applicant's own identity stays offered
    standing_grant.revoked_at = timezone.now()
    standing_grant.save(update_fields=["revoked_at"])
    assert not any(v.startswith("fact:") for v in offered())
