"""The registers identity checks against, read from the exchange's base data (registers.py), and
``basedata.put_records``, by which the demos (and tests) put people and enterprises there."""

import datetime as dt

import pytest

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_person
from yiwang.exchange import basedata, registers
from yiwang.exchange.errors import InvalidInput, NotFound
from yiwang.exchange.models import DataResource, ResourceRow, ResourceState
from yiwang.identity import legalentities, pii, realname, services
from yiwang.identity.models import Department, RealNameLevel
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

pytestmark = pytest.mark.django_db

NUMBER = make_id_number("610113", dt.date(1988, 8, 8), 123)
NUMBER_X = "11010519491231002X"  # a check character X
CODE = make_credit_code("610100", 77)


@pytest.fixture
def providers(province):
    return {
        kind: Department.objects.create(code=f"610000-{kind}", name=name, region=province)
        for kind, name in (("GAT", "陕西省公安厅"), ("SCJG", "陕西省市场监督管理局"), ("RST", "陕西省人社厅"))
    }


def put_person(number=NUMBER, name="陈七", **values):
    return basedata.put_records(
        basedata.POPULATION, [{"id_number": number, "name": name, **values}], actor="system:test"
    )


def test_put_records_registers_the_base_resource_by_its_spec(providers):
    assert put_person(household_region="610113") == (1, 0)
    resource = DataResource.objects.get(code=basedata.POPULATION)
    spec = basedata.BASE_RESOURCES[basedata.POPULATION]
    assert resource.provider == providers["GAT"] and resource.state == ResourceState.PUBLISHED
    assert resource.kind == "basic" and resource.share_class == "conditional" and resource.share_conditions
    assert [f.name for f in resource.fields.order_by("position")] == [f[0] for f in spec["fields"]]
    assert resource.row_count == 1
    row = ResourceRow.objects.get(resource=resource)
    # personal values are sealed and the key is a blind index, never the number in clear
    assert NUMBER not in row.key and "name" not in row.data and "id_number" not in row.data
    assert row.data["household_region"] == "610113"
    events = list(AuditEntry.objects.filter(target_id=str(resource.pk)).values_list("event", flat=True))
    assert events == ["exchange:resource:register", basedata.PUT_EVENT]


def test_put_records_is_idempotent_and_keeps_the_values_it_is_not_given(providers):
    put_person(household_region="610113", phone="13800000009")
    assert put_person(name="陈七") == (0, 1)
    assert put_person(NUMBER_X, "张三") == (1, 0)
    resource = DataResource.objects.get(code=basedata.POPULATION)
    assert resource.rows.count() == 2 and resource.row_count == 2
    values = registers.base_row(basedata.POPULATION, NUMBER)
    assert values["phone"] == "13800000009" and values["household_region"] == "610113"


def test_put_records_refuses_a_bad_record_and_saves_nothing(providers):
    put_person()
    with pytest.raises(InvalidInput, match="Record 2: A01001 has no field colour"):
        basedata.put_records(
            basedata.POPULATION,
            [{"id_number": NUMBER_X, "name": "张三"}, {"id_number": NUMBER, "colour": "red"}],
            actor="system:test",
        )
    with pytest.raises(InvalidInput, match="Record 1: the key field id_number is empty"):
        basedata.put_records(basedata.POPULATION, [{"name": "无号"}], actor="system:test")
    assert ResourceRow.objects.count() == 1
    with pytest.raises(InvalidInput, match="not a base resource"):
        basedata.put_records("B99999", [], actor="system:test")


def test_put_records_needs_the_providing_department(province):
    with pytest.raises(NotFound, match="kind GAT"):
        put_person()
    assert not DataResource.objects.exists()


