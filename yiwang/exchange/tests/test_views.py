import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.conftest import PERSONA_PASSWORD
from yiwang.exchange import services
from yiwang.exchange.models import AccessRequest, DataResource, Grant, RequestState

pytestmark = pytest.mark.django_db

FIELDS_TEXT = (
    "id_number | 公民身份号码 | Identity number | string | 3 | id_number\n"
    "name | 姓名 | Name | string | 3 | name\n"
    "years | 居住年限 | Years | integer | 2 |\n"
)


def register_form(**changes):
    data = {
        "provider": "610000-GAT",
        "code": "A01001",
        "name": "人口基础信息",
        "kind": "basic",
        "share_class": "conditional",
        "share_conditions": "用于政务服务",
        "open_class": "none",
        "update_frequency": "daily",
        "source_kind": "table",
        "key_field": "id_number",
        "fields_text": FIELDS_TEXT,
    }
    data.update(changes)
    return data


def test_pages_are_for_officials(login, citizen, official_x, population):
    assert login(None).get("/workbench/data/").status_code == 302
    assert login(citizen).get("/workbench/data/").status_code == 403
    page = login(official_x).get("/workbench/data/", {"q": "人口"})
    assert page.status_code == 200 and "A01001" in page.content.decode()
    assert "数据共享" in page.content.decode()  # the navigation link


def test_steward_registers_edits_and_publishes_through_the_pages(login, steward, gat):
    client = login(steward)
    response = client.post("/workbench/data/resources/new/", register_form(share_conditions=""))
    assert (
        response.status_code == 400
        and "有条件共享" in response.content.decode()
        or response.status_code == 400
    )
    assert not DataResource.objects.exists()
    response = client.post("/workbench/data/resources/new/", register_form(fields_text="broken line"))
    assert response.status_code == 400
    response = client.post("/workbench/data/resources/new/", register_form())
    assert response.status_code == 302
    resource = DataResource.objects.get(code="A01001")
    assert [f.name for f in resource.fields.all()] == ["id_number", "name", "years"]
    response = client.post("/workbench/data/resources/A01001/edit/", register_form(name="人口库"))
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.name == "人口库"
    assert client.post("/workbench/data/resources/A01001/", {"action": "publish"}).status_code == 302
    resource.refresh_from_db()
    assert resource.state == "published"


def test_load_rows_page_lists_the_cells_to_fix(login, steward, population):
    client = login(steward)
    bad = (
        "id_number,name,household_region,residence_since,years\n"
        "610113199005171310,张三,610113,2015-03-01,ten\n"
    )
    response = client.post(
        "/workbench/data/resources/A01001/rows/", {"file": SimpleUploadedFile("p.csv", bad.encode())}
    )
    assert response.status_code == 400 and "line 2, column E" in response.content.decode()
    good = bad.replace("ten", "10")
    response = client.post(
        "/workbench/data/resources/A01001/rows/", {"file": SimpleUploadedFile("p.csv", good.encode())}
    )
    assert response.status_code == 302
    population.refresh_from_db()
    assert population.row_count == 1


