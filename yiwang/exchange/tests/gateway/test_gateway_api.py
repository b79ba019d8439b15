"""The gateway's API (GET/POST /api/exchange/resources/{code}/query): API-key authentication,
answers, and every refusal in the platform's one error shape with its status."""

import datetime as dt
import json
import time

import httpx
import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from yiwang.core.api import ERROR_SCHEMA
from yiwang.exchange import credentials, upstream
from yiwang.exchange.models import ApiCredential, CallLog, CallOutcome, Channel
from yiwang.exchange.tests.gateway.world import LI, make_grant, short_deadline

pytestmark = pytest.mark.django_db
URL = "/api/exchange/resources/A01001/query"


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def refusal(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    if status != 422:  # the platform's validation answers 422 before the gateway runs
        assert response["Cache-Control"].startswith("no-store")
    return body


def test_a_system_with_a_key_queries_granted_fields(grant_x, key_x):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        URL,
        {"purpose": "登记核验", "fields": "name,household_region", "sort": "-household_region", "limit": 2},
        **bearer(key_x),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fields"] == ["name", "household_region"] and body["masked_fields"] == ["name"]
    assert body["total"] == 3 and body["limit"] == 2 and len(body["rows"]) == 2
    assert body["rows"][0]["household_region"] == "610113" and body["rows"][0]["name"].endswith("*")
    assert body["provider"] == {"code": "610000-GAT", "name": "陕西省公安厅"} and body["grant"] == grant_x.pk
    assert "no-store" in response["Cache-Control"]
    log = CallLog.objects.get(pk=body["call"])
    assert (
        log.channel == Channel.API and log.credential.prefix == key_x[:13] and log.outcome == CallOutcome.OK
    )


def test_the_x_api_key_header_works_too_and_post_takes_json(grant_x, key_x):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        URL,
        json.dumps(
            {"purpose": "登记核验", "fields": ["residence_since"], "filters": {"id_number": LI["id_number"]}}
        ),
        content_type="application/json",
        HTTP_X_API_KEY=key_x,
    )
    assert response.status_code == 200, response.content
    assert response.json()["rows"] == [{"residence_since": "2020-09-01"}]


def test_filters_in_a_get_are_a_json_object(grant_x, key_x):
    filters = json.dumps({"household_region": ["610113"]})
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        URL, {"purpose": "p", "filters": filters}, **bearer(key_x)
    )
    assert response.status_code == 200 and response.json()["total"] == 2
    body = refusal(
        Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"purpose": "p", "filters": "{nope"}, **bearer(key_x)), 400
    )
    assert body["errors"][0]["field"] == "filters"


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "X-API-Key"),
        ({"HTTP_AUTHORIZATION": "Bearer hello"}, "not an API key"),
        ({"HTTP_X_API_KEY": "yw_aaaaaaaaaa_" + "b" * 43}, "not known"),
        ({"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="}, "X-API-Key"),
    ],
)
def test_calls_without_a_good_key_get_401(grant_x, headers, words):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"purpose": "p"}, **headers)
    body = refusal(response, 401)
    assert words in body["detail"] and response["WWW-Authenticate"].startswith("Bearer")
    assert not CallLog.objects.exists()  # nobody to record it against


def test_a_signed_in_official_without_a_key_gets_401(grant_x, login, official_x):
    refusal(login(official_x).get(URL, {"purpose": "p"}), 401)


def test_an_expired_key_gets_401_and_the_attempt_is_recorded(grant_x, key_x, department_x):
    ApiCredential.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    body = refusal(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"purpose": "p"}, **bearer(key_x)), 401)
    assert "expired" in body["detail"]
    log = CallLog.objects.get()
    assert (
        log.outcome == CallOutcome.DENIED and log.consumer == department_x and log.resource_code == "A01001"
    )


def test_a_revoked_key_gets_401(grant_x, key_x, steward_x):
    credentials.credential_revoke(credential=ApiCredential.objects.get(), actor=steward_x)
    assert (
        "revoked"
        in refusal(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"purpose": "p"}, **bearer(key_x)), 401)[
            "detail"
        ]
    )


def test_refusals_of_the_gateway_have_their_status(grant_x, key_x, population):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    body = refusal(client.get(URL, {"purpose": "p", "fields": "gender"}, **bearer(key_x)), 403)
    assert "gender" in body["detail"]
    body = refusal(client.get(URL, {"purpose": "p", "fields": "shoe_size"}, **bearer(key_x)), 422)
    assert body["errors"][0]["field"] == "fields"
    refusal(client.get("/api/exchange/resources/Z99999/query", {"purpose": "p"}, **bearer(key_x)), 404)
    body = refusal(client.get(URL, {"purpose": "p", "limit": "lots"}, **bearer(key_x)), 422)
    assert body["errors"][0]["field"] == "limit"
    body = refusal(client.get(URL, {"fields": "name"}, **bearer(key_x)), 422)
    assert body["errors"][0]["field"] == "purpose"
    body = refusal(
        client.get(URL, {"purpose": "p", "filters": '{"residence_since": "soon"}'}, **bearer(key_x)), 400
    )
    assert "residence_since" in body["detail"]


def test_a_department_without_a_grant_gets_403_saying_so(population, key_x):
    body = refusal(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"purpose": "p"}, **bearer(key_x)), 403)
    assert "holds no grant" in body["detail"]


def test_refusals_speak_the_callers_language(population, key_x):
    body = refusal(Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(URL, {"purpose": "p"}, **bearer(key_x)), 403)
    assert "授权" in body["detail"]


def test_over_the_rate_limit_gets_429_with_retry_after(grant_x, key_x):
    grant_x.rate_limit_per_minute = 1
    grant_x.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(URL, {"purpose": "p"}, **bearer(key_x)).status_code == 200
    response = client.get(URL, {"purpose": "p"}, **bearer(key_x))
    refusal(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_an_upstream_timeout_is_a_504_and_a_failure_a_502(insurance, department_x, key_x):
    make_grant(insurance, department_x, ["insured"])
    short_deadline(insurance)
    url = "/api/exchange/resources/C03001/query"

    def slow(request):
        time.sleep(1)
        return httpx.Response(200, json={"rows": []})

    with upstream.use_transport(httpx.MockTransport(slow)):
        refusal(Client(HTTP_ACCEPT_LANGUAGE="en").get(url, {"purpose": "p"}, **bearer(key_x)), 504)
    with upstream.use_transport(httpx.MockTransport(lambda r: httpx.Response(503))):
        refusal(Client(HTTP_ACCEPT_LANGUAGE="en").get(url, {"purpose": "p"}, **bearer(key_x)), 502)
    outcomes = list(CallLog.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [CallOutcome.UPSTREAM_TIMEOUT, CallOutcome.UPSTREAM_ERROR]


def test_head_answers_as_get(grant_x, key_x):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").head(URL + "?purpose=p", **bearer(key_x))
    assert response.status_code == 200 and response.content == b""


def test_the_openapi_document_describes_the_key_and_the_refusals(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/exchange/resources/{code}/query"]["get"]
    assert {"400", "401", "403", "404", "422", "429", "502", "504"} <= set(operation["responses"])
    assert operation["security"]
    assert "X-API-Key" in json.dumps(schema["components"]["securitySchemes"])
