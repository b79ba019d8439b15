"""ckanapi.RemoteCKAN, the CKAN project's own client, reads the portal on a live server (data
committed, so it works on PostgreSQL too, where the server thread has its own connection)."""

import pytest

from yiwang.identity.models import Department, Region
from yiwang.opendata import demo


@pytest.fixture
def live_portal(transactional_db):
    province = Region.objects.create(code="610000", name="陕西省", level=Region.Level.PROVINCE)
    city = Region.objects.create(code="610100", name="西安市", level=Region.Level.CITY, parent=province)
    for code, name in (("STHJ", "生态环境局"), ("SJJ", "数据和政务服务局"), ("JTT", "交通运输局")):
        Department.objects.create(code=f"610100-{code}", name="西安市" + name, region=city)
    demo.build(regions=[("610100", "西安市", 1)])


def test_ckanapi_reads_the_portal_on_a_live_server(live_portal, live_server):
    import ckanapi

    with ckanapi.RemoteCKAN(live_server.url, user_agent="yiwang-test/1") as ckan:
        assert ckan.action.status_show()["api_version"] == 3
        found = ckan.action.package_search(q="空气质量", rows=3, **{"facet.field": ["organization"]})
        assert found["count"] == 1 and found["results"][0]["name"] == "610100-air-quality"
        assert found["facets"]["organization"] == {"610100-sthj": 1}
        package = ckan.action.package_show(id="610100-air-quality")
        rows = ckan.action.datastore_search(resource_id=package["resources"][0]["id"], limit=3)
        assert rows["total"] == 90 and len(rows["records"]) == 3
        assert "610100-sthj" in ckan.action.organization_list()
        assert "transport" in ckan.action.group_list()
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="no-such-dataset")
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.package_search(rows="many")
        conditional = ckan.action.package_show(id="610100-service-ratings")
        with pytest.raises(ckanapi.NotAuthorized):
            ckan.action.datastore_search(resource_id=conditional["resources"][0]["id"])
