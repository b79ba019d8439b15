"""Department admins draw an item's process and build its application form in the browser.

The process modeler is bpmn-js and dmn-js (vendored under static/applications/vendor, see its
README) with a small panel of the platform's own user-task properties; the form editor lists the
form's fields and writes the JSON Schema that ``schemaforms`` reads. Both pages only collect
what the admin drew or typed: saving goes through ``services.process_attach`` and
``services.form_attach``, the same checks as an upload, and a refused model or form comes back
with the service's messages and the admin's work still on the page.

The vocabularies the panel offers (roles, statuses, decisions, outcomes, government facts) are
read from the engine and ``schemaforms``, never written out here a second time.
"""

from __future__ import annotations

import copy
import json
from xml.sax.saxutils import quoteattr

from csp.decorators import csp_update
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yiwang.catalog.models import ServiceItem
from yiwang.identity.models import Role
from yiwang.identity.permissions import forbidden, has_role, require_role

from . import engine, schemaforms, services
from . import facts as app_facts
from .forms import ModelerForm, SchemaForm
from .models import DECISION_LABELS, Case, Process

# dmn-js writes inline style attributes through HTML templates (its bpmn.io watermark's
# position, the hidden element it measures label text with, decision-table column widths),
# which the site's style-src 'self' refuses: the watermark the licence requires would move into
# the page and the measuring element would show. So the modeler page, and only it, also allows
# inline styles. Scripts stay 'self' only: neither bpmn-js nor dmn-js needs eval or inline
# script (the page's test fails on any policy refusal).
MODELER_CSP = csp_update({"style-src": ["'unsafe-inline'"]})

APPLICANT_LABEL = gettext_lazy("Applicant (the case goes back to them)")


def _item_for_admin(request: HttpRequest, code: str) -> ServiceItem | None:
    """The item, when the user administers its department; None means "refuse"."""
    item = get_object_or_404(ServiceItem.objects.select_related("department"), code=code)
    if not has_role(request.user, "admin", item.department_id):
        return None
    return item


def _role_label(role: str) -> str:
    if role == "applicant":
        return str(APPLICANT_LABEL)
    return str(Role(role).label)


def vocabulary() -> dict:
    """What the properties panel offers, with labels in the reader's language: the engine's own
    lists (``engine.ROLES``, ``STATUSES``, ``DECISIONS``, ``OUTCOMES``)."""
    return {
        "roles": [{"value": r, "label": _role_label(r)} for r in engine.ROLES],
        "statuses": [{"value": s, "label": str(Case.Status(s).label)} for s in engine.STATUSES],
        "decisions": [{"value": d, "label": str(DECISION_LABELS.get(d, d))} for d in engine.DECISIONS],
        "outcomes": [{"value": o, "label": str(Case.Status(o).label)} for o in engine.OUTCOMES],
        "relax_property": "separation_of_duties",
        "relax_value": "relaxed",
    }


