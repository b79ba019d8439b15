import pytest

from yiwang.exchange import basedata, demo, rowquery, selectors
from yiwang.exchange.models import AccessRequest, DataResource, DemandState, Grant, RequestState
from yiwang.identity import demo as identity_demo
from yiwang.identity.models import Role, User
from yiwang.lib.idnumbers import make_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        return demo.build("small")


def test_the_demo_has_resources_rows_requests_in_every_state_and_standing_grants(built):
    assert DataResource.objects.count() >= 16
    assert {s for s in AccessRequest.objects.values_list("state", flat=True)} == set(RequestState.values)
    standing = selectors.standing_grants()
    assert {(g.resource.code, g.consumer.code) for g in standing} >= {
        (code, consumer)
        for code in (basedata.POPULATION, basedata.LEGAL_ENTITY, basedata.SOCIAL_INSURANCE)
        for consumer in (demo.X, demo.DATA_OFFICE)
    }
    assert DataResource.objects.filter(state="draft").exists()
    assert DataResource.objects.filter(share_class="none", on_negative_list=True).exists()
    assert DataResource.objects.filter(source_kind="http").exists()
    assert {d for d in demo.DataDemand.objects.values_list("state", flat=True)} == set(DemandState.values)


def test_the_population_base_data_holds_identitys_demo_people(built):
    population = selectors.resource_by_code(basedata.POPULATION)
    zhang = next(c for c in identity_demo.CITIZENS if c.username == "citizen")
    number = make_id_number(identity_demo.DEMO_COUNTY, zhang.birth, zhang.seq)
    page = rowquery.run(
        population, selectors.fields_of(population), rowquery.RowQuery(filters={"id_number": number})
    )
    assert page.total == 1 and page.rows[0]["name"] == "张三"


def test_gatsteward_is_the_data_steward_of_the_public_security_department(built):
    user = User.objects.get(username="gatsteward")
    assert user.official.department.code == "610000-GAT"
    assert list(user.official.roles.values_list("role", flat=True)) == [Role.DATA_STEWARD]


def test_the_demo_is_idempotent(built):
    counts = (DataResource.objects.count(), Grant.objects.count(), AccessRequest.objects.count())
    again = demo.build("small")
    assert again["rows_added"] == 0
    assert (DataResource.objects.count(), Grant.objects.count(), AccessRequest.objects.count()) == counts


def test_a_base_resource_made_first_by_another_builder_is_completed_not_duplicated(db):
    from yiwang.exchange.models import ResourceRow

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
    # identity's demo put its people into the population base data through the registers
    # (basedata.put_records): the resource exists before the exchange demo runs
    resource = DataResource.objects.get(code=basedata.POPULATION)
    zhang = next(c for c in identity_demo.CITIZENS if c.username == "citizen")
    number = make_id_number(identity_demo.DEMO_COUNTY, zhang.birth, zhang.seq)
    demo.build("small")
    resource.refresh_from_db()
    assert resource.state == "published" and resource.share_class == "conditional"
    page = rowquery.run(
        resource, selectors.fields_of(resource), rowquery.RowQuery(filters={"id_number": number})
    )
    assert page.total == 1  # not loaded twice
    assert ResourceRow.objects.filter(resource=resource).count() > 1
