"""Fixtures of the exchange's tests: the providing department (公安厅, 610000-GAT) with its data
steward, a published resource of it, and consumers (department X and its officials)."""

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.conftest import _department, make_official
from yiwang.exchange import services
from yiwang.identity.models import Role

POPULATION_FIELDS = [
    {"name": "id_number", "label_zh": "公民身份号码", "type": "string", "grade": 3, "personal": "id_number"},
    {"name": "name", "label_zh": "姓名", "type": "string", "grade": 3, "personal": "name"},
    {"name": "household_region", "label_zh": "户籍地行政区划代码", "type": "string", "grade": 2},
    {"name": "residence_since", "label_zh": "居住起始日期", "type": "date", "grade": 2},
    {"name": "years", "label_zh": "居住年限", "type": "integer", "grade": 2},
]


def resource_data(**changes) -> dict:
    data = {
        "code": "A01001",
        "name": "人口基础信息",
        "kind": "basic",
        "share_class": "conditional",
        "share_conditions": "用于政务服务办理，需提供法定依据",
        "open_class": "none",
        "update_frequency": "daily",
        "source_kind": "table",
        "key_field": "id_number",
    }
    data.update(changes)
    return data


@pytest.fixture
def gat(province):
    return _department("610000-GAT", "陕西省公安厅", province)


@pytest.fixture
def gat_child(gat, region):
    return _department("610100-GAT", "西安市公安局", region, gat)


@pytest.fixture
def steward(gat):
    return make_official("gatsteward", gat, [Role.DATA_STEWARD])


@pytest.fixture
def steward_y(department_y):
    return make_official("steward_y", department_y, [Role.DATA_STEWARD])


@pytest.fixture
def population(steward, gat):
    resource = services.resource_register(
        actor=steward, provider=gat, data=resource_data(), fields=POPULATION_FIELDS
    )
    return services.resource_publish(actor=steward, resource=resource)


@pytest.fixture
def open_resource(steward, gat):
    resource = services.resource_register(
        actor=steward,
        provider=gat,
        data=resource_data(
            code="C01002",
            name="户籍派出所名录",
            kind="department",
            share_class="unconditional",
            share_conditions="",
            key_field="",
        ),
        fields=[{"name": "station", "label_zh": "派出所", "type": "string", "grade": 1}],
    )
    return services.resource_publish(actor=steward, resource=resource)


@pytest.fixture
def later():
    return timezone.localdate() + dt.timedelta(days=90)