def new_diagram(item: ServiceItem) -> str:
    """The diagram a new process starts from, one the engine accepts: start → a user task for
    the acceptance clerk → end (completed), with its layout so the modeler can draw it."""
    names = {
        "process": quoteattr(item.name),
        "start": quoteattr(_("Application submitted")),
        "task": quoteattr(_("Acceptance and completion")),
        "end": quoteattr(_("Completed")),
    }
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:spiffworkflow="{engine.SPIFF_NS}" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_1" name={names["process"]} isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name={names["start"]}>
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Task_accept" name={names["task"]}>
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="role" value="clerk" />
          <spiffworkflow:property name="status" value="submitted" />
          <spiffworkflow:property name="decisions" value="complete" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" name={names["end"]}>
      <bpmn:incoming>Flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_accept" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_accept" targetRef="EndEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="152" y="102" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_accept_di" bpmnElement="Task_accept">
        <dc:Bounds x="250" y="80" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1">
        <dc:Bounds x="412" y="102" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="188" y="120" />
        <di:waypoint x="250" y="120" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="350" y="120" />
        <di:waypoint x="412" y="120" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def new_decision_table() -> str:
    """The decision table a new DMN starts from: one input, one output, one catch-all rule
    (cells are the engine's expressions, see docs/applications.md)."""
    names = {
        "decision": quoteattr(_("Instant approval rules")),
        "input": quoteattr(_("Input")),
        "output": quoteattr(_("Result")),
    }
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
    xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
    id="Definitions_dmn" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="decision_1" name={names["decision"]}>
    <decisionTable id="DecisionTable_1" hitPolicy="UNIQUE">
      <input id="Input_1" label={names["input"]}>
        <inputExpression id="InputExpression_1" typeRef="string">
          <text>applicant_name</text>
        </inputExpression>
      </input>
      <output id="Output_1" label={names["output"]} name="result" typeRef="string" />
      <rule id="Rule_1">
        <inputEntry id="InputEntry_1">
          <text>-</text>
        </inputEntry>
        <outputEntry id="OutputEntry_1">
          <text>"manual"</text>
        </outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_1">
      <dmndi:DMNShape id="DMNShape_1" dmnElementRef="decision_1">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def _modeler_text() -> dict:
    """The panel's own words, translated on the server (one catalogue for the whole site)."""
    return {
        "nothing": _("Select an element in the diagram, or choose it in the list above."),
        "process": _("The process as a whole"),
        "no_properties": _("This element has no platform properties. Its name can be changed here."),
        "name": _("Name shown in the diagram"),
        "name_zh": _("Name (Chinese)"),
        "name_en": _("Name (English)"),
        "name_en_hint": _("Shown to readers of the English pages; without it they see the Chinese name."),
        "role": _("Role (who does this step)"),
        "status": _("Case status while this step is open"),
        "decisions": _("Decisions the official may take"),
        "outcome": _("Outcome of the case at this end"),
        "condition": _('Condition (for example decision == "approve")'),
        "names": _("Names a condition can use: %(names)s"),
        "decision_ref": _("Decision table (DMN decision id)"),
        "relax": _("Relax separation of duties (one official may do several duties on a case)"),
        "choose": _("Choose…"),
        "import_failed": _("The diagram could not be opened: %(error)s"),
        "export_failed": _("The diagram could not be exported: %(error)s"),
        "loaded": _("The XML was loaded into the diagram."),
        "no_dmn": _("This process has no decision table."),
        "element": _("Element"),
        "user_task": _("User task"),
        "end_event": _("End event"),
        "rule_task": _("Business rule task"),
        "flow": _("Sequence flow"),
        "other": _("Element"),
    }


@require_role("admin")
@require_http_methods(["GET", "POST"])
@MODELER_CSP
def process_modeler(request: HttpRequest, code: str) -> HttpResponse:
    """Draw the item's process (BPMN, with an optional DMN decision table) and save it as a new
    version through ``services.process_attach``. Admins of the item's department only."""
    item = _item_for_admin(request, code)
    if item is None:
        return forbidden(request)
    active = Process.objects.filter(item=item, is_active=True).first()
    form = ModelerForm(
        initial={
            "name": active.name if active else item.name,
            "bpmn": active.bpmn if active else new_diagram(item),
            "dmn": active.dmn if active else "",
        }
    )
    status = 200
    if request.method == "POST":
        form = ModelerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                process = services.process_attach(
                    actor=request.user, item=item, bpmn=data["bpmn"], dmn=data["dmn"], name=data["name"]
                )
                messages.success(request, _("Process version %(v)s is now in use.") % {"v": process.version})
                return redirect("applications:process_modeler", code=item.code)
            except services.ApplicationError as exc:
                for field, message in exc.errors.items():
                    form.add_error(field if field in form.fields else None, message)
        status = 422
    return render(
        request,
        "applications/modeler.html",
        {
            "item": item,
            "active": active,
            "form": form,
            "modeler_data": {
                "vocabulary": vocabulary(),
                "text": _modeler_text(),
                "new_dmn": new_decision_table(),
                # What a condition may name: the decision just taken and the item's form fields.
                "names": ["decision", *schemaforms.field_names(services.form_schema(item))],
            },
        },
        status=status,
    )