def test_an_existing_resource_is_used_as_its_steward_registered_it(providers):
    DataResource.objects.create(
        code=basedata.POPULATION,
        name="人口库（公安厅登记）",
        provider=providers["GAT"],
        kind="basic",
        share_class="unconditional",
        update_frequency="realtime",
        key_field="id_number",
        state=ResourceState.PUBLISHED,
    )
    resource = basedata.base_resource(basedata.POPULATION, actor="system:test")
    assert resource.name == "人口库（公安厅登记）" and resource.share_class == "unconditional"


def test_the_verifier_confirms_a_name_only_for_the_number_the_register_holds(providers):
    put_person()
    put_person(NUMBER_X, "张三")
    verifier = registers.ExchangeRealNameVerifier()
    assert verifier.verify(name="陈七", id_number=NUMBER).ok
    assert verifier.verify(name=" 张三 ", id_number=NUMBER_X.lower()).ok  # check character case-blind
    assert verifier.verify(name="陈八", id_number=NUMBER) == realname.RealNameResult(
        False, "name does not match"
    )
    nameless = make_id_number("610113", dt.date(1988, 8, 8), 125)
    put_person(nameless, "")
    assert not verifier.verify(name="", id_number=nameless).ok
    unknown = make_id_number("610113", dt.date(1988, 8, 8), 124)
    assert verifier.verify(name="陈七", id_number=unknown) == realname.RealNameResult(
        False, "not in the register"
    )


@pytest.mark.parametrize("state", [ResourceState.DRAFT, ResourceState.RETIRED])
def test_a_resource_not_published_verifies_nobody(providers, state):
    put_person()
    DataResource.objects.filter(code=basedata.POPULATION).update(state=state)
    assert not registers.ExchangeRealNameVerifier().verify(name="陈七", id_number=NUMBER).ok
    assert not realname.verify(name="陈七", id_number=NUMBER).ok  # the configured default


def test_without_base_data_nobody_is_verified(db):
    assert realname.verify(name="陈七", id_number=NUMBER) == realname.RealNameResult(
        False, "not in the register"
    )
    assert legalentities.lookup(credit_code=CODE) is None


def test_identity_verifies_a_person_against_the_population_base_data(providers, region):
    person = make_person("chen", "陈七", region_code="610113", birth=dt.date(1988, 8, 8), seq=123, level=1)
    put_person()
    services.person_verify(person=person, name="陈七", id_number=NUMBER, actor=person.user)
    person.refresh_from_db()
    assert person.realname_level == RealNameLevel.REGISTER


def test_the_legal_entity_register_names_the_representative(providers, region):
    rep = make_person("rep", "周六", region_code="610113", birth=dt.date(1988, 8, 8), seq=123)
    basedata.put_records(
        basedata.LEGAL_ENTITY,
        [
            {
                "credit_code": CODE,
                "name": "演示公司",
                "legal_representative": "周六",
                "representative_id_number": NUMBER,
                "region_code": "610100",
                "address": "西安市演示路1号",
                "status": "存续",
            }
        ],
        actor="system:test",
    )
    entity = legalentities.lookup(credit_code=CODE)
    assert (entity.name, entity.representative_name, entity.region_code) == ("演示公司", "周六", "610100")
    assert entity.is_active and entity.names_as_representative(rep)
    assert pii.id_number_index(entity.representative_id_number) == rep.id_number_index
    basedata.put_records(
        basedata.LEGAL_ENTITY, [{"credit_code": CODE, "status": "注销"}], actor="system:test"
    )
    assert not legalentities.lookup(credit_code=CODE).is_active
    assert legalentities.lookup(credit_code=make_credit_code("610100", 78)) is None


def test_the_registers_put_demo_records_through_put_records(providers):
    assert registers.ExchangeRealNameVerifier().put_demo_records([{"id_number": NUMBER, "name": "陈七"}]) == (
        1,
        0,
    )
    assert registers.ExchangeLegalEntityRegister().put_demo_records([{"credit_code": CODE, "name": "x"}]) == (
        1,
        0,
    )
    assert AuditEntry.objects.filter(event=basedata.PUT_EVENT, actor_label="system:demo").count() == 2
