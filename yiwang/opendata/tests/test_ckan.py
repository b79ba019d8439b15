"""The CKAN Action API v3: envelope, actions, error shapes, datastore_search through the
exchange's row query, keys for datasets open on conditions; and ckanapi.RemoteCKAN reading the
portal on a live server."""

import json

import pytest
from django.test import Client

from yiwang.identity.models import User
from yiwang.opendata import services
from yiwang.opendata.models import Dataset

pytestmark = pytest.mark.django_db


def call(action, method="get", version="3/", **params):
    client = Client()
    url = f"/api/{version}action/{action}"
    if method == "post":
        return client.post(url, json.dumps(params), content_type="application/json")
    return client.get(url, params)


def test_status_show_and_the_envelope(portal):
    response = call("status_show")
    body = response.json()
    assert response.status_code == 200 and body["success"] is True
    assert body["help"].endswith("/api/3/action/help_show?name=status_show")
    assert body["result"]["api_version"] == 3


def test_both_prefixes_and_get_and_post_answer_alike(portal):
    a = call("package_list").json()["result"]
    b = call("package_list", method="post", version="").json()["result"]
    assert a == b and len(a) >= 105 and "610100-bus-lines" in a


def test_package_search_q_fq_rows_start_sort_and_facets(portal):
    body = call(
        "package_search",
        q="公交",
        fq="res_format:CSV",
        rows=2,
        start=0,
        sort="name asc",
        **{"facet.field": json.dumps(["organization", "tags", "groups"])},
    ).json()["result"]
    assert body["count"] == 6  # bus lines and bus stops in three regions
    assert [r["name"] for r in body["results"]] == ["610000-bus-lines", "610000-bus-stops"]
    assert body["facets"]["groups"] == {"transport": 6}
    assert body["facets"]["tags"]["公交"] == 6
    page2 = call("package_search", q="公交", rows=2, start=2, sort="name asc").json()["result"]
    assert [r["name"] for r in page2["results"]] == ["610100-bus-lines", "610100-bus-stops"]
    only = call("package_search", fq='organization:610200-jtt tags:"公交"').json()["result"]
    assert only["count"] == 2
    assert {r["organization"]["name"] for r in only["results"]} == {"610200-jtt"}


def test_package_search_refuses_bad_parameters_with_a_validation_error(portal):
    for params in (
        {"rows": "x"},
        {"rows": 5000},
        {"sort": "nonsense"},
        {"fq": "secret:1"},
        {"facet.field": '["x"]'},
    ):
        response = call("package_search", **params)
        body = response.json()
        assert response.status_code == 409, params
        assert body["success"] is False and body["error"]["__type"] == "Validation Error"
        assert body["error"]["message"]


def test_package_show_organization_group_tag_and_resource(portal):
    package = call("package_show", id="610100-air-quality").json()["result"]
    assert package["organization"]["title"] == "西安市生态环境局"
    assert {r["format"] for r in package["resources"]} == {"CSV", "JSON", "XLSX"}
    assert call("package_show", id=package["id"]).json()["result"]["name"] == "610100-air-quality"
    resource = call("resource_show", id=package["resources"][0]["id"]).json()["result"]
    assert resource["package_id"] == package["id"] and resource["datastore_active"] is True
    orgs = call("organization_list", all_fields="true").json()["result"]
    assert any(o["name"] == "610100-sthj" and o["package_count"] == 3 for o in orgs)
    org = call("organization_show", id="610100-sthj", include_datasets="true").json()["result"]
    assert len(org["packages"]) == 3
    assert "transport" in call("group_list").json()["result"]
    group = call("group_show", id="transport").json()["result"]
    assert group["package_count"] == 12
    assert "空气质量" in call("tag_list").json()["result"]


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("package_show", {"id": "no-such-dataset"}),
        ("organization_show", {"id": "no-such-org"}),
        ("group_show", {"id": "nothing"}),
        ("resource_show", {"id": "00000000-0000-0000-0000-000000000000"}),
        ("datastore_search", {"resource_id": "not-a-uuid"}),
    ],
)
def test_what_does_not_exist_is_a_not_found_error(portal, action, params):
    response = call(action, **params)
    assert response.status_code == 404
    assert response.json()["error"]["__type"] == "Not Found Error"


