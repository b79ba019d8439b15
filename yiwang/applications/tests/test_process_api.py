"""The process-version API for department admins (issue 9 §3): list, view with today's check,
download, upload and activate / roll back — through the same services, checks, messages and
audit entries as the version pages; refusals in the API's one error shape."""

from __future__ import annotations

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.applications import engine, schemaforms, services
from yiwang.applications.models import Process
from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_official, with_two_factor
from yiwang.core.api import ERROR_SCHEMA
from yiwang.identity.models import Role

from . import test_model_verification as verification_tests

# The versions tests' fixtures: an item whose form has an amount, and two versions of it.
amount_item = verification_tests.amount_item
two_versions = verification_tests.two_versions
diagram = verification_tests.diagram

pytestmark = pytest.mark.django_db

API = "/api/applications/items"


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="application/xml")


def refusal(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    return body


def test_an_admin_lists_views_and_downloads_versions(two_versions, dept_admin, login):
    first, second = two_versions
    client = login(dept_admin)
    listed = client.get(f"{API}/{first.item.code}/processes").json()
    assert [(v["version"], v["active"]) for v in listed] == [(2, True), (1, False)]
    assert listed[1]["created_by"] == "dept_admin" and listed[1]["key"] == first.key
    detail = client.get(f"{API}/{first.item.code}/processes/1", HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["verification"] == {"ok": True, "messages": []}
    assert "amount" in detail["fields"]
    assert {"id": "Task_review", "role": "reviewer"}.items() <= next(
        s for s in detail["steps"] if s["id"] == "Task_review"
    ).items()
    download = client.get(f"{API}/{first.item.code}/processes/1/bpmn")
    assert download.status_code == 200 and download.content == first.bpmn.encode()
    assert download["Content-Disposition"] == f'attachment; filename="{first.item.code}-v1.bpmn"'
    assert download["X-Content-Type-Options"] == "nosniff"
    for url in ("1/dmn", "1/exe", "3", "99999999999", "99999999999/bpmn"):
        refusal(client.get(f"{API}/{first.item.code}/processes/{url}"), 404)
    refusal(client.get(f"{API}/NO-SUCH-ITEM/processes"), 404)
    assert (
        refusal(client.get(f"{API}/{first.item.code}/processes/v1"), 422)["errors"][0]["field"] == "version"
    )


def test_the_check_of_a_version_follows_the_items_current_form(two_versions, dept_admin, login):
    first, _second = two_versions
    services.form_attach(actor=dept_admin, item=first.item, schema=schemaforms.DEFAULT_SCHEMA)  # no amount
    detail = login(dept_admin).get(f"{API}/{first.item.code}/processes/1", HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["verification"]["ok"] is False
    assert any("amount" in m for m in detail["verification"]["messages"])


def test_an_upload_is_checked_saved_and_audited_as_on_the_page(item, dept_admin, login):
    client = login(dept_admin)
    bpmn = (engine.PROCESSES_DIR / "default.bpmn").read_text()
    response = client.post(
        f"{API}/{item.code}/processes", {"bpmn": upload("p.bpmn", bpmn), "name": "标准流程"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["version"], body["name"], body["active"], body["verification"]["ok"]) == (
        1,
        "标准流程",
        True,
        True,
    )
    process = Process.objects.get(item=item)
    assert process.bpmn == bpmn and process.created_by == dept_admin
    entry = AuditEntry.objects.get(event="applications:process:attach")
    assert entry.data["version"] == 1 and entry.data["active"] is True
    # A second version kept aside, to be activated later.
    kept = client.post(
        f"{API}/{item.code}/processes", {"bpmn": upload("p.bpmn", bpmn), "activate": "false"}
    ).json()
    assert (kept["version"], kept["active"]) == (2, False)
    assert Process.objects.get(item=item, is_active=True).version == 1


def test_a_refused_model_is_a_400_with_the_pages_messages_and_saves_nothing(item, dept_admin, login):
    client = login(dept_admin)
    response = client.post(
        f"{API}/{item.code}/processes",
        {"bpmn": upload("d.bpmn", diagram("bpmnio_new_diagram.bpmn"))},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = refusal(response, 400)
    assert body["detail"] == "The process model was refused."
    assert any("only its start event StartEvent_1" in e["message"] for e in body["errors"])
    assert {e["field"] for e in body["errors"]} == {"bpmn"}
    chinese = refusal(
        client.post(
            f"{API}/{item.code}/processes",
            {"bpmn": upload("d.bpmn", diagram("bpmnio_plain_task.bpmn"))},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ),
        400,
    )
    assert "用户任务" in chinese["errors"][0]["message"]
    unreadable = refusal(
        client.post(f"{API}/{item.code}/processes", {"bpmn": upload("d.bpmn", "流程".encode("gbk"))}), 400
    )
    assert unreadable["errors"][0]["field"] == "bpmn"
    refusal(client.post(f"{API}/{item.code}/processes", {"name": "no file"}), 422)
    assert not Process.objects.filter(item=item).exists()
    assert not AuditEntry.objects.filter(event="applications:process:attach").exists()


def test_rolling_back_and_a_refused_activation(two_versions, dept_admin, login):
    first, second = two_versions
    client = login(dept_admin)
    code = first.item.code
    rolled = client.post(f"{API}/{code}/processes/1/activate")
    assert rolled.status_code == 200 and rolled.json()["active"] is True
    entry = AuditEntry.objects.get(event="applications:process:activate")
    assert entry.data == {"version": 1, "previous": 2, "rollback": True}
    assert client.post(f"{API}/{code}/processes/1/activate").status_code == 200  # in use: nothing changes
    assert AuditEntry.objects.filter(event="applications:process:activate").count() == 1
    # Version 1 reads `amount`; with a form without it, going back to it is refused.
    client.post(f"{API}/{code}/processes/2/activate")
    services.form_attach(actor=dept_admin, item=first.item, schema=schemaforms.DEFAULT_SCHEMA)
    body = refusal(client.post(f"{API}/{code}/processes/1/activate", HTTP_ACCEPT_LANGUAGE="en"), 400)
    assert any("amount" in e["message"] for e in body["errors"])
    assert Process.objects.get(item=first.item, is_active=True).version == 2
    refusal(client.post(f"{API}/{code}/processes/7/activate"), 404)


def test_only_the_items_department_admins_reach_its_versions(
    two_versions, login, department_y, citizen, official_x, superuser
):
    first, _second = two_versions
    code = first.item.code
    other_admin = with_two_factor(make_official("admin_y", department_y, [Role.ADMIN]))
    no_second_factor = make_official("admin_x2", first.item.department, [Role.ADMIN])
    bpmn = (engine.PROCESSES_DIR / "default.bpmn").read_text()

    def answers(client):
        return [
            client.get(f"{API}/{code}/processes").status_code,
            client.post(f"{API}/{code}/processes", {"bpmn": upload("p.bpmn", bpmn)}).status_code,
            client.get(f"{API}/{code}/processes/1").status_code,
            client.get(f"{API}/{code}/processes/1/bpmn").status_code,
            client.post(f"{API}/{code}/processes/1/activate").status_code,
        ]

    assert answers(login(None)) == [401] * 5
    for user in (citizen, official_x, no_second_factor):
        assert answers(login(user)) == [403] * 5, user
    assert answers(login(other_admin)) == [403, 403, 404, 404, 404]
    assert Process.objects.filter(item=first.item).count() == 2
    assert not AuditEntry.objects.filter(event="applications:process:activate").exists()
    assert answers(login(superuser)) == [200, 201, 200, 200, 200]


def test_a_process_with_its_decision_table_is_uploaded_and_downloaded(item, dept_admin, login):
    services.form_attach(actor=dept_admin, item=item, schema=verification_tests.stall_schema())
    client = login(dept_admin)
    bpmn, dmn = diagram("camunda7_instant.bpmn"), diagram("camunda7_instant.dmn")
    alone = refusal(
        client.post(
            f"{API}/{item.code}/processes", {"bpmn": upload("i.bpmn", bpmn)}, HTTP_ACCEPT_LANGUAGE="en"
        ),
        400,
    )
    assert "no DMN file" in alone["errors"][0]["message"]
    response = client.post(
        f"{API}/{item.code}/processes", {"bpmn": upload("i.bpmn", bpmn), "dmn": upload("i.dmn", dmn)}
    )
    assert response.status_code == 201 and response.json()["has_dmn"] is True
    assert "rules" in {s["kind"] for s in response.json()["steps"]}
    download = client.get(f"{API}/{item.code}/processes/1/dmn")
    assert download.status_code == 200 and download.content == dmn.encode()
    assert download["Content-Disposition"].endswith('-v1.dmn"')
