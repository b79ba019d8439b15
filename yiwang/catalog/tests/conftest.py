"""Fixtures for the catalog tests: a small slice of the demo province and catalog."""

import pytest

from yiwang.catalog import demo, search
from yiwang.identity import demo_data
from yiwang.identity.models import Department, Region

# Kinds enough for the relevance tests and the bundles; one city with its counties.
KINDS = ["SCJG", "RST", "GAT", "ZRZY", "YBJ", "WJW", "SWJ", "XFJ", "GJJ", "MZT"]


def make_places(*, cities: int = 1, kinds=KINDS) -> dict[str, Region]:
    """The province, the first ``cities`` cities with their counties, and their departments."""
    province = Region.objects.create(code=demo_data.PROVINCE[0], name=demo_data.PROVINCE[1], level="province")
    regions = {province.code: province}
    for code, name, counties in demo_data.CITIES[:cities]:
        city = Region.objects.create(code=code, name=name, level="city", parent=province)
        regions[code] = city
        for county_code, county_name in counties:
            regions[county_code] = Region.objects.create(
                code=county_code, name=county_name, level="county", parent=city
            )
    departments = []
    for region in regions.values():
        for kind in kinds:
            if region.level == "county" and kind not in demo_data.COUNTY_KINDS:
                continue
            province_name, local_name = demo_data.DEPARTMENT_KINDS[kind]
            name = f"{region.name}{province_name if region.level == 'province' else local_name}"
            departments.append(Department(code=f"{region.code}-{kind}", name=name, region=region))
    Department.objects.bulk_create(departments)
    return regions


@pytest.fixture(scope="session", autouse=True)
def _jieba_once():
    search.ensure_jieba()


@pytest.fixture
def places(db):
    return make_places()


@pytest.fixture
def catalog(places):
    """A small demo catalog: ten department kinds, the province and 西安市 (not its districts)."""
    search.clear_caches()
    demo.build(cities=1, kinds=KINDS, counties=False)
    search.clear_caches()
    return places
