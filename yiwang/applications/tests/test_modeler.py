"""The in-browser modeler and form editor pages (issue 9 §3), through HTTP: who may open them,
that they save through the same services and checks as an upload, and that a refusal keeps the
admin's work on the page. The drawing itself is tested in test_modeler_browser.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from yiwang.applications import engine, modeler, schemaforms, services
from yiwang.applications.models import Process
from yiwang.audit.models import AuditEntry as Entry
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import make_official
from yiwang.identity.models import Role

pytestmark = pytest.mark.django_db

PROCESSES = Path(services.__file__).parent / "processes"


def modeler_url(item) -> str:
    return f"/workbench/processes/{item.code}/modeler/"


def editor_url(item) -> str:
    return f"/workbench/processes/{item.code}/form/"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def item_y(department_y):
    return make_item(
        code="610200-SCJG-XK-0001",
        name="铜川食品经营许可",
        department=department_y,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
    )


@pytest.mark.parametrize("url", [modeler_url, editor_url])
def test_only_admins_of_the_items_department_open_the_pages(
    url, login, item, item_y, dept_admin, official_x, citizen, department_x
):
    assert login(None).get(url(item)).status_code == 302  # to sign in
    assert login(citizen).get(url(item)).status_code == 403
    assert login(official_x).get(url(item)).status_code == 403  # clerk, reviewer, approver: not admin
    leader = make_official("leader_x", department_x, [Role.LEADER])
    assert login(leader).get(url(item)).status_code == 403
    assert login(dept_admin).get(url(item_y)).status_code == 403  # another department's item
    assert login(dept_admin).get(url(item)).status_code == 200
    assert login(dept_admin).get("/workbench/processes/no-such-item/modeler/").status_code == 404


def test_the_item_page_links_to_both_editors(login, item, dept_admin):
    page = text(login(dept_admin).get(f"/workbench/processes/{item.code}/"))
    assert modeler_url(item) in page and editor_url(item) in page


def test_a_new_process_starts_from_a_template_the_engine_accepts(login, item, dept_admin):
    page = text(login(dept_admin).get(modeler_url(item)))
    spec = engine.parse_process(modeler.new_diagram(item))
    assert spec.name == item.name
    assert escape("Task_accept") in page and "spiffworkflow:property" in page
    engine.parse_process(modeler.new_diagram(item), [modeler.new_decision_table()])  # the DMN template too


def test_the_panel_offers_the_engines_vocabularies(login, item, dept_admin):
    response = login(dept_admin).get(modeler_url(item), HTTP_ACCEPT_LANGUAGE="en")
    data = response.context["modeler_data"]["vocabulary"]
    assert [r["value"] for r in data["roles"]] == list(engine.ROLES)
    assert [s["value"] for s in data["statuses"]] == list(engine.STATUSES)
    assert [d["value"] for d in data["decisions"]] == list(engine.DECISIONS)
    assert [o["value"] for o in data["outcomes"]] == list(engine.OUTCOMES)
    assert 'id="modeler-data"' in text(response)  # json_script: no inline script
    names = response.context["modeler_data"]["names"]
    assert names == ["decision", *schemaforms.DEFAULT_SCHEMA["properties"]]


def test_the_modeler_page_allows_inline_styles_and_nothing_else_more(client, login, item, dept_admin):
    policy = login(dept_admin).get(modeler_url(item))["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy + ";"
    assert "unsafe-eval" not in policy
    other = login(dept_admin).get(editor_url(item))["Content-Security-Policy"]
    assert "unsafe-inline" not in other


def test_saving_from_the_modeler_attaches_a_new_version_through_the_service(login, item, dept_admin):
    client = login(dept_admin)
    bpmn = modeler.new_diagram(item)
    response = client.post(modeler_url(item), {"name": "画的流程", "bpmn": bpmn, "dmn": ""}, follow=True)
    assert response.status_code == 200
    process = Process.objects.get(item=item, is_active=True)
    assert process.version == 1 and process.name == "画的流程" and process.bpmn == bpmn.strip()
    assert Entry.objects.filter(event="applications:process:attach").count() == 1
    assert escape(_("Process version %(v)s is now in use.") % {"v": 1}) in text(response)
    # The modeler reopens on the version in use.
    assert escape("画的流程") in text(client.get(modeler_url(item)))


def test_a_refused_model_keeps_the_drawing_and_saves_nothing(login, item, dept_admin):
    bpmn = modeler.new_diagram(item).replace('value="clerk"', 'value="janitor"')
    response = login(dept_admin).post(
        modeler_url(item), {"name": "x", "bpmn": bpmn}, HTTP_ACCEPT_LANGUAGE="en"
    )
    page = text(response)
    assert response.status_code == 422
    assert "error-summary" in page and "Task_accept" in page and "janitor" in page
    assert escape(bpmn.strip()[:60]) in page  # the XML comes back into the page
    assert not Process.objects.exists()


def test_an_empty_or_broken_post_is_a_clear_422(login, item, dept_admin):
    client = login(dept_admin)
    assert client.post(modeler_url(item), {}).status_code == 422
    response = client.post(modeler_url(item), {"bpmn": "<not xml"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422 and "well-formed" in text(response)
    assert not Process.objects.exists()


def test_a_decision_table_is_saved_with_the_process(login, item, dept_admin):
    from yiwang.applications.demo import INSTANT_SCHEMA

    # The instant rules read the 秒批 form's fields: a process is checked against the item's form.
    # (The demo's binds them to government facts, which needs a standing grant: here, typed.)
    plain = {
        **INSTANT_SCHEMA,
        "properties": {
            name: {k: v for k, v in prop.items() if k != "x-fact"}
            for name, prop in INSTANT_SCHEMA["properties"].items()
        },
    }
    services.form_attach(actor=dept_admin, item=item, schema=plain)
    instant = (PROCESSES / "instant.bpmn").read_text(encoding="utf-8")
    dmn = (PROCESSES / "instant.dmn").read_text(encoding="utf-8")
    response = login(dept_admin).post(modeler_url(item), {"bpmn": instant, "dmn": dmn})
    assert response.status_code == 302
    assert Process.objects.get(item=item).dmn == dmn.strip()


# --- the form editor --------------------------------------------------------------------


def test_the_editor_starts_from_the_default_form_with_both_languages(item):
    schema = modeler.editable_schema(item)
    prop = schema["properties"]["applicant_name"]
    with translation.override("zh-hans"):
        assert prop["title"] == _("Applicant name")
    assert prop["x-title-en"] == "Applicant name" and prop["x-source"] == "person.name"
    schemaforms.check_schema(schema)
    assert (
        schemaforms.DEFAULT_SCHEMA["properties"]["applicant_name"]["title"] == "Applicant name"
    )  # untouched


def test_the_editor_lists_the_government_facts_and_types(login, item, dept_admin):
    data = login(dept_admin).get(editor_url(item)).context["editor_data"]
    assert [f["value"] for f in data["facts"]] == list(schemaforms.SOURCES)
    assert {f["value"]: f["type"] for f in data["facts"]}["person.age"] == "integer"
    assert "choice" in [t["value"] for t in data["types"]]


SCHEMA = {
    "type": "object",
    "properties": {
        "shop_kind": {
            "type": "string",
            "title": "店铺类型",
            "x-title-en": "Kind of shop",
            "description": "按营业执照填写",
            "x-description-en": "As on the business licence",
            "enum": ["food", "retail"],
            "x-enum-titles": ["餐饮", "零售"],
            "x-enum-titles-en": ["Food", "Retail"],
        }
    },
    "required": ["shop_kind"],
}


def test_saving_the_form_goes_through_form_attach(login, item, dept_admin):
    response = login(dept_admin).post(editor_url(item), {"s-schema": json.dumps(SCHEMA)})
    assert response.status_code == 302
    assert services.form_schema(ServiceItem.objects.get(pk=item.pk)) == SCHEMA
    assert Entry.objects.filter(event="applications:form:attach").count() == 1


def test_the_fields_keep_their_order_on_every_database(item, dept_admin):
    names = ["zeta", "a", "middle_name", "b"]
    schema = {"type": "object", "properties": {n: {"type": "string", "title": n} for n in names}}
    services.form_attach(actor=dept_admin, item=item, schema=schema)
    stored = ServiceItem.objects.get(pk=item.pk)  # read back from the database (jsonb sorts keys)
    assert list(services.form_schema(stored)["properties"]) == names
    assert services.form_schema(stored) == schema  # the order key is storage only
    assert [f.name for f in schemaforms.fields(services.form_schema(stored), {}, {})] == names


def test_a_refused_form_keeps_the_json_and_the_saved_form(login, item, dept_admin):
    services.form_attach(actor=dept_admin, item=item, schema=SCHEMA)
    bad = {"type": "object", "properties": {"shop_kind": {"type": "string", "title": "x", "x-title-en": 5}}}
    response = login(dept_admin).post(
        editor_url(item), {"s-schema": json.dumps(bad)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422 and "x-title-en" in text(response)
    assert services.form_schema(ServiceItem.objects.get(pk=item.pk)) == SCHEMA
    response = login(dept_admin).post(editor_url(item), {"s-schema": "{not json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422 and "not valid JSON" in text(response)


def test_english_readers_see_the_english_labels_and_others_the_chinese():
    with translation.override("en"):
        (field,) = schemaforms.fields(SCHEMA, {}, {})
        assert (field.label, field.hint) == ("Kind of shop", "As on the business licence")
        assert field.choices == [("food", "Food"), ("retail", "Retail")]
        assert schemaforms.validate(SCHEMA, {}) == {"shop_kind": "Choose Kind of shop."}
    with translation.override("zh-hans"):
        (field,) = schemaforms.fields(SCHEMA, {}, {})
        assert (field.label, field.hint) == ("店铺类型", "按营业执照填写")
        assert field.choices == [("food", "餐饮"), ("retail", "零售")]


def test_english_label_keys_are_checked():
    def problems(prop):
        try:
            schemaforms.check_schema({"type": "object", "properties": {"f": prop}})
        except schemaforms.SchemaError as exc:
            return exc.messages
        return []

    assert problems({"type": "string", "title": "x", "x-title-en": "X", "x-description-en": "Y"}) == []
    assert problems({"type": "string", "title": "x", "x-title-en": "X" * 201})
    assert problems({"type": "string", "title": "x", "x-description-en": ["no"]})
    assert problems({"type": "string", "title": "x", "enum": ["a"], "x-enum-titles-en": ["A", "B"]})
    assert problems({"type": "string", "title": "x", "x-enum-titles-en": ["A"]})  # without an enum
