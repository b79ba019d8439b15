"""The in-browser modeler and form editor in a real browser (issue 9 §3, "done means"): a
department admin draws a process in the vendored bpmn-js, sets its steps' platform properties
in the panel and saves it; a citizen then applies and submits, and the officials with the roles
the admin chose complete the case through the workbench until it reaches its end. The form
editor builds a field in the list and saves the JSON Schema it writes.

Browser set-up comes from the core browser tests (skipped without Chromium unless
YIWANG_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from yiwang.applications import services
from yiwang.applications.models import Case, Process, Task
from yiwang.catalog.models import ServiceItem
from yiwang.conftest import force_sign_in
from yiwang.core.tests import test_browser as core
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations

from .conftest import PDF
from .test_browser import decide, sign_in, zh

browser, page = core.browser, core.page

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def admin_tab(browser, base: str, user):
    """A browser tab signed in as a department admin (session with the second factor passed,
    made by the test client: the TOTP door itself is tested in identity)."""
    client = force_sign_in(Client(), user)
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context, context.new_page()


DRAW = """() => {
  const m = window.yiwangModeler.bpmn;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling');
  const task = reg.get('Task_accept'), end = reg.get('EndEvent_1');
  modeling.removeElements([reg.get('Flow_2')]);
  modeling.moveElements([end], {x: 220, y: 0});
  const approval = modeling.appendShape(task, {type: 'bpmn:UserTask'}, {x: 500, y: 120});
  modeling.connect(approval, end);
  modeling.updateLabel(approval, '审批');
  return approval.id;
}"""


def test_an_admin_draws_a_process_in_the_browser_and_a_case_runs_through_it(
    live_server, browser, page, item, applicant_material, dept_admin, citizen, clerk_x, approver_x
):
    base = live_server.url
    refused: list[str] = []
    context, admin = admin_tab(browser, base, dept_admin)
    admin.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    off_site: list[str] = []
    admin.on("request", lambda r: None if r.url.startswith((base, "data:")) else off_site.append(r.url))

    # From the item's process page to the modeler, which opens on the platform's template.
    admin.goto(f"{base}/workbench/processes/{item.code}/")
    admin.locator(f'main a[href="/workbench/processes/{item.code}/modeler/"]').click()
    admin.wait_for_url(f"{base}/workbench/processes/{item.code}/modeler/")
    admin.locator('#bpmn-canvas [data-element-id="Task_accept"]').wait_for()
    assert admin.locator("#bpmn-canvas .bjs-powered-by").is_visible()  # the bpmn.io licence's watermark
    problems = {"modeler": axe_violations(admin)}

    # Draw a second step with the modeler's own API, then set its properties in the panel.
    new_id = admin.evaluate(DRAW)
    admin.locator("#panel-element").select_option(new_id)
    panel = admin.locator("#panel-body")
    panel.locator("select[name=role]").select_option("approver")
    panel.locator("select[name=status]").select_option("in_review")
    panel.locator("input[name=decisions][value=approve]").check()
    # Its English name, in its own field: the step's name becomes "审批 | Approval".
    assert panel.locator("input[name=name_zh]").input_value() == "审批"
    panel.locator("input[name=name_en]").fill("Approval")
    panel.locator("input[name=name_en]").press("Tab")
    assert (
        admin.evaluate(
            f"window.yiwangModeler.bpmn.get('elementRegistry').get('{new_id}').businessObject.name"
        )
        == "审批 | Approval"
    )
    # The process as a whole takes an English name the same way.
    admin.locator("#panel-element").select_option("Process_1")
    panel.locator("input[name=name_en]").fill("Two-step licence")
    panel.locator("input[name=name_en]").press("Tab")
    # A sequence flow offers its condition, with the names a condition can use.
    admin.locator("#panel-element").select_option("Flow_1")
    condition = panel.locator("input[name=condition]")
    hint = admin.locator("#" + condition.get_attribute("aria-describedby"))
    assert "decision" in hint.inner_text() and "phone" in hint.inner_text()
    # The first step, chosen by clicking it in the diagram: the panel shows the template's role.
    admin.locator('#bpmn-canvas [data-element-id="Task_accept"]').click()
    assert admin.locator("#panel-body select[name=role]").input_value() == "clerk"
    problems["modeler with a step selected"] = axe_violations(admin)

    # A decision table can be added (dmn-js draws it under the same policy) and removed again.
    assert admin.locator("#dmn-remove").is_hidden()
    admin.locator("#dmn-add").click()
    admin.locator('#dmn-canvas [data-element-id="decision_1"]').wait_for()
    admin.locator("#dmn-canvas .drill-down-overlay").first.click()  # open the table itself
    admin.locator("#dmn-canvas .tjs-table").wait_for()
    problems["modeler with a decision table"] = axe_violations(admin)
    admin.locator("#dmn-remove").click()
    assert admin.locator("#dmn-canvas").is_hidden() and admin.locator("#dmn-add").is_visible()

    admin.locator("#id_name").fill("两步流程")
    admin.locator("#modeler-form button[type=submit]").click()
    admin.wait_for_url(f"{base}/workbench/processes/{item.code}/modeler/")
    assert admin.locator(".messages").inner_text() == zh("Process version %(v)s is now in use.") % {"v": 1}
    process = Process.objects.get(item=item, is_active=True)
    assert process.name == "两步流程" and 'value="approver"' in process.bpmn
    assert (
        'name="审批 | Approval"' in process.bpmn and f'name="{item.name} | Two-step licence"' in process.bpmn
    )
    admin.locator('#bpmn-canvas [data-element-id="Task_accept"]').wait_for()  # the saved diagram reopens
    assert admin.locator(f'#bpmn-canvas [data-element-id="{new_id}"]').count() == 1
    # Read back, the step's name shows in its two parts.
    admin.locator("#panel-element").select_option(new_id)
    assert admin.locator("#panel-body input[name=name_zh]").input_value() == "审批"
    assert admin.locator("#panel-body input[name=name_en]").input_value() == "Approval"
    context.close()

    # A citizen applies and submits.
    sign_in(page, base, "citizen")
    page.goto(f"{base}/apply/{item.code}/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/cases/draft-\d+/edit/$"))
    page.locator("#f-phone").fill("13912345678")
    page.locator("#f-address").fill("西安市新城区解放路1号")
    page.locator("#f-purpose").fill("开办餐馆")
    page.locator("button[name=save]:not([aria-hidden])").click()
    page.wait_for_load_state()
    page.locator("select[name=material]").select_option(str(applicant_material.pk))
    page.locator("input[name=file]").set_input_files(
        {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("button[formaction$='/materials/']").click()
    page.wait_for_load_state()
    page.locator("button[name=submit]").click()
    page.wait_for_url(re.compile(r"/cases/610100-\d{8}-\d{6}/(#.*)?$"))
    case = Case.objects.get(applicant=citizen)
    assert case.process == process and case.status == Case.Status.SUBMITTED

    # The officials with the roles drawn in the modeler see their tasks and complete them.
    steps = (("clerk_x", "accept", "complete"), ("approver_x", "approve", "approve"))
    for username, queue, decision in steps:
        colleague = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
        tab = colleague.new_page()
        sign_in(tab, base, username)
        if username == "approver_x":  # the case page in Chinese names the open step in Chinese
            tab.goto(f"{base}/workbench/cases/{case.number}/")
            assert tab.locator("main a.button", has_text="审批").count() == 1
            assert "Approval" not in tab.locator("main").inner_text()
        decide(tab, base, queue, case.number, decision)
        colleague.close()
        if username == "clerk_x":  # the case page in English names the open step in English
            english = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
            tab = english.new_page()
            sign_in(tab, base, "approver_x")
            tab.goto(f"{base}/workbench/cases/{case.number}/")
            assert tab.locator("main a.button", has_text="Approval").count() == 1
            assert "审批" not in tab.locator("main").inner_text()
            english.close()
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert list(Task.objects.filter(case=case).values_list("role", "decision")) == [
        ("clerk", "complete"),
        ("approver", "approve"),
    ]
    page.goto(f"{base}/cases/{case.number}/")
    assert zh(Case.Status.COMPLETED.label) in page.locator("main dl").inner_text()

    assert {where: found for where, found in problems.items() if found} == {}
    assert refused == [] and off_site == []


def test_an_admin_builds_the_form_field_by_field_and_saves_it(live_server, browser, item, dept_admin):
    base = live_server.url
    context, admin = admin_tab(browser, base, dept_admin)
    admin.goto(f"{base}/workbench/processes/{item.code}/form/")
    fields = admin.locator("#editor-fields > li")
    assert fields.count() == 6  # the default form, with its labels in both languages
    assert fields.nth(0).locator("[data-key=title]").input_value() == zh("Applicant name")
    assert fields.nth(0).locator("[data-key=x-title-en]").input_value() == "Applicant name"
    problems = {"form editor": axe_violations(admin)}

    # Remove the preferred date, add a choice bound to nothing and a number bound to the age.
    fields.nth(5).locator("[data-action=remove]").click()
    admin.locator("#editor-add").click()
    new = fields.nth(5)
    new.locator("[data-key=name]").fill("shop_kind")
    new.locator("[data-key=title]").fill("店铺类型")
    new.locator("[data-key=x-title-en]").fill("Kind of shop")
    new.locator("[data-key=type]").select_option("choice")
    new = fields.nth(5)  # re-rendered for the new type
    new.locator("[data-key=enum]").fill("food | 餐饮 | Food\nretail | 零售 | Retail")
    new.locator("[data-key=description]").fill("按营业执照填写")
    new.locator("[data-key=required]").check()
    admin.locator("#editor-add").click()
    age = fields.nth(6)
    age.locator("[data-key=name]").fill("age")
    age.locator("[data-key=title]").fill("年龄")
    age.locator("[data-key=type]").select_option("integer")
    fields.nth(6).locator("[data-key=x-source]").select_option("person.age")
    fields.nth(6).locator("[data-action=up]").click()  # the age before the shop kind
    assert admin.evaluate("document.activeElement.dataset.action") == "up"  # focus follows the moved field
    problems["form editor with new fields"] = axe_violations(admin)

    admin.locator("#editor-form button[type=submit]").click()
    admin.wait_for_url(f"{base}/workbench/processes/{item.code}/form/")
    schema = services.form_schema(ServiceItem.objects.get(pk=item.pk))
    assert list(schema["properties"])[-2:] == ["age", "shop_kind"]
    assert schema["properties"]["shop_kind"] == {
        "type": "string",
        "title": "店铺类型",
        "x-title-en": "Kind of shop",
        "enum": ["food", "retail"],
        "x-enum-titles": ["餐饮", "零售"],
        "x-enum-titles-en": ["Food", "Retail"],
        "description": "按营业执照填写",
    }
    assert schema["properties"]["age"] == {"type": "integer", "title": "年龄", "x-source": "person.age"}
    assert "shop_kind" in schema["required"] and "preferred_date" not in schema["properties"]

    # The raw JSON is for experts: a refused schema comes back with the service's message.
    admin.locator("#id_s-schema").fill('{"type": "object", "properties": {"Bad Name": {"type": "string"}}}')
    assert admin.locator("#editor-json-problem").is_hidden()
    admin.locator("#editor-form button[type=submit]").click()
    admin.wait_for_load_state()
    summary = admin.locator(".error-summary")
    assert summary.is_visible() and "Bad Name" in summary.inner_text()
    assert services.form_schema(ServiceItem.objects.get(pk=item.pk)) == schema  # nothing saved is lost
    context.close()
    assert {where: found for where, found in problems.items() if found} == {}
