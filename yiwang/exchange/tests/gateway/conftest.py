"""Fixtures of the gateway tests (the world of ``world.py``)."""

import pytest

from yiwang.conftest import _department, make_official
from yiwang.exchange import basedata, credentials
from yiwang.exchange.tests.gateway.world import LI, ZHANG, ZHOU, make_grant, make_resource
from yiwang.identity.models import Role


@pytest.fixture
def gat(province):
    return _department("610000-GAT", "陕西省公安厅", province)


@pytest.fixture
def population(gat):
    return make_resource(basedata.POPULATION, gat, basedata.POPULATION, records=[ZHANG, LI, ZHOU])


@pytest.fixture
def grant_x(population, department_x):
    return make_grant(
        population,
        department_x,
        [
            "id_number",
            "name",
            "birth_date",
            "household_region",
            "household_address",
            "residence_since",
            "phone",
        ],
        unmasked_fields=["birth_date"],
    )


@pytest.fixture
def insurance(province):
    rst = _department("610000-RST", "陕西省人力资源和社会保障厅", province)
    return make_resource(
        basedata.SOCIAL_INSURANCE,
        rst,
        basedata.SOCIAL_INSURANCE,
        source_kind="http",
        upstream_url="https://rst.example.org/api/insured",
        upstream_timeout_ms=2000,  # ample for a mock under load; the timeout tests set 300
    )


@pytest.fixture
def steward_x(department_x):
    return make_official("steward_x", department_x, [Role.DATA_STEWARD])


@pytest.fixture
def key_x(steward_x, department_x):
    """An API key of X's system (the key text, shown once)."""
    return credentials.credential_create(department=department_x, name="登记系统", actor=steward_x).key


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are checked in English (pages and the API: by Accept-Language)."""
    from django.utils import translation

    with translation.override("en"):
        yield
