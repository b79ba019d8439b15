import pytest

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {
    "code",
    "name",
    "item_type",
    "department",
    "region",
    "online_depth",
    "promised_limit_days",
    "visits_needed",
    "url",
    "other_regions",  # added by issue 9 §4 (0 unless grouped)
}


def test_item_search_returns_the_documented_shape(client, catalog):
    response = client.get("/api/catalog/items", {"q": "社保转移", "page_size": 3})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "page", "page_size", "items", "relaxed"}
    assert body["page"] == 1 and body["page_size"] == 3 and body["count"] >= 3
    item = body["items"][0]
    assert set(item) == SUMMARY_KEYS
    assert set(item["department"]) == {"code", "name"}
    assert item["name"].startswith("基本养老保险关系转移接续")
    assert item["url"].endswith(f"/services/items/{item['code']}/")


def test_item_search_filters_by_department_and_theme(client, catalog):
    body = client.get(
        "/api/catalog/items", {"department": "610100-SCJG", "theme": "permits", "page_size": 50}
    ).json()
    assert body["count"] > 0
    assert all(i["department"]["code"] == "610100-SCJG" for i in body["items"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 51}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"department": "no-such"}, "department"),
        ({"theme": "no-such"}, "theme"),
        ({"region": "999999"}, "region"),
        ({"item_type": "magic"}, "item_type"),
        ({"audience": "aliens"}, "audience"),
        ({"q": "社" * 101}, "q"),
    ],
)
def test_bad_parameters_get_422_with_field_messages(client, places, params, field):
    response = client.get("/api/catalog/items", params)
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert field in [e["field"] for e in body["errors"]]
    assert all(e["message"] for e in body["errors"])


def test_errors_come_in_the_clients_language(client, places):
    body = client.get("/api/catalog/items", {"page_size": 99}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "页" in body["errors"][0]["message"]


@pytest.mark.parametrize("q", ['"', "*", "NEAR(", "社保)", "a:b", "'; DROP TABLE x; --"])
def test_fts_syntax_in_q_is_not_an_error(client, places, q):
    assert client.get("/api/catalog/items", {"q": q}).status_code == 200


def test_a_nul_character_in_q_is_refused_with_a_message(client, places):
    response = client.get("/api/catalog/items", {"q": "社保\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_item_detail_has_every_element_and_materials(client, catalog):
    code = client.get("/api/catalog/items", {"q": "食品经营许可"}).json()["items"][0]["code"]
    body = client.get(f"/api/catalog/items/{code}").json()
    for key in (
        "legal_basis",
        "conditions",
        "process_steps",
        "statutory_limit_days",
        "promised_limit_days",
        "fee_description",
        "is_free",
        "visits_needed",
        "online_depth",
        "channels",
        "consult_phone",
        "complaint_phone",
        "service_object",
        "address",
        "hours",
        "version",
        "aliases",
        "materials",
        "basic_item_code",
        "level",
    ):
        assert key in body, key
    assert body["materials"] and {"name", "licence_replaceable", "source", "form"} <= set(
        body["materials"][0]
    )
    assert body["process_steps"][0]["name"]


def test_unknown_codes_are_404_in_the_error_shape(client, places):
    for url in ("/api/catalog/items/nope", "/api/catalog/bundles/nope"):
        response = client.get(url)
        assert response.status_code == 404
        assert set(response.json()) == {"detail", "errors"}


def test_bundles_list_and_detail(client, catalog):
    bundles = client.get("/api/catalog/bundles").json()
    assert len(bundles) >= 10
    assert {"code", "name", "summary", "audience", "url"} == set(bundles[0])
    body = client.get("/api/catalog/bundles/open-restaurant").json()
    assert [e["order"] for e in body["items"]] == sorted(e["order"] for e in body["items"])
    names = [m["name"] for m in body["materials"]]
    assert len(names) == len(set(names))


def test_guide_returns_bundles_then_items(client, catalog):
    body = client.get("/api/catalog/guide", {"q": "我想开一家饭店"}).json()
    assert body["bundles"][0]["code"] == "open-restaurant"
    assert body["items"]


def test_guide_needs_words(client, places):
    for q in ("", "  ", "***"):
        response = client.get("/api/catalog/guide", {"q": q})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "q"
    assert client.get("/api/catalog/guide", {"q": "饭" * 101}).status_code == 422


def test_openapi_document_lists_the_catalog_endpoints(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/catalog/items", "/api/catalog/items/{code}", "/api/catalog/guide"} <= set(paths)


def test_item_search_groups_one_service_per_basic_item_nearest_first(client, catalog):
    plain = client.get("/api/catalog/items", {"q": "个体户注册", "page_size": 50}).json()
    grouped = client.get(
        "/api/catalog/items", {"q": "个体户注册", "group": "true", "near": "610100", "page_size": 50}
    ).json()
    assert grouped["count"] < plain["count"]
    first = grouped["items"][0]
    assert first["name"] == "个体工商户设立登记" and first["region"]["code"] == "610100"
    assert first["other_regions"] >= 1
    names = [i["name"] for i in grouped["items"]]
    assert len(names) == len(set(names)), "one item per service"


def test_item_search_relaxes_only_when_asked(client, catalog):
    strict = client.get("/api/catalog/items", {"q": "孩子 社保卡 补领"}).json()
    relaxed = client.get("/api/catalog/items", {"q": "孩子 社保卡 补领", "relax": "true"}).json()
    assert strict["count"] == 0 and not strict["relaxed"]
    assert relaxed["relaxed"] and relaxed["items"][0]["name"] == "社会保障卡补领"


def test_item_search_refuses_an_unknown_near_region(client, places):
    response = client.get("/api/catalog/items", {"q": "社保", "near": "999999"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "near"


def test_the_openapi_document_describes_the_search_parameters(client, places):
    schema = client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/catalog/items"]["get"]["parameters"]}
    assert {"near", "group", "relax"} <= set(params)
    assert "region" in params["near"]["schema"].get("description", "") + params["near"].get("description", "")
