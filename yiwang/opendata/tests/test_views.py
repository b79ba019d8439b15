"""The portal's pages: search with facets, a dataset with its preview, downloads in three
formats, organizations, themes, tags, statistics; applying for a dataset open on conditions,
the data steward's decision, the applicant's API key used with datastore_search."""

import csv
import io
import json
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from yiwang.audit.models import AuditEntry
from yiwang.core.tests.test_headers import _problems
from yiwang.identity.models import User
from yiwang.opendata.models import ApiKey, Application, Dataset

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_search_page_filters_by_facets_and_pages(portal):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = client.get("/data/", {"q": "公交"}).content.decode()
    assert "6 个数据集" in html or "6 datasets" in html
    narrowed = client.get("/data/", {"q": "公交", "organization": "610100-jtt"}).content.decode()
    assert "西安市公交线路信息" in narrowed and "铜川市公交线路信息" not in narrowed
    assert 'aria-current="true"' in narrowed
    everything = client.get("/data/", {"page": "3"})
    assert everything.status_code == 200 and "第 3 页" in everything.content.decode()
    odd = client.get("/data/", {"page": "x", "sort": "evil"})
    assert odd.status_code == 200


def test_every_portal_page_renders_without_inline_script(portal):
    client = signed_in("citizen")
    urls = [
        "/data/",
        "/data/datasets/610100-air-quality/",
        "/data/datasets/610000-service-ratings/",
        "/data/organizations/",
        "/data/organizations/610100-sthj/",
        "/data/themes/",
        "/data/themes/transport/",
        "/data/tags/",
        "/data/statistics/",
        "/data/account/",
        "/data/datasets/610000-service-volumes/apply/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert _problems(html) == [], url
        assert re.search(r'<html lang="', html), url
    for url in ("/data/datasets/nope/", "/data/organizations/nope/", "/data/themes/nope/"):
        assert client.get(url).status_code == 404


def test_an_open_dataset_shows_a_preview_and_counts_views(portal):
    before = Dataset.objects.get(name="610100-air-quality").view_count
    html = Client().get("/data/datasets/610100-air-quality/").content.decode()
    assert "<caption>" in html and html.count("<tr>") >= 20
    assert Dataset.objects.get(name="610100-air-quality").view_count == before + 1


def test_a_conditional_dataset_shows_no_rows_and_cannot_be_downloaded(portal):
    client = Client()
    html = client.get("/data/datasets/610000-service-ratings/").content.decode()
    assert "<caption>" not in html
    assert client.get("/data/datasets/610000-service-ratings/download/csv").status_code == 403


def test_downloads_in_csv_json_and_xlsx_hold_every_row(portal):
    client = Client()
    response = client.get("/data/datasets/610100-bus-lines/download/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["line_no", "start_stop", "end_stop", "stops", "fare"] and len(rows) == 41
    response = client.get("/data/datasets/610100-bus-lines/download/json")
    body = json.loads(b"".join(response.streaming_content))
    assert len(body["records"]) == 40 and body["fields"][0]["id"] == "line_no"
    response = client.get("/data/datasets/610100-bus-lines/download/xlsx")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows()) == 42  # names, labels, 40 rows
    assert client.get("/data/datasets/610100-bus-lines/download/pdf").status_code == 404
    assert Dataset.objects.get(name="610100-bus-lines").download_count == 3


def test_apply_then_steward_approves_then_a_key_reads_the_rows(portal):
    dataset = Dataset.objects.get(name="610000-enterprise-credit")
    citizen2 = signed_in("citizen2")
    bad = citizen2.post(f"/data/datasets/{dataset.name}/apply/", {"organization": "", "purpose": "短"})
    assert bad.status_code == 422 and not Application.objects.filter(dataset=dataset).exists()
    html = bad.content.decode()
    assert "od-organization" in html and "od-purpose" in html
    ok = citizen2.post(
        f"/data/datasets/{dataset.name}/apply/",
        {"organization": "演示研究所", "purpose": "研究企业信用分布的区域差异。"},
    )
    assert ok.status_code == 302
    application = Application.objects.get(dataset=dataset)
    again = citizen2.post(
        f"/data/datasets/{dataset.name}/apply/",
        {"organization": "演示研究所", "purpose": "研究企业信用分布的区域差异。"},
    )
    assert again.status_code == 302 and Application.objects.filter(dataset=dataset).count() == 1
    # 陕西省发展和改革委员会 has no steward in the demo; the data office's steward cannot decide it
    steward = signed_in("steward")
    assert application.pk not in [a.pk for a in steward.get("/workbench/open-data/").context["pending"]]
    assert (
        steward.post(
            "/workbench/open-data/", {"application": application.pk, "decision": "approve"}
        ).status_code
        == 404
    )
    assert signed_in("clerk").get("/workbench/open-data/").status_code == 403
    # the data office's own dataset: 张三's pending application, decided by the demo steward
    mine = Application.objects.get(applicant__username="citizen", dataset__name="610000-service-ratings")
    refused = steward.post(
        "/workbench/open-data/", {"application": mine.pk, "decision": "refuse", "reason": ""}
    )
    assert refused.status_code == 302
    mine.refresh_from_db()
    assert mine.state == Application.State.PENDING  # refusing needs a reason
    steward.post("/workbench/open-data/", {"application": mine.pk, "decision": "approve"})
    mine.refresh_from_db()
    assert mine.state == Application.State.APPROVED and mine.valid_until is not None
    assert AuditEntry.objects.filter(event="opendata:application:decide").count() >= 2
    citizen = signed_in("citizen")
    page = citizen.post("/data/account/", {"action": "create", "name": "论文脚本"})
    key = re.search(r"<code>(ywod_[^<]+)</code>", page.content.decode())[1]
    assert ApiKey.objects.get(user__username="citizen").key_hash != key  # only its digest is kept
    rid = str(mine.dataset.distributions.first().id)
    answered = Client().get("/api/3/action/datastore_search", {"resource_id": rid}, HTTP_X_CKAN_API_KEY=key)
    assert answered.status_code == 200 and answered.json()["result"]["total"] == 60
    assert "no-store" in page["Cache-Control"]


def test_a_key_needs_an_approved_application(portal):
    client = signed_in("elder")
    page = client.post("/data/account/", {"action": "create", "name": "x"})
    assert page.status_code == 200 and not ApiKey.objects.filter(user__username="elder").exists()


def test_signed_out_visitors_are_sent_to_sign_in(portal):
    client = Client()
    for url in ("/data/account/", "/data/datasets/610000-service-ratings/apply/", "/workbench/open-data/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login"), url


def test_the_steward_publishes_what_may_be_opened_and_sees_why_not_the_rest(portal):
    steward = signed_in("steward")
    html = steward.get("/workbench/open-data/").content.decode()
    assert "12345热线诉求分类统计" in html and "staff_name" in html  # the reason names the personal field
    refused = steward.post("/workbench/open-data/", {"action": "publish", "resource": "C89020"})
    assert refused.status_code == 302 and not Dataset.objects.filter(resource__code="C89020").exists()
    steward.post(
        "/workbench/open-data/", {"action": "publish", "resource": "C89010", "themes": ["government"]}
    )
    dataset = Dataset.objects.get(resource__code="C89010")
    assert dataset.name == "c89010" and Client().get("/data/datasets/c89010/").status_code == 200
    elsewhere = steward.post(
        "/workbench/open-data/", {"action": "withdraw", "dataset": "610100-schools", "reason": "x"}
    )
    assert elsewhere.status_code == 404  # 西安市教育局 is not under the steward's department
    steward.post("/workbench/open-data/", {"action": "withdraw", "dataset": "c89010", "reason": "更新"})
    assert Client().get("/data/datasets/c89010/").status_code == 404


def test_a_field_turned_personal_after_publishing_stops_every_answer(portal):
    from yiwang.exchange.models import ResourceField

    dataset = Dataset.objects.get(name="610200-parking-lots")
    ResourceField.objects.filter(resource=dataset.resource, name="name").update(personal="other")
    client = Client()
    assert client.get("/data/datasets/610200-parking-lots/").status_code == 403
    assert client.get("/data/datasets/610200-parking-lots/download/csv").status_code == 403
    rid = str(dataset.distributions.first().id)
    response = client.get("/api/3/action/datastore_search", {"resource_id": rid})
    assert response.status_code == 403 and response.json()["error"]["__type"] == "Authorization Error"
