"""Open311 GeoReport v2: a request filed through the API reads back (round trip), in JSON and
XML, and malformed requests get the spec's errors."""

import json
from xml.etree import ElementTree as ET  # noqa: S405 — parses our own responses in tests

import pytest

from yiwang.exchange import credentials
from yiwang.feedback.models import Category, Item

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(department_x, rules):
    from yiwang.conftest import make_official
    from yiwang.identity.models import Role

    steward = make_official("steward_x", department_x, [Role.DATA_STEWARD])
    return credentials.credential_create(department=department_x, name="12345 app", actor=steward).key


REQUEST = {
    "service_code": "market",
    "lat": "34.265432",
    "long": "108.953210",
    "address_string": "新城区某某路12号",
    "description": "超市卖过期酸奶，我的电话13800001111",
    "first_name": "三",
    "last_name": "张",
    "phone": "13800001111",
    "email": "zhangsan@example.org",
    "jurisdiction_id": "610100",
}


def test_services_list_every_category_in_json_and_xml(client):
    services = client.get("/open311/v2/services.json").json()
    assert {s["service_code"] for s in services} == set(Category.values)
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)  # noqa: S314
    assert root.tag == "services" and len(root.findall("service")) == len(Category.values)


def test_a_service_definition_names_its_attribute(client):
    definition = client.get("/open311/v2/services/market.json").json()
    assert definition["service_code"] == "market"
    assert definition["attributes"][0]["code"] == "kind"
    root = ET.fromstring(client.get("/open311/v2/services/market.xml").content)  # noqa: S314
    assert root.find("attributes/attribute/values/value/key").text == "complaint"


def test_an_unknown_service_is_404_in_the_spec_error_format(client):
    response = client.get("/open311/v2/services/weather.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404 and response.json()[0]["description"]
    root = ET.fromstring(client.get("/open311/v2/services/weather.xml").content)  # noqa: S314
    assert root.tag == "errors" and root.find("error/code").text == "404"


def test_a_request_filed_through_the_api_reads_back_without_who_filed(client, api_key):
    response = client.post("/open311/v2/requests.json", {**REQUEST, "api_key": api_key})
    assert response.status_code == 200, response.content
    request_id = response.json()[0]["service_request_id"]
    item = Item.objects.get(number=request_id)
    assert item.source == "open311" and item.filer is None and item.contact_phone == "13800001111"
    one = client.get(f"/open311/v2/requests/{request_id}.json")
    assert one.status_code == 200
    [read] = one.json()
    assert read["service_request_id"] == request_id
    assert read["service_code"] == "market" and read["status"] == "open"
    assert read["lat"] == 34.27 and read["long"] == 108.95
    body = one.content.decode()
    for secret in ("13800001111", "zhangsan", "张", "某某路", "34.265432"):
        assert secret not in body
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)  # noqa: S314
    assert xml.find("request/service_request_id").text == request_id
    listed = client.get("/open311/v2/requests.json", {"service_request_id": request_id}).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert request_id in {r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()}


def test_a_request_filed_in_xml_answers_in_xml(client, api_key):
    response = client.post("/open311/v2/requests.xml", {**REQUEST, "api_key": api_key})
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == "service_requests" and root.find("request/service_request_id").text.startswith("FB")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "yw_notakey"}, 403),
        ({"service_code": ""}, 400),
        ({"service_code": "weather"}, 400),
        ({"lat": "", "long": "", "address_string": ""}, 400),
        ({"lat": "200", "address_string": ""}, 400),
        ({"description": ""}, 400),
        ({"jurisdiction_id": "999999"}, 400),
        ({"attribute[kind]": "praise"}, 400),
    ],
)
def test_malformed_requests_get_the_spec_errors_and_file_nothing(client, api_key, change, status):
    data = {**REQUEST, "api_key": api_key, **change}
    response = client.post("/open311/v2/requests.json", data)
    assert response.status_code == status
    errors = json.loads(response.content)
    assert errors[0]["code"] == status and errors[0]["description"]
    assert not Item.objects.exists()


def test_request_search_refuses_bad_parameters(client):
    assert client.get("/open311/v2/requests.json", {"status": "maybe"}).status_code == 400
    assert client.get("/open311/v2/requests.json", {"start_date": "yesterday"}).status_code == 400
    assert client.get("/open311/v2/requests.json", {"service_code": "weather"}).status_code == 400
    assert client.get("/open311/v2/requests/FB0.json").status_code == 404
    assert client.delete("/open311/v2/requests.json").status_code == 405
