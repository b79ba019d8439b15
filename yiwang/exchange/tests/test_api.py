import datetime as dt
import json

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.conftest import PERSONA_PASSWORD
from yiwang.core.api import ERROR_SCHEMA
from yiwang.exchange.models import AccessRequest, DataResource, Grant, ResourceRow
from yiwang.exchange.tests.conftest import POPULATION_FIELDS, resource_data

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, json.dumps(data, default=str), content_type="application/json")


def refused(response, status):
    assert response.status_code == status, response.content
    jsonschema.validate(response.json(), ERROR_SCHEMA)
    return response.json()


def test_catalog_needs_an_official(login, citizen, population):
    refused(login(None).get("/api/exchange/resources"), 401)
    refused(login(citizen).get("/api/exchange/resources"), 403)


def test_list_search_and_show(login, official_x, population, open_resource):
    client = login(official_x)
    body = client.get("/api/exchange/resources").json()
    assert body["count"] == 2
    body = client.get("/api/exchange/resources", {"q": "居住"}).json()
    assert [r["code"] for r in body["results"]] == ["A01001"]
    shown = client.get("/api/exchange/resources/A01001").json()
    assert shown["share_class"] == "conditional" and shown["fields"][0]["personal"] == "id_number"
    refused(client.get("/api/exchange/resources/Z99999"), 404)


def test_drafts_are_seen_only_by_their_stewards(login, official_x, steward, gat):
    client = login(steward)
    data = resource_data() | {"provider": gat.code, "fields": POPULATION_FIELDS}
    response = post(client, "/api/exchange/resources", data)
    assert response.status_code == 201 and response.json()["state"] == "draft"
    refused(login(official_x).get("/api/exchange/resources/A01001"), 404)
    assert client.post("/api/exchange/resources/A01001/publish").json()["state"] == "published"
    assert login(official_x).get("/api/exchange/resources/A01001").status_code == 200


def test_register_refusals_name_the_fields(login, steward, official_x, gat):
    data = resource_data(share_conditions="") | {"provider": gat.code, "fields": POPULATION_FIELDS}
    body = refused(post(login(steward), "/api/exchange/resources", data), 422)
    assert "share_conditions" in {e["field"] for e in body["errors"]}
    refused(
        post(
            login(official_x),
            "/api/exchange/resources",
            resource_data() | {"provider": gat.code, "fields": POPULATION_FIELDS},
        ),
        403,
    )
    assert not DataResource.objects.exists()


def test_load_rows_and_bad_cells(login, steward, official_x, population):
    client = login(steward)
    good = (
        "id_number,name,household_region,residence_since,years\n"
        "610113199005171310,张三,610113,2015-03-01,10\n"
    )
    response = client.post(
        "/api/exchange/resources/A01001/rows",
        {"file": SimpleUploadedFile("p.csv", good.encode(), content_type="text/csv")},
    )
    assert response.json() == {"code": "A01001", "rows": 1}
    bad = good.replace("10\n", "x\n")
    body = refused(
        client.post(
            "/api/exchange/resources/A01001/rows", {"file": SimpleUploadedFile("p.csv", bad.encode())}
        ),
        422,
    )
    assert body["errors"][0]["field"] == "line 2, column E"
    assert ResourceRow.objects.count() == 1
    refused(
        login(official_x).post(
            "/api/exchange/resources/A01001/rows", {"file": SimpleUploadedFile("p.csv", good.encode())}
        ),
        404,
    )


def test_request_decide_and_grants(login, official_x, steward, population, open_resource, department_x):
    until = timezone.localdate() + dt.timedelta(days=30)
    client = login(official_x)
    response = post(
        client,
        "/api/exchange/requests",
        {"resource": "C01002", "fields": ["station"], "purpose": "核对派出所地址", "valid_until": until},
    )
    assert response.status_code == 201 and response.json()["state"] == "approved" and response.json()["grant"]
    response = post(
        client,
        "/api/exchange/requests",
        {"resource": "A01001", "fields": ["years"], "purpose": "核验居住年限", "valid_until": until},
    )
    req = response.json()
    assert req["state"] == "pending" and req["grant"] is None
    refused(post(client, f"/api/exchange/requests/{req['id']}/decide", {"approve": True}), 404)
    stew = login(steward)
    assert [
        r["id"] for r in stew.get("/api/exchange/requests", {"direction": "in", "state": "pending"}).json()
    ] == [req["id"]]
    refused(post(stew, f"/api/exchange/requests/{req['id']}/decide", {"approve": False}), 422)
    again = {"approve": True, "password": PERSONA_PASSWORD}
    decided = post(stew, f"/api/exchange/requests/{req['id']}/decide", again).json()
    assert decided["state"] == "approved" and decided["grant"]
    refused(post(stew, f"/api/exchange/requests/{req['id']}/decide", again), 409)
    grants = client.get("/api/exchange/grants", {"in_force": "true"}).json()
    assert {g["resource"] for g in grants} == {"A01001", "C01002"}
    grant_id = decided["grant"]
    refused(post(client, f"/api/exchange/grants/{grant_id}/revoke", {"reason": "x"}), 404)
    revoked = post(
        stew, f"/api/exchange/grants/{grant_id}/revoke", {"reason": "用途结束", "password": PERSONA_PASSWORD}
    ).json()
    assert revoked["in_force"] is False and revoked["revoke_reason"] == "用途结束"


