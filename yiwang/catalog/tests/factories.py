"""Small builders for catalog tests (the ORM directly, then indexed like the services do)."""

from yiwang.catalog import search
from yiwang.catalog.models import Material, ServiceItem


def make_item(
    *, code, name, department, status=ServiceItem.Status.PUBLISHED, materials=(), **fields
) -> ServiceItem:
    defaults = {
        "item_type": ServiceItem.ItemType.LICENSING,
        "level": "province",
        "legal_basis": "《测试条例》第一条",
        "conditions": "符合条件",
        "process_steps": [{"name": "申请", "description": ""}],
        "consult_phone": "029-12345678",
    }
    item = ServiceItem.objects.create(
        code=code,
        name=name,
        department=department,
        region=department.region,
        status=status,
        **{**defaults, **fields},
    )
    for n, m in enumerate(materials, start=1):
        Material.objects.create(item=item, order=n, **m)
    search.index_items(
        [ServiceItem.objects.select_related("department").prefetch_related("materials").get(pk=item.pk)]
    )
    return item