# --- the form editor ---------------------------------------------------------------------------

FIELD_TYPES = (
    ("text", gettext_lazy("Text (one line)")),
    ("textarea", gettext_lazy("Text (several lines)")),
    ("integer", gettext_lazy("Whole number")),
    ("number", gettext_lazy("Number")),
    ("date", gettext_lazy("Date")),
    ("email", gettext_lazy("Email address")),
    ("boolean", gettext_lazy("Checkbox (yes or no)")),
    ("choice", gettext_lazy("Choice from a list")),
)


def editable_schema(item: ServiceItem) -> dict:
    """The item's form as the editor starts from it. The built-in default form's labels are
    message ids: they become the zh-Hans label and its English twin, so the admin edits words
    a reader sees, not ids."""
    schema = services.form_schema(item)
    if schema is not schemaforms.DEFAULT_SCHEMA:
        return schema
    schema = copy.deepcopy(schema)
    for prop in schema["properties"].values():
        for key, english in (("title", "x-title-en"), ("description", "x-description-en")):
            if key in prop:
                with translation.override("zh-hans"):
                    chinese = _(prop[key])
                prop[english], prop[key] = prop[key], chinese
    return schema


def _editor_text() -> dict:
    return {
        "field": _("Field %(n)s"),
        "name": _("Field name (letters, digits, _; used in conditions and rules)"),
        "type": _("Type"),
        "title": _("Label (Chinese)"),
        "title_en": _("Label (English)"),
        "hint": _("Hint (Chinese)"),
        "hint_en": _("Hint (English)"),
        "required": _("Required"),
        "source": _("Filled from government data"),
        "no_source": _("No: the applicant types it"),
        "unknown_fact": _("%(fact)s (not covered by a standing grant of your department now)"),
        "choices": _("Choices, one per line: value | Chinese label | English label"),
        "up": _("Move up"),
        "down": _("Move down"),
        "remove": _("Remove"),
        "bad_json": _("The JSON below cannot be read (%(error)s); the list shows its last readable version."),
        "not_object": _(
            'The JSON below is not an object with "properties"; the list shows its last readable version.'
        ),
        "moved": _("Field moved."),
        "removed": _("Field removed."),
        "added": _("Field added."),
    }


@require_role("admin")
@require_http_methods(["GET", "POST"])
def form_editor(request: HttpRequest, code: str) -> HttpResponse:
    """List, add, remove and reorder the application form's fields; the page writes the JSON
    Schema into the raw JSON field, which experts may also edit, and saving goes through
    ``services.form_attach``. Admins of the item's department only."""
    item = _item_for_admin(request, code)
    if item is None:
        return forbidden(request)
    form = SchemaForm(
        prefix="s", initial={"schema": json.dumps(editable_schema(item), ensure_ascii=False, indent=2)}
    )
    status = 200
    if request.method == "POST":
        form = SchemaForm(request.POST, prefix="s")
        if form.is_valid():
            try:
                services.form_attach(actor=request.user, item=item, schema=form.cleaned_data["schema"])
                messages.success(request, _("The application form was saved."))
                return redirect("applications:form_editor", code=item.code)
            except services.ApplicationError as exc:
                for message in exc.errors.values():
                    form.add_error("schema", message)
        status = 422
    facts = [
        {"value": key, "label": str(label), "type": schemaforms.SOURCE_TYPES.get(key, "string")}
        for key, label in schemaforms.SOURCES.items()
    ]
    facts += app_facts.binding_options(item.department)  # bound government facts (x-fact)
    return render(
        request,
        "applications/form_editor.html",
        {
            "item": item,
            "form": form,
            "editor_data": {
                "types": [{"value": v, "label": str(label)} for v, label in FIELD_TYPES],
                "facts": facts,
                "text": _editor_text(),
            },
        },
        status=status,
    )
