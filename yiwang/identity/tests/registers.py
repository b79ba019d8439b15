"""Putting people and enterprises into the registers identity checks against, for tests.

The registers are the exchange's base data (``yiwang.exchange.registers``, the default register
classes): these helpers put rows there as a provider's load would, creating the province and its
providing departments (公安厅, 市场监督管理局) when the test has not.
"""

from yiwang.exchange import basedata
from yiwang.identity.models import Department, Region

ACTOR = "system:test"


def _provider(kind: str, name: str) -> Department:
    province = Region.objects.get_or_create(
        code="610000", defaults={"name": "陕西省", "level": Region.Level.PROVINCE}
    )[0]
    return Department.objects.get_or_create(
        code=f"610000-{kind}", defaults={"name": f"陕西省{name}", "region": province}
    )[0]


def put_resident(name: str, id_number: str, **values) -> None:
    """``name`` holds ``id_number`` in the population base data (A01001)."""
    provider = _provider("GAT", "公安厅")
    basedata.put_records(
        basedata.POPULATION,
        [{"id_number": id_number, "name": name, **values}],
        actor=ACTOR,
        provider=provider,
    )


def put_legal_entity(
    credit_code: str,
    name: str,
    representative: str,
    representative_id_number: str,
    *,
    region_code: str = "610100",
    address: str = "",
    status: str = "存续",
) -> None:
    """An enterprise of the legal-entity base data (A02001) and its legal representative."""
    provider = _provider("SCJG", "市场监督管理局")
    basedata.put_records(
        basedata.LEGAL_ENTITY,
        [
            {
                "credit_code": credit_code,
                "name": name,
                "legal_representative": representative,
                "representative_id_number": representative_id_number,
                "region_code": region_code,
                "address": address,
                "status": status,
            }
        ],
        actor=ACTOR,
        provider=provider,
    )