def test_a_missing_id_is_a_validation_error_and_an_unknown_action_a_bad_request(portal):
    response = call("package_show")
    assert response.status_code == 409 and response.json()["error"]["id"]
    unknown = call("package_delete")
    assert unknown.status_code == 400 and unknown.json()["error"]["__type"] == "Bad request"
    broken = Client().post("/api/3/action/package_show", "{not json", content_type="application/json")
    assert broken.status_code == 400


def test_a_withdrawn_dataset_is_gone_from_every_action(portal):
    dataset = Dataset.objects.get(name="610200-libraries")
    services.dataset_withdraw(dataset=dataset, actor="system:test", reason="测试撤回")
    assert call("package_show", id="610200-libraries").status_code == 404
    assert "610200-libraries" not in call("package_list").json()["result"]
    resource = dataset.distributions.first()
    assert call("datastore_search", resource_id=str(resource.id)).status_code == 404


def _resource_id(name):
    return str(Dataset.objects.get(name=name).distributions.order_by("position").first().id)


def test_datastore_search_filters_q_sort_fields_and_paging(portal):
    rid = _resource_id("610100-air-quality")
    body = call("datastore_search", resource_id=rid, limit=5).json()["result"]
    assert body["total"] == 90 and len(body["records"]) == 5 and body["records"][0]["_id"] == 1
    assert [f["id"] for f in body["fields"]] == ["_id", "day", "station", "aqi", "pm25", "level"]
    good = call("datastore_search", resource_id=rid, filters=json.dumps({"level": "优"}), limit=1000).json()
    assert good["result"]["total"] == sum(1 for r in good["result"]["records"] if r["level"] == "优") > 0
    ordered = call("datastore_search", resource_id=rid, sort="aqi desc", fields="aqi", limit=10).json()[
        "result"
    ]
    values = [r["aqi"] for r in ordered["records"]]
    assert values == sorted(values, reverse=True) and set(ordered["records"][0]) == {"_id", "aqi"}
    text = call("datastore_search", resource_id=rid, q="纺织城", limit=1000).json()["result"]
    assert text["total"] > 0 and all(r["station"] == "纺织城" for r in text["records"])
    post = call(
        "datastore_search", method="post", resource_id=rid, filters={"level": ["优", "良"]}, offset=3, limit=2
    )
    assert post.json()["result"]["offset"] == 3


def test_datastore_search_counts_exactly_up_to_the_threshold_and_estimates_past_it(portal):
    rid = _resource_id("610100-air-quality")
    flt = json.dumps({"level": ["优", "良"]})

    def search(**extra):
        return call("datastore_search", resource_id=rid, filters=flt, limit=3, **extra).json()["result"]

    exact = search(total_estimation_threshold="")  # empty: always exact, as CKAN's null
    matching = exact["total"]
    assert exact["total_was_estimated"] is False and 10 < matching < 90
    assert search()["total"] == matching and search()["total_was_estimated"] is False  # default 10,000
    at = search(total_estimation_threshold=matching)
    assert (at["total"], at["total_was_estimated"]) == (matching, False)
    past = search(total_estimation_threshold=5)
    assert past["total_was_estimated"] is True
    assert 6 <= past["total"] <= 90  # never below the matches seen, never above the rows
    assert len(past["records"]) == 3
    posted = call(
        "datastore_search",
        method="post",
        resource_id=rid,
        filters={"level": ["优", "良"]},
        total_estimation_threshold=None,
    ).json()["result"]
    assert (posted["total"], posted["total_was_estimated"]) == (matching, False)