def test_request_refusals(login, official_x, population, steward, gat):
    client = login(official_x)
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    body = refused(
        post(
            client,
            "/api/exchange/requests",
            {"resource": "A01001", "fields": ["nope"], "purpose": "核验居住年限", "valid_until": until},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "fields"
    refused(
        post(
            client,
            "/api/exchange/requests",
            {"resource": "A01001", "fields": ["years"], "purpose": "核验", "valid_until": "soon"},
        ),
        422,
    )
    refused(
        post(
            client,
            "/api/exchange/requests",
            {"resource": "Z00000", "fields": ["years"], "purpose": "核验居住年限", "valid_until": until},
        ),
        404,
    )
    assert not AccessRequest.objects.exists() and not Grant.objects.exists()


def test_withdraw(login, official_x, official_y, population):
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    req = post(
        login(official_x),
        "/api/exchange/requests",
        {"resource": "A01001", "fields": ["years"], "purpose": "核验居住年限", "valid_until": until},
    ).json()
    refused(login(official_y).post(f"/api/exchange/requests/{req['id']}/withdraw"), 404)
    assert (
        login(official_x).post(f"/api/exchange/requests/{req['id']}/withdraw").json()["state"] == "withdrawn"
    )
    refused(login(official_x).post(f"/api/exchange/requests/{req['id']}/withdraw"), 409)


def test_demands_and_systems(login, official_x, steward, gat):
    client = login(official_x)
    response = post(
        client,
        "/api/exchange/demands",
        {"title": "申请人居住年限", "description": "登记需核验", "purpose": "个体工商户登记核验"},
    )
    assert response.status_code == 201
    assert [d["title"] for d in client.get("/api/exchange/demands").json()] == ["申请人居住年限"]
    system = {"department": gat.code, "code": "610000-GAT-RK01", "name": "人口信息管理系统"}
    refused(post(client, "/api/exchange/systems", system), 403)
    assert post(login(steward), "/api/exchange/systems", system).status_code == 201
    assert [s["code"] for s in client.get("/api/exchange/systems").json()] == ["610000-GAT-RK01"]


def test_change_a_resource_and_grant_directly(login, steward, official_x, population, department_x):
    stew = login(steward)
    response = stew.put(
        "/api/exchange/resources/A01001", json.dumps({"name": "人口库"}), content_type="application/json"
    )
    assert response.json()["name"] == "人口库" and response.json()["share_class"] == "conditional"
    body = refused(
        stew.put(
            "/api/exchange/resources/A01001",
            json.dumps({"open_class": "unconditional"}),
            content_type="application/json",
        ),
        422,
    )
    assert body["errors"][0]["field"] == "open_class"
    refused(
        login(official_x).put(
            "/api/exchange/resources/A01001", json.dumps({"name": "x"}), content_type="application/json"
        ),
        404,
    )
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    grant = {
        "resource": "A01001",
        "consumer": department_x.code,
        "fields": ["years"],
        "purpose": "秒批规则核验",
        "valid_until": until,
        "standing": True,
        "password": PERSONA_PASSWORD,
    }
    refused(post(login(official_x), "/api/exchange/grants", grant), 403)
    response = post(stew, "/api/exchange/grants", grant)
    assert response.status_code == 201 and response.json()["standing"] is True
    refused(post(stew, "/api/exchange/grants", grant | {"consumer": "NOPE"}), 422)


def test_granting_and_revoking_through_the_api_need_the_password_again(
    login, official_x, steward, population, department_x
):
    """As on the pages: approving a request, granting and revoking ask for the steward's password;
    a wrong one is a 422 on ``password`` with nothing changed, and after five wrong ones the
    account is refused (429 with Retry-After) even with the right one, so a stolen session cannot
    guess it."""
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    req = post(
        login(official_x),
        "/api/exchange/requests",
        {"resource": "A01001", "fields": ["years"], "purpose": "核验居住年限", "valid_until": until},
    ).json()
    stew = login(steward)
    decide = f"/api/exchange/requests/{req['id']}/decide"
    body = refused(post(stew, decide, {"approve": True}), 422)
    assert [e["field"] for e in body["errors"]] == ["password"]
    refused(post(stew, decide, {"approve": True, "password": "wrong"}), 422)
    assert AccessRequest.objects.get(pk=req["id"]).state == "pending"
    assert not Grant.objects.filter(resource__code="A01001").exists()
    grant = {"resource": "A01001", "consumer": department_x.code, "fields": ["years"], "purpose": "核验"}
    grant |= {"valid_until": until, "password": "wrong"}
    refused(post(stew, "/api/exchange/grants", grant), 422)
    assert not Grant.objects.filter(resource__code="A01001").exists()
    for _ in range(2):
        refused(post(stew, decide, {"approve": True, "password": "still wrong"}), 422)
    locked = post(stew, decide, {"approve": True, "password": PERSONA_PASSWORD})
    refused(locked, 429)
    assert int(locked["Retry-After"]) > 0
    assert AccessRequest.objects.get(pk=req["id"]).state == "pending"
