import pytest

from yiwang.audit.models import AuditEntry
from yiwang.catalog import demo
from yiwang.catalog.models import LifeEvent, Material, ServiceItem, Synonym, Theme
from yiwang.catalog.tests.conftest import KINDS

pytestmark = pytest.mark.django_db


def test_the_data_files_describe_over_200_basic_items_with_unique_codes():
    specs = demo.basic_specs()
    assert len(specs) >= 200
    assert len({s.code for s in specs}) == len(specs)
    assert all(s.materials for s in specs)


def test_demo_build_is_idempotent(places):
    first = demo.build(cities=1, kinds=KINDS)
    counts = (
        ServiceItem.objects.count(),
        Material.objects.count(),
        LifeEvent.objects.count(),
        Theme.objects.count(),
        Synonym.objects.count(),
    )
    assert first["items_created"] == counts[0] > 0
    second = demo.build(cities=1, kinds=KINDS)
    assert second["items_created"] == 0 and second["bundles_created"] == 0
    assert (
        ServiceItem.objects.count(),
        Material.objects.count(),
        LifeEvent.objects.count(),
        Theme.objects.count(),
        Synonym.objects.count(),
    ) == counts
    assert AuditEntry.objects.filter(event="catalog:demo:load").count() == 1


def test_demo_items_have_complete_elements_and_implementation_lists(places):
    demo.build(cities=1, kinds=KINDS)
    assert Theme.objects.count() >= 12 and LifeEvent.objects.count() >= 10
    implementation = ServiceItem.objects.filter(basic_item__isnull=False, region__code="610100").first()
    assert implementation.code == f"{implementation.basic_item.code}-610100"
    assert implementation.level == "city" and implementation.department.region == implementation.region
    for item in ServiceItem.objects.all()[:50]:
        assert "《" in item.legal_basis
        assert item.conditions and item.process_steps and item.consult_phone and item.complaint_phone
        assert item.promised_limit_days <= item.statutory_limit_days
        assert item.materials.exists() and item.address and item.hours and item.channels
    assert Material.objects.filter(licence_replaceable=True).exists()
    counties = ServiceItem.objects.filter(level="county")
    assert (
        counties.exists()
        and not counties.exclude(department__code__regex=r"-(" + "|".join(KINDS) + ")$").exists()
    )


def test_demo_needs_the_identity_demo_first(db):
    with pytest.raises(RuntimeError, match="identity demo"):
        demo.build()
