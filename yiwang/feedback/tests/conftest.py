"""The feedback app's test world, beside the shared personas (``yiwang/conftest.py``):

- ``hotline``: 西安市数据和政务服务局 (610100-SJJ), which runs 12345 for 西安市;
- ``router``: a clerk there, the routing officer (分拨员) of 西安市 and its districts;
- ``rules``: market complaints in 西安市 go to department X; in 铜川市 to department Y;
- ``file_item``: files an item as a persona with sensible defaults.
"""

import pytest

from yiwang.conftest import _department, make_official
from yiwang.feedback import services
from yiwang.feedback.models import Category, Item, RoutingRule
from yiwang.identity.models import Role


@pytest.fixture
def hotline(region):
    return _department("610100-SJJ", "西安市数据和政务服务局", region)


@pytest.fixture
def router(hotline):
    return make_official("router", hotline, [Role.CLERK])


@pytest.fixture
def rules(department_x, department_y):
    return [
        RoutingRule.objects.create(
            category=Category.MARKET, region=department_x.region, department=department_x
        ),
        RoutingRule.objects.create(
            category=Category.MARKET, region=department_y.region, department=department_y
        ),
    ]


@pytest.fixture
def file_item(region, rules):
    def _file(actor, **extra) -> Item:
        values = {
            "kind": Item.Kind.COMPLAINT,
            "text": "小区门口那家超市卖过期酸奶，店员还不承认",
            "region": region,
        }
        values.update(extra)
        return services.item_file(actor=actor, **values)

    return _file