def test_datastore_search_leaves_the_total_out_when_none_is_asked_for(portal):
    body = call("datastore_search", resource_id=_resource_id("610100-air-quality"), include_total="false")
    result = body.json()["result"]
    assert "total" not in result and "total_was_estimated" not in result and len(result["records"]) == 90
    refused = call(
        "datastore_search", resource_id=_resource_id("610100-air-quality"), total_estimation_threshold=-1
    )
    assert refused.status_code == 409
    assert "total_estimation_threshold" in refused.json()["error"]


@pytest.mark.parametrize(
    "params",
    [
        {"filters": '{"nope": 1}'},
        {"filters": '{"aqi": "many"}'},
        {"limit": 5000},
        {"sort": "aqi sideways"},
        {"fields": "nope"},
    ],
)
def test_datastore_search_refuses_bad_queries_with_a_validation_error(portal, params):
    response = call("datastore_search", resource_id=_resource_id("610100-air-quality"), **params)
    assert response.status_code == 409, params
    assert response.json()["error"]["__type"] == "Validation Error"


def test_conditional_rows_need_the_key_of_an_approved_application(portal):
    dataset = Dataset.objects.get(name="610000-service-volumes")
    rid = _resource_id(dataset.name)
    refused = call("datastore_search", resource_id=rid)
    assert refused.status_code == 403 and refused.json()["error"]["__type"] == "Authorization Error"
    agent = User.objects.get(username="agent")  # the demo approved 王五's application
    _record, key = services.api_key_create(actor=agent, name="分析脚本")
    client = Client()
    answered = client.get("/api/3/action/datastore_search", {"resource_id": rid}, HTTP_AUTHORIZATION=key)
    assert answered.status_code == 200 and answered.json()["result"]["total"] == 60
    other = _resource_id("610000-service-ratings")  # applied for by 张三, not 王五
    assert (
        client.get(
            "/api/3/action/datastore_search", {"resource_id": other}, HTTP_AUTHORIZATION=key
        ).status_code
        == 403
    )
    wrong = key[:-2] + ("aa" if not key.endswith("aa") else "bb")
    assert (
        client.get(
            "/api/3/action/datastore_search", {"resource_id": rid}, HTTP_AUTHORIZATION=wrong
        ).status_code
        == 403
    )
    services.api_key_revoke(key=_record, actor=agent)
    assert (
        client.get("/api/3/action/datastore_search", {"resource_id": rid}, HTTP_AUTHORIZATION=key).status_code
        == 403
    )


# (A NUL character is refused for every route by the platform's middleware, before any view.)
WEIRD = [
    "",
    "x" * 5000,
    "-1",
    "1e9",
    "null",
    "[]",
    "{}",
    '{"a": {"b": 1}}',
    "true",
    "%00",
    "9" * 40,
]
NAMES = [
    "id",
    "q",
    "fq",
    "rows",
    "start",
    "sort",
    "facet.field",
    "limit",
    "offset",
    "filters",
    "fields",
    "all_fields",
]


@pytest.mark.parametrize(
    "action", sorted(ckan_actions := __import__("yiwang.opendata.ckan").opendata.ckan.ACTIONS)
)
def test_no_parameter_makes_any_action_fail_on_our_side(portal, action):
    rid = _resource_id("610100-air-quality")
    client = Client()
    for name in NAMES:
        for value in WEIRD:
            params = {"id": "610100-air-quality", "resource_id": rid, "name": "package_show", name: value}
            got = client.get(f"/api/3/action/{action}", params)
            assert got.status_code in (200, 400, 403, 404, 409), (action, name, value, got.status_code)
            assert got.json().get("success") is (got.status_code == 200), (name, value, got.content[:300])
        body = {"id": "610100-air-quality", "resource_id": rid, name: {"nested": [1, {"x": None}]}}
        got = client.post(f"/api/3/action/{action}", json.dumps(body), content_type="application/json")
        assert got.status_code in (200, 400, 403, 404, 409), (action, name, got.status_code)


def test_help_show_documents_each_action_and_package_show_takes_a_name(portal):
    assert "resource_id" in call("help_show", name="datastore_search").json()["result"]
    assert call("package_show", name="610100-air-quality").json()["result"]["name"] == "610100-air-quality"
