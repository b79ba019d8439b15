"""Helpers of supervision's tests: entities in the register, laws, items, inspectors."""

import datetime as dt

from yiwang.exchange import basedata
from yiwang.identity.models import Role
from yiwang.lib.uscc import make_credit_code
from yiwang.supervision import services
from yiwang.supervision.models import MarketEntity

EFFECTIVE = dt.date(2020, 1, 1)


def register_records(n: int, *, region: str = "610102", start: int = 1, industry: str = "I") -> list[dict]:
    return [
        {
            "credit_code": make_credit_code(region, 30_000_000 + start + i),
            "name": f"测试市场主体{start + i}有限公司",
            "region_code": region,
            "address": "西安市新城区测试路1号",
            "established_on": "2019-05-01",
            "status": "存续",
            "industry": industry,
            "scale": "small",
        }
        for i in range(n)
    ]


def entities(n: int, department, *, region: str = "610102", start: int = 1, tiers: str = "B"):
    """``n`` entities put into A02001 and synced; tiers cycle through ``tiers``."""
    basedata.put_records(
        basedata.LEGAL_ENTITY,
        register_records(n, region=region, start=start),
        actor="test",
        provider=department,
    )
    services.entities_sync(actor="test")
    rows = list(MarketEntity.objects.filter(region_code=region).order_by("credit_code"))
    for i, row in enumerate(rows):
        row.credit_tier = tiers[i % len(tiers)]
    MarketEntity.objects.bulk_update(rows, ["credit_tier"])
    return rows


def food_law(actor="test"):
    return services.law_create(
        code="food-safety-law",
        title="中华人民共和国食品安全法",
        clauses=[
            ("87", "县级以上人民政府食品安全监督管理部门应当对食品进行定期或者不定期的抽样检验。"),
            ("110", "县级以上人民政府食品安全监督管理部门履行食品安全监督管理职责，有权进行现场检查。"),
        ],
        effective_from=EFFECTIVE,
        actor=actor,
    )


def item(department, *, code="SCJG-JC-001", basis=("food-safety-law:87",), actor="test"):
    return services.item_create(
        department=department, code=code, name="食品经营者监督检查", basis=list(basis), actor=actor
    )


def inspectors(department, n: int, *, prefix: str = "insp"):
    from yiwang.conftest import make_official

    return [make_official(f"{prefix}{i}", department, [Role.INSPECTOR]).official for i in range(n)]