def test_request_decide_with_password_and_revoke(login, official_x, steward, population):
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    client = login(official_x)
    response = client.post(
        "/workbench/data/resources/A01001/request/",
        {"fields": ["years", "name"], "purpose": "核验居住年限", "valid_until": until},
    )
    assert response.status_code == 302
    req = AccessRequest.objects.get()
    assert req.state == RequestState.PENDING
    assert client.post(f"/workbench/data/requests/{req.pk}/", {"decision": "approve"}).status_code == 404
    stew = login(steward)
    assert str(req.pk) in stew.get("/workbench/data/requests/").content.decode()
    response = stew.post(
        f"/workbench/data/requests/{req.pk}/",
        {"decision": "approve", "password": "wrong", "unmasked_fields": ["name"]},
    )
    assert response.status_code == 400 and not Grant.objects.exists()
    response = stew.post(
        f"/workbench/data/requests/{req.pk}/",
        {"decision": "approve", "password": PERSONA_PASSWORD, "unmasked_fields": ["name"]},
    )
    assert response.status_code == 302
    grant = Grant.objects.get()
    assert grant.unmasked_fields == ["name"]
    assert (
        client.post(
            f"/workbench/data/grants/{grant.pk}/", {"reason": "x", "password": PERSONA_PASSWORD}
        ).status_code
        == 404
    )
    response = stew.post(
        f"/workbench/data/grants/{grant.pk}/", {"reason": "用途结束", "password": PERSONA_PASSWORD}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_withdraw_from_the_page(login, official_x, population, department_x):
    until = timezone.localdate() + dt.timedelta(days=30)
    req = services.access_request(
        actor=official_x,
        resource=population,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=until,
    )
    assert login(official_x).post(f"/workbench/data/requests/{req.pk}/", {"withdraw": "1"}).status_code == 302
    req.refresh_from_db()
    assert req.state == RequestState.WITHDRAWN


def test_inventories_pages(login, official_x, steward, population):
    client = login(official_x)
    response = client.post(
        "/workbench/data/demands/",
        {"title": "居住年限", "description": "登记核验", "purpose": "个体工商户登记"},
    )
    assert response.status_code == 302
    demand_url = response["Location"]
    response = client.post(demand_url, {"action": "match", "resource": "Z99999"})
    assert response.status_code == 400
    assert client.post(demand_url, {"action": "match", "resource": "a01001"}).status_code == 302
    assert "A01001" in client.get(demand_url).content.decode()
    assert client.post("/workbench/data/systems/", {"code": "S1", "name": "x"}).status_code == 403
    stew = login(steward)
    assert (
        stew.post("/workbench/data/systems/", {"code": "610000-GAT-RK01", "name": "人口系统"}).status_code
        == 302
    )
    assert "610000-GAT-RK01" in client.get("/workbench/data/systems/").content.decode()


def test_each_page_renders_what_it_is_for(login, official_x, steward, population, department_x, later):
    req = services.access_request(
        actor=official_x,
        resource=population,
        consumer=department_x,
        fields=["years"],
        purpose="核验居住年限",
        valid_until=later,
    )
    client = login(official_x)
    page = client.get("/workbench/data/resources/A01001/request/").content.decode()
    assert page.count('name="fields"') == 5 and 'type="date"' in page
    page = client.get("/workbench/data/resources/A01001/").content.decode()
    assert "居住年限" in page and "/workbench/data/resources/A01001/request/" in page
    assert "/edit/" not in page  # not the provider's steward
    page = login(steward).get(f"/workbench/data/requests/{req.pk}/").content.decode()
    assert 'name="decision"' in page and 'name="password"' in page
    page = login(steward).get("/workbench/data/resources/A01001/").content.decode()
    assert (
        "/workbench/data/resources/A01001/edit/" in page and "/workbench/data/resources/A01001/rows/" in page
    )
    page = login(steward).get("/workbench/data/resources/new/").content.decode()
    assert 'name="provider"' in page and 'name="fields_text"' in page


def test_a_steward_keeps_a_systems_entry_up_to_date(login, steward, official_x, gat):
    system = services.system_register(
        actor=steward, department=gat, code="610000-GAT-RK01", data={"name": "人口系统"}
    )
    url = f"/workbench/data/systems/{system.pk}/"
    assert 'name="network"' not in login(official_x).get(url).content.decode()
    assert login(official_x).post(url, {"name": "x"}).status_code == 404
    assert login(steward).post(url, {"name": "人口信息管理系统", "network": "政务外网"}).status_code == 302
    system.refresh_from_db()
    assert system.name == "人口信息管理系统" and not system.is_active  # the box was left unticked


def test_a_steward_grants_directly_with_the_password(
    login, steward, official_x, population, department_x, later
):
    url = "/workbench/data/resources/A01001/grant/"
    assert login(official_x).get(url).status_code == 404
    data = {
        "consumer": department_x.code,
        "fields": ["years", "name"],
        "unmasked_fields": ["name"],
        "purpose": "秒批规则核验",
        "valid_until": later.isoformat(),
        "standing": "on",
        "password": "wrong",
    }
    client = login(steward)
    assert client.post(url, data).status_code == 400 and not Grant.objects.exists()
    assert client.post(url, data | {"consumer": "NOPE", "password": PERSONA_PASSWORD}).status_code == 400
    assert client.post(url, data | {"password": PERSONA_PASSWORD}).status_code == 302
    grant = Grant.objects.get()
    assert grant.standing and grant.fields == ["name", "years"] and grant.unmasked_fields == ["name"]
