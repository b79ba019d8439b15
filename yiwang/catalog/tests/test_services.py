import pytest
from django.core.exceptions import ValidationError

from yiwang.audit.models import AuditEntry
from yiwang.catalog import selectors, services
from yiwang.catalog.models import ServiceItem

pytestmark = pytest.mark.django_db

ELEMENTS = {
    "name": "烧烤摊点登记",
    "item_type": "licensing",
    "legal_basis": "《测试条例》第一条",
    "conditions": "有固定场所",
    "process_steps": [{"name": "申请", "description": ""}],
    "statutory_limit_days": 10,
    "promised_limit_days": 5,
    "consult_phone": "029-1",
    "aliases": "烧烤登记",
}


@pytest.fixture
def basic(places):
    department = places["610000"].departments.get(code="610000-SCJG")
    return services.item_create(
        actor="system:test",
        code="B-1",
        department=department,
        region=department.region,
        level="province",
        materials=[{"name": "身份证", "licence_replaceable": True}],
        **ELEMENTS,
    )


def events(target):
    return list(
        AuditEntry.objects.filter(target_id=str(target.pk))
        .order_by("leaf_index")
        .values_list("event", flat=True)
    )


def test_create_publish_retire_are_audited_and_drive_search(basic):
    assert basic.status == ServiceItem.Status.DRAFT
    assert selectors.search_items(q="烧烤").count == 0
    services.item_publish(item=basic, actor="system:test")
    assert selectors.search_items(q="烧烤").count == 1
    services.item_retire(item=basic, actor="system:test", reason="merged")
    assert selectors.search_items(q="烧烤").count == 0
    assert events(basic) == ["catalog:item:create", "catalog:item:publish", "catalog:item:retire"]


def test_publishing_needs_the_core_elements(places):
    department = places["610000"].departments.get(code="610000-SCJG")
    item = services.item_create(
        actor="system:test",
        code="X",
        department=department,
        region=department.region,
        level="province",
        name="空事项",
        item_type="licensing",
    )
    with pytest.raises(ValidationError):
        services.item_publish(item=item, actor="system:test")
    item.refresh_from_db()
    assert item.status == ServiceItem.Status.DRAFT


def test_update_bumps_the_version_and_reindexes(basic):
    services.item_publish(item=basic, actor="system:test")
    item = services.item_update(item=basic, actor="system:test", aliases="夜市摊位")
    assert item.version == 2
    assert selectors.search_items(q="夜市摊位").count == 1
    assert "catalog:item:update" in events(basic)


def test_promised_limit_cannot_exceed_the_statutory_one(basic):
    with pytest.raises(ValidationError):
        services.item_update(item=basic, actor="system:test", promised_limit_days=30)
    basic.refresh_from_db()
    assert basic.promised_limit_days == 5 and basic.version == 1


def test_derive_implementation_copies_the_elements_with_a_derived_code(basic, places):
    xian = places["610100"]
    department = xian.departments.get(code="610100-SCJG")
    item = services.item_derive_implementation(
        basic=basic, region=xian, department=department, actor="system:test"
    )
    assert item.code == "B-1-610100" and item.basic_item == basic and item.level == "city"
    for field, value in ELEMENTS.items():
        assert getattr(item, field) == value, field
    assert [m.name for m in item.materials.all()] == ["身份证"] and item.materials.get().licence_replaceable
    assert "catalog:item:derive" in events(item)
    with pytest.raises(ValidationError):  # the same region twice
        services.item_derive_implementation(
            basic=basic, region=xian, department=department, actor="system:test"
        )


def test_derive_refuses_a_department_of_another_region(basic, places):
    other = places["610000"].departments.get(code="610000-SCJG")
    with pytest.raises(ValidationError):
        services.item_derive_implementation(
            basic=basic, region=places["610100"], department=other, actor="t:t"
        )


def test_duplicate_codes_are_refused(basic, places):
    department = places["610000"].departments.get(code="610000-SCJG")
    with pytest.raises(ValidationError):
        services.item_create(
            actor="t:t",
            code="B-1",
            department=department,
            region=department.region,
            level="province",
            **ELEMENTS,
        )
